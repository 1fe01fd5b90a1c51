"""left31: the first store that opens an empty, unmarked table writes the layout marker with its salt.

A table CloudFormation made (template.yaml's ``ProfilesTable``) had no layout marker until
``profilesync migrate rekey-identifiers`` ran on it, so the salt check (SaltMismatchError, priv30)
did not hold there: a merge given a mistyped salt keyed every identifier out of the stack's reach.
Now a store built with ``mark_empty_table`` (the functions' profile store, functions/_wiring.py) that
finds no marker scans one page of keys, and on a table holding nothing the marker speaks for puts
it with its salt's check, conditioned on none being there (core.storage.ident_mark). Red before:
the second salt was not refused (no marker was written).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from core.errors import SaltMismatchError
from core.key_hashing import salt_check
from core.pipeline import IngestSettings, ingest
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.ident_keys import REKEYED_KEY
from core.testing.records import make_record
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table

TABLE = "left31-cfn-table"
SALT = "stack-audit-salt"
WRONG = "stack-audit-sa1t"


@pytest.fixture
def client() -> Iterator[Any]:
    model_aws_semantics()
    with mock_aws():
        made = dynamodb_client()
        create_table(made, TABLE)  # template.yaml's own definition, as CloudFormation makes it
        yield made


def _store(client: Any, salt: str) -> DynamoDBProfileStore:
    return DynamoDBProfileStore(client, TABLE, read_workers=1, salt=salt, mark_empty_table=True)


def _marker(client: Any) -> dict[str, Any] | None:
    item: dict[str, Any] | None = client.get_item(TableName=TABLE, Key=dict(REKEYED_KEY)).get("Item")
    return item


def test_the_first_merge_marks_a_new_table_and_another_salt_is_refused(client: Any) -> None:
    # GIVEN a new table holding only a pull's sync state (the pull ran before the first merge)
    client.put_item(TableName=TABLE, Item={"PK": {"S": "SYNC#crm"}, "SK": {"S": "STATE"}})
    # WHEN the first merge stores a record
    ingest([make_record("crm", "1", email="ann@example.com")], _store(client, SALT), IngestSettings())
    # THEN the table is marked with its salt's check, the indexes keyed too
    marker = _marker(client)
    assert marker is not None
    assert marker["check"] == {"S": salt_check(SALT)}
    assert marker["index"] == {"S": "keyed"}
    # AND a store given another salt is refused before it writes anything
    wrong = _store(client, WRONG)
    with pytest.raises(SaltMismatchError, match="PROFILESYNC_AUDIT_SALT"):
        ingest([make_record("crm", "2", email="bob@example.com")], wrong, IngestSettings())
    assert set(_store(client, SALT).get_owners(["email#bob@example.com"])) == set()


def test_two_stores_opening_it_at_once_leave_one_marker_and_the_other_salt_is_refused(
    client: Any,
) -> None:
    first, second = _store(client, SALT), _store(client, WRONG)
    raced: list[bool] = []

    def first_marks_meanwhile(params: dict[str, Any], **_: Any) -> None:
        if params.get("Item", {}).get("PK") == REKEYED_KEY["PK"] and not raced:
            raced.append(True)  # the second store scanned an empty table; the first marks it now
            first.get_owners(["email#ann@example.com"])

    client.meta.events.register("provide-client-params.dynamodb.PutItem", first_marks_meanwhile)
    # WHEN both find no marker and an empty table, the first one's put landing before the second's
    with pytest.raises(SaltMismatchError):
        second.get_owners(["email#ann@example.com"])
    # THEN the first one's marker is the table's, and the second was checked against it
    assert raced == [True]
    marker = _marker(client)
    assert marker is not None
    assert marker["check"] == {"S": salt_check(SALT)}


def test_an_unmarked_table_holding_identifier_items_is_left_to_the_migration(client: Any) -> None:
    # GIVEN a table written by the previous release (an identifier item under its value, no marker)
    client.put_item(
        TableName=TABLE,
        Item={"PK": {"S": "IDENT#email#ann@example.com"}, "SK": {"S": "IDENT"}, "customer_id": {"S": "c1"}},
    )
    store = _store(client, SALT)
    # WHEN a store opens it THEN it reads both layouts as before and writes no marker
    assert store.get_owners(["email#ann@example.com"])["email#ann@example.com"].customer_id == "c1"
    assert _marker(client) is None
    assert not store.ident_layout.known_rekeyed


def test_a_store_not_asked_to_mark_leaves_an_empty_table_unmarked(client: Any) -> None:
    # (the profile API's reader, a tool with no rights to write: only the functions' store marks)
    DynamoDBProfileStore(client, TABLE, read_workers=1, salt=SALT).get_owners(["email#ann@example.com"])
    assert _marker(client) is None
