"""``--endpoint-url``: resolve and sync on a DynamoDB endpoint (moto's server standing in for one)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from core.storage.dynamodb import DynamoDBProfileStore, DynamoDBSyncStateStore
from core.testing.population import population
from profilesync.cli import main
from profilesync.embedded import dynamodb_client, model_aws_semantics


@pytest.fixture
def endpoint() -> Iterator[str]:
    model_aws_semantics()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


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
