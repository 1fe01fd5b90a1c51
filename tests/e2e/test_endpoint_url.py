"""``--endpoint-url``: resolve and sync on a DynamoDB endpoint (moto's server standing in for one)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.storage.dynamodb import DynamoDBProfileStore, DynamoDBSyncStateStore
from core.testing.population import population
from profilesync.cli import main
from profilesync.embedded import dynamodb_client
from tests.moto_server import moto_server_url


@pytest.fixture
def endpoint() -> Iterator[str]:
    """The URL of this process's moto server (tests/moto_server.py: started on first use, shared),
    and the tables a test made on it dropped after the test. moto's servers in one process share one
    backend, so a server started per test kept no test's tables from another's, and cost about 0.7 s
    of wall time each (its stop waits for werkzeug's half-second poll)."""
    url = moto_server_url()
    client = dynamodb_client(url)
    before = set(_tables(client))
    try:
        yield url
    finally:
        for table in sorted(set(_tables(client)) - before):
            client.delete_table(TableName=table)


def _tables(client: Any) -> list[str]:
    names: list[str] = []
    for page in client.get_paginator("list_tables").paginate():
        names.extend(page["TableNames"])
    return names


def test_resolve_and_sync_on_an_endpoint_create_the_table_and_use_it(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an endpoint with no table, and 30 people in a file
    source = tmp_path / "people.jsonl"
    source.write_text(
        "".join(json.dumps(flat) + "\n" for _, flat in population(30, seed=4, malformed_share=0)),
        encoding="utf-8",
    )
    out = tmp_path / "profiles.jsonl"
    # WHEN resolve runs against the endpoint
    argv = [
        "resolve",
        str(source),
        "--out",
        str(out),
        "--endpoint-url",
        endpoint,
        "--table",
        "e2e",
        "--quiet",
    ]
    assert main(argv) == 0
    capsys.readouterr()
    # THEN the table was created from template.yaml and holds the profiles written out, and no
    # embedded store was made next to the output
    client = dynamodb_client(endpoint)
    assert client.describe_table(TableName="e2e")["Table"]["TableStatus"] == "ACTIVE"
    store = DynamoDBProfileStore(client, "e2e")
    assert len(list(store.iter_profiles())) == 30 == len(out.read_text(encoding="utf-8").splitlines())
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "people.jsonl",
        "profiles.jsonl",
        "profiles.quarantine.jsonl",
    ]
    # WHEN a sync runs against the same endpoint and table
    assert (
        main(
            [
                "sync",
                "--connector",
                "hubspot",
                "--sandbox",
                "--endpoint-url",
                endpoint,
                "--table",
                "e2e",
                "-q",
            ]
        )
        == 0
    )
    # THEN its cursor is in the table, next to the profiles
    assert DynamoDBSyncStateStore(client, "e2e").get_sync_state("hubspot").version >= 1
    assert "pulled" in capsys.readouterr().out
