"""priv30: a wrong audit salt (a mistyped parameter, another stage's secret) is refused on a table
with nothing keyed yet, before anything is written with it.

Before, a wrong salt was found only by comparing it with items already keyed by hash: on a new
table, or one whose items were all under their old keys, a store given another salt wrote items out
of the real salt's reach (every identifier lost to the stack's functions). The table's layout marker
now holds the salt's check value (core.key_hashing.salt_check), written when the table is made or
migrated; every store that reads the marker, and the migration, refuse another salt, naming the
parameter to set.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.errors import SaltMismatchError
from core.pipeline import IngestSettings, ingest
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.dynamodb_history import DynamoDBHistoryStore
from core.storage.dynamodb_reads import DynamoDBProfileReader
from core.storage.ident_keys import REKEYED_KEY, mark_new_table
from core.testing.records import make_record
from profilesync.migrate_cli import rekey_table
from tests.integration.test_priv29_rekey_upgrade import _keys
from tests.moto_server import moto_server_url, server_table

SALT = "stack-audit-salt"
WRONG = "stack-audit-sa1t"  # mistyped


def _refused(call: Any) -> str:
    with pytest.raises(SaltMismatchError) as raised:
        call()
    return str(raised.value)


def _every_reader_refuses(client: Any, table: str) -> None:
    store = DynamoDBProfileStore(client, table, read_workers=1, salt=WRONG)
    message = _refused(lambda: store.get_owners(["email#ann@example.com"]))
    assert "PROFILESYNC_AUDIT_SALT" in message
    assert table in message
    fresh = DynamoDBProfileStore(client, table, read_workers=1, salt=WRONG)
    _refused(lambda: fresh.get_blocks(["pf:sw1a1aa:a"]))
    _refused(lambda: DynamoDBProfileReader(client, table, salt=WRONG).owner_of("email#ann@example.com"))
    history = DynamoDBHistoryStore(client, table, salt=WRONG)
    _refused(lambda: history.histories_naming("email#ann@example.com"))
    writer = DynamoDBProfileStore(client, table, read_workers=1, salt=WRONG)
    _refused(lambda: ingest([make_record("crm", "1", email="ann@example.com")], writer, IngestSettings()))


def test_a_new_table_refuses_another_salt_before_anything_is_written() -> None:
    with server_table("priv30salt") as (client, table):
        # GIVEN a table this version made for a stack keyed with SALT (nothing keyed in it yet)
        mark_new_table(client, table, SALT)
        # WHEN stores and readers given another salt use it THEN each is refused, naming the parameter
        _every_reader_refuses(client, table)
        assert _keys(client, table) == [(REKEYED_KEY["PK"]["S"], REKEYED_KEY["SK"]["S"])]
        # AND the migration refuses it too, moving nothing
        wrong = DynamoDBProfileStore(client, table, salt=WRONG)
        _refused(lambda: rekey_table(wrong.ident_layout, index=wrong))
        # AND the right salt works
        store = DynamoDBProfileStore(client, table, read_workers=1, salt=SALT)
        ingest([make_record("crm", "1", email="ann@example.com")], store, IngestSettings())
        assert set(store.get_owners(["email#ann@example.com"])) == {"email#ann@example.com"}


def test_a_migrated_table_refuses_another_salt(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from profilesync.cli import main

    with server_table("priv30salt") as (client, table):
        # GIVEN a table of the layout before identifier keys (an item under its value, no marker)
        old = {"PK": {"S": "IDENT#email#bo@example.com"}, "SK": {"S": "IDENT"}, "customer_id": {"S": "c1"}}
        client.put_item(TableName=table, Item=old)
        # WHEN it is migrated with the stack's salt
        argv = ["migrate", "rekey-identifiers", "--endpoint-url", moto_server_url(), "--table", table]
        monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", SALT)
        assert main(argv) == 0
        assert json.loads(capsys.readouterr().out)["marked"] is True
        # THEN a store, a reader or the command given another salt is refused
        _every_reader_refuses(client, table)
        before = sorted(_keys(client, table))
        monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", WRONG)
        assert main(argv) != 0
        assert "PROFILESYNC_AUDIT_SALT" in capsys.readouterr().err
        assert sorted(_keys(client, table)) == before
        store = DynamoDBProfileStore(client, table, read_workers=1, salt=SALT)
        assert store.get_owners(["email#bo@example.com"])["email#bo@example.com"].customer_id == "c1"
