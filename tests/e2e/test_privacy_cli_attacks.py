"""``profilesync privacy`` attacked: on a DynamoDB endpoint (``--endpoint-url``, moto's server), and
on an embedded store file an earlier version left readable by everyone."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest

from core.normalise import normalise_email
from core.storage.sqlite_database import SQLiteDatabase
from core.testing.population import people, population
from profilesync.cli import main
from profilesync.embedded import dynamodb_client
from tests.e2e.test_endpoint_url import endpoint as moto_endpoint  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow


@pytest.fixture
def endpoint(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:  # noqa: F811
    """moto's server, as ``--endpoint-url`` (test_endpoint_url's), with an audit salt configured."""
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "endpoint-test-salt")
    return moto_endpoint


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out[out.index("{") :])


def scan(endpoint: str, table: str) -> list[dict[str, Any]]:
    client = dynamodb_client(endpoint)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_export_and_erase_on_an_endpoint_leave_no_item_of_the_person(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN 30 people resolved into a table on a DynamoDB endpoint
    source = tmp_path / "people.jsonl"
    source.write_text(
        "".join(json.dumps(flat) + "\n" for _, flat in population(30, seed=4, malformed_share=0)),
        encoding="utf-8",
    )
    where = ("--endpoint-url", endpoint, "--table", "e2e", "--state-dir", str(tmp_path / "state"))
    assert main(["resolve", str(source), "--out", str(tmp_path / "out.jsonl"), *where[:4], "--quiet"]) == 0
    capsys.readouterr()
    table = json.dumps(scan(endpoint, "e2e"), ensure_ascii=False)
    person = next(p for p in people(30, seed=4) if normalise_email(p.email) in table)
    email = normalise_email(person.email)
    # WHEN the person is exported, then erased, by the address written in capitals
    code, export = run(capsys, "privacy", "export", "--email", person.email.upper(), *where)
    assert (code, export["found"]) == (0, True)
    assert export["items"]
    code, erased = run(capsys, "privacy", "erase", "--email", person.email.upper(), *where)
    # THEN the erasure is complete and no item of the table holds their address or phone
    assert (code, erased["outcome"]) == (0, "erased")
    items = scan(endpoint, "e2e")
    left = json.dumps(items, ensure_ascii=False).lower()
    assert email not in left
    assert person.phone_e164 not in left
    # AND every item the export listed is gone
    keys = {(i["PK"]["S"], i["SK"]["S"]) for i in items}
    assert not {(i["pk"], i["sk"]) for i in export["items"]} & keys
    # AND the same request again completes, finding only the suppression
    code, again = run(capsys, "privacy", "erase", "--email", person.email, *where)
    assert (code, again["ok"], again["found"]) == (0, True, False)
    code, after = run(capsys, "privacy", "export", "--email", person.email, *where)
    assert (after["profile"], after["items"]) == (None, [])
    assert after["suppressed"][f"email#{email}"] is not None
    # AND the same file resolved into the table again does not bring the person back
    assert main(["resolve", str(source), "--out", str(tmp_path / "again.jsonl"), *where, "--quiet"]) == 0
    assert "erased, dropped" in capsys.readouterr().out
    again_table = json.dumps(scan(endpoint, "e2e"), ensure_ascii=False).lower()
    assert email not in again_table
    assert person.phone_e164 not in again_table
    assert email not in (tmp_path / "again.jsonl").read_text(encoding="utf-8").lower()


def test_a_store_file_an_earlier_version_left_readable_by_others_is_made_private(tmp_path: Path) -> None:
    # GIVEN a store file, its write-ahead log and shared memory readable by everyone, as an earlier
    # version (or sqlite3 under umask 022) made them; another connection holds them open
    path = tmp_path / "profilesync-dev-profiles.sqlite3"
    with SQLiteDatabase(path):
        pass
    os.chmod(path, 0o644)
    holder = sqlite3.connect(path)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("SELECT count(*) FROM items").fetchone()
    for suffix in ("-wal", "-shm"):
        os.chmod(f"{path}{suffix}", 0o644)
    try:
        # WHEN the store is opened again (privacy erase, sync, status all open it so)
        with SQLiteDatabase(path):
            # THEN the file and both of its companions are readable by their owner only
            for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
                assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
    finally:
        holder.close()


def test_a_local_export_says_which_payload_each_tool_named_was_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from connectors._sandbox import SandboxServer
    from connectors.hubspot import HubSpotSandbox

    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", "export-test-salt")
    monkeypatch.setenv("PROFILESYNC_HUBSPOT_TOKEN", "pat-cli")
    sandbox = HubSpotSandbox(people=20, seed=5, token="pat-cli")
    server = SandboxServer(sandbox).start()
    try:
        state = ("--state-dir", str(tmp_path / "state"))
        # GIVEN HubSpot synced (and pushed to) into the local store
        assert main(["sync", "--connector", "hubspot", "--base-url", server.url, *state]) == 0
        capsys.readouterr()
        person = next(p for p in people(20, 5) if sandbox.holds(p.email))
        # WHEN the person is exported, naming the tool
        code, export = run(
            capsys,
            "privacy",
            "export",
            "--email",
            person.email,
            "--connector",
            f"hubspot={server.url}",
            *state,
        )
    finally:
        server.stop()
    # THEN the export says what HubSpot was sent, not only that something was (issue 10: "which
    # tools received which payload when"), as the privacy function's export does
    assert code == 0
    [pushed] = export["pushed"]
    assert (pushed["destination"], pushed["at"] is not None) == ("hubspot", True)
    assert pushed["payload"] is not None
