"""``profilesync profile show`` and ``profilesync serve-api`` end to end, on the embedded store that
``sync`` keeps in its state directory, and on a DynamoDB endpoint (moto's server)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from core.governance.history import HistoryEvent, event_id_for
from core.governance.reading import ReadRecord
from core.identity import customer_id_for
from core.pipeline import IngestSettings, ingest
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.dynamodb_history import DynamoDBHistoryStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_history import SQLiteHistoryStore, SQLiteReadAudit
from core.testing.records import T0, make_record
from profilesync.cli import main
from profilesync.embedded import dynamodb_client
from profilesync.stores import open_stores, store_path
from profilesync.template import create_table

REPO_ROOT = Path(__file__).resolve().parents[2]
TABLE = "profilesync-dev-profiles"
ANN = customer_id_for("hubspot:contact:1")
RECORDS = [
    make_record(
        "hubspot", "1", email="ann.lee@example.com", traits={"first_name": "Ann", "last_name": "Lee"}
    ),
    make_record("shopify", "7", email="ann.lee@example.com", phone="+442079460018"),
    make_record("hubspot", "2", email="bo@example.com"),
]


MERGE = HistoryEvent(
    customer_id=ANN,
    event_id=event_id_for(ANN, "merge", T0, "x"),
    at=T0,
    kind="merge",
    actor="run:shopify:r1",
    reason="shared email",
    source_keys=("shopify:contact:7",),
    identifiers=("email#ann.lee@example.com",),
)


def fill(client: object) -> None:
    ingest(RECORDS, DynamoDBProfileStore(client, TABLE, read_workers=1), IngestSettings(sleep=lambda _: None))
    DynamoDBHistoryStore(client, TABLE).append_history([MERGE])


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    """The embedded store as `profilesync sync` leaves it in its state folder (SQLite)."""
    with open_stores(endpoint_url=None, table=TABLE, path=store_path(tmp_path, TABLE)) as stores:
        ingest(RECORDS, stores.profiles, IngestSettings(sleep=lambda _: None))
        SQLiteHistoryStore(stores.database).append_history([MERGE])
    return tmp_path


def reads_kept(state_dir: Path) -> list[ReadRecord]:
    with SQLiteDatabase(store_path(state_dir, TABLE)) as database:
        return SQLiteReadAudit(database).reads_of(ANN, since=datetime(2000, 1, 1, tzinfo=UTC))


def show(state_dir: Path, *args: str) -> int:
    return main(["profile", "show", *args, "--state-dir", str(state_dir)])


def test_show_reads_as_the_role_and_the_read_is_kept_in_the_store(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN support looks Ann up by her email as she typed it, in JSON
    assert show(state_dir, "--email", "Ann.Lee@EXAMPLE.com", "--role", "support", "--json") == 0
    answer = json.loads(capsys.readouterr().out)
    # THEN the answer has the export's shape, with what support may read
    assert answer["customer_id"] == ANN
    assert {"kind": "email", "value": "ann.lee@example.com"} in answer["profile"]["identifiers"]
    assert [s["source_id"] for s in answer["sources"]] == ["1", "7"]
    # AND marketing, in text, sees that she has an email and a phone, but not which
    assert show(state_dir, "--phone", "020 7946 0018", "--region", "GB", "--role", "marketing") == 0
    text = capsys.readouterr().out
    assert "a***@example.com" in text
    assert "***0018" in text
    assert "ann.lee" not in text
    assert "Lee" not in text
    # AND both reads were recorded in the embedded store, who and what, without the lookups' values
    reads = reads_kept(state_dir)
    assert sorted(r.role for r in reads) == ["marketing", "support"]
    assert all(r.principal.startswith("cli:") for r in reads)
    assert sorted(r.lookup for r in reads) == ["email", "phone"]
    assert "identifiers.email:masked" in next(r for r in reads if r.role == "marketing").fields


def test_show_history_and_explain(state_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert show(state_dir, "--source", "hubspot:contact:1", "--history") == 0
    history = capsys.readouterr().out
    assert "merge" in history
    assert "by run:shopify:r1: shared email" in history
    assert "records: shopify:contact:7" in history
    assert show(state_dir, "--id", ANN, "--explain") == 0
    explained = capsys.readouterr().out
    assert "email ann.lee@example.com joins r1, r2: shared email" in explained
    assert "one connected group" in explained


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--id", ANN, "--explain", "--role", "support"], 2, "may not read explain"),
        (["--email", "ann.lee@example.com", "--role", "auditor"], 2, "not in the role policy"),
        (["--email", "eve@example.com"], 1, "no customer has this identifier"),
        (["--email", "not an email"], 2, "email cannot be used"),
        (["--source", "hubspot"], 2, "<tool>:<object type>:<id>"),
    ],
)
def test_show_refuses_what_it_cannot_answer_with_a_reason(
    state_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str
) -> None:
    assert show(state_dir, *args) == code
    assert message in capsys.readouterr().err


def test_show_says_where_the_store_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert show(tmp_path, "--email", "ann@example.com") == 2
    assert "run `profilesync sync` first" in capsys.readouterr().err


def test_the_roles_of_the_configuration_document_replace_the_sample(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = state_dir / "profilesync.yaml"
    policy.write_text(
        "version: 1\nroles:\n  helpdesk:\n    traits: [first_name]\n    identifiers: {email: mask}\n"
    )
    assert (
        show(
            state_dir,
            "--email",
            "ann.lee@example.com",
            "--role",
            "helpdesk",
            "--json",
            "--config",
            str(policy),
        )
        == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert set(answer["profile"]["traits"]) == {"first_name"}
    assert answer["profile"]["identifiers"] == [
        {"kind": "email", "value": "a***@example.com", "masked": True}
    ]
    assert show(state_dir, "--email", "ann.lee@example.com", "--config", str(policy)) == 2  # no admin there


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"
        client = dynamodb_client(url)
        create_table(client, TABLE)
        fill(client)
        yield url
    finally:
        server.stop()


@pytest.mark.slow
def test_show_reads_a_dynamodb_endpoint(endpoint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["profile", "show", "--id", ANN, "--endpoint-url", endpoint, "--json", "--role", "analyst"]) == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["profile"]["identifiers"] == []
    assert main(["profile", "show", "--id", ANN, "--endpoint-url", endpoint, "--table", "nope"]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_serve_api_answers_as_the_role_in_the_header(state_dir: Path) -> None:
    # GIVEN `profilesync serve-api` running on a free port over the embedded store
    process = subprocess.Popen(
        [sys.executable, "-m", "profilesync.cli", "serve-api", "--port", "0", "--state-dir", str(state_dir)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        found = re.search(r"profile API on (http://\S+)", first)
        assert found, first + (process.stderr.read() if process.poll() is not None and process.stderr else "")
        url = found.group(1)
        with httpx.Client(base_url=url, timeout=10) as http:
            # WHEN support asks for Ann by email THEN it is the profile API's answer
            answer = http.get(
                "/profiles",
                params={"email": "ann.lee@example.com"},
                headers={"X-Profilesync-Role": "support"},
            )
            assert answer.status_code == 200
            assert answer.json()["customer_id"] == ANN
            # AND marketing gets the masked view of the same person
            masked = http.get(f"/profiles/{ANN}", headers={"X-Profilesync-Role": "marketing"}).json()
            assert "ann.lee" not in json.dumps(masked)
            # AND without a role, or with a route the role lacks, nothing is answered
            assert http.get(f"/profiles/{ANN}").status_code == 401
            assert (
                http.get(f"/profiles/{ANN}/explain", headers={"X-Profilesync-Role": "support"}).status_code
                == 403
            )
            assert http.get("/nowhere", headers={"X-Profilesync-Role": "admin"}).status_code == 404
            reads = http.get(f"/profiles/{ANN}/reads", headers={"X-Profilesync-Role": "admin"}).json()[
                "reads"
            ]
            assert [r["role"] for r in reads] == ["marketing", "support"]
    finally:
        process.terminate()
        process.wait(timeout=20)
