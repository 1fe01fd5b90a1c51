"""attack31p: on a table marked rekeyed, the Gmail mailbox marker a previous-release invocation wrote for
an address she got only from it outlives her erasure, her mailbox in its key.

attack30's fix (core/storage/dynamodb_privacy.py ``_delete_stragglers``) deletes, after each step of an
erasure on a marked table, the old-layout twin of every item the step deletes. Her identifier items
are in a step for every value her snapshots hold (an ``IDENT`` delete under the owner), so the old
item of an address added by a previous-release invocation goes. Her holder markers are in a step only
when a keyed read finds them (``holders`` queries ``ident_pk``; ``_move_old`` moves nothing once the
table is marked). An invocation of the previous release still running after the migration's last Scan
(the case attack30 named: a merge batch in flight runs its old code to its end) that stores her next
version with a new Gmail address writes its mailbox marker under the value alone
(``IDENT#mailbox#annleeshop@gmail.com`` / ``HOLDER#<customer>``): no keyed twin, so no step deletes it
and no straggler is looked for. Her erasure answers ``erased`` and leaves it, her mailbox in a
partition key of the table (and in the stream whenever it is touched) beside the id of the customer
it deleted. Her SOURCE snapshot held the address: the erasure knew the mailbox was hers.

Fix idea: in ``_delete_stragglers`` (or the scope's reads on a marked table), Query ``HOLDER#`` under
``legacy_ident_pk`` of every value her snapshots hold and of its mailbox, as the identifier items are
deleted under theirs, not only the markers a keyed read found.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from core.mailbox import mailbox_key
from core.pipeline import IngestSettings, ingest
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.ident_keys import ident_pk, legacy_ident_pk, mark_new_table
from core.testing.records import make_record
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table
from tests.integration.test_attack30_marked_table_old_item_erasure import (
    SALT,
    TABLE,
    _erase_her,
    _keys_naming,
)

FIRST = "ann.lee@example.com"
ADDED = "ann.lee.shop@gmail.com"

REASON = (
    "core/storage/dynamodb_privacy.py:152 _delete_stragglers deletes the old-layout twin of an item a step "
    "deletes only, and holder markers are in a step only when holders (:247) finds them under ident_pk: "
    "a mailbox marker a previous-release invocation wrote under the value alone (no keyed twin) is in "
    "no step; fix idea: Query HOLDER# under legacy_ident_pk of every value her snapshots hold and its mailbox"
)


@pytest.fixture
def client() -> Iterator[Any]:
    model_aws_semantics()
    with mock_aws():
        client = dynamodb_client()
        create_table(client, TABLE)
        mark_new_table(client, TABLE, salt=SALT)
        yield client


def _to_old_layout(client: Any, key: str) -> int:
    """Move every item under ``key``'s keyed partition to the old one (its value): what a
    previous-release invocation writes for a value, with no keyed twin. How many moved."""
    items = client.query(
        TableName=TABLE,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": ident_pk(key, SALT)}},
        ConsistentRead=True,
    )["Items"]
    for item in items:
        client.delete_item(TableName=TABLE, Key={"PK": item["PK"], "SK": item["SK"]})
        old = {name: value for name, value in item.items() if name != "ident"}
        client.put_item(TableName=TABLE, Item={**old, "PK": {"S": legacy_ident_pk(key)}})
    return len(items)


def _her_versions(client: Any) -> DynamoDBProfileStore:
    store = DynamoDBProfileStore(client, TABLE, read_workers=1, salt=SALT)
    settings = IngestSettings(sleep=lambda _: None)
    ingest([make_record("crm", "7", email=FIRST, traits={"first_name": "Ann"})], store, settings)
    second = make_record("crm", "7", email=[FIRST, ADDED], traits={"first_name": "Ann"}, day=31)
    ingest([second], store, settings)
    return store


def test_old_only_items_of_an_added_address_do_not_outlive_her_erasure(client: Any) -> None:
    # GIVEN her second version, adding a Gmail address, stored as a previous-release invocation
    # stores it on the marked table: the address's identifier item and mailbox marker under the value
    store = _her_versions(client)
    mailbox = mailbox_key(f"email#{ADDED}")
    assert mailbox is not None
    assert _to_old_layout(client, f"email#{ADDED}") == 1
    assert _to_old_layout(client, mailbox) == 1
    assert _keys_naming(client, ADDED) != []
    assert _keys_naming(client, "annleeshop@gmail.com") != []
    # WHEN she is erased by her first address
    _erase_her_first(client, store)
    assert list(store.iter_profiles()) == []
    # THEN no key of the table holds either address or the mailbox
    assert _keys_naming(client, FIRST) == []
    assert _keys_naming(client, ADDED) == []  # (its identifier item's old twin goes: attack30's fix)
    assert _keys_naming(client, "annleeshop@gmail.com") == []


def test_control_old_twins_of_keyed_items_are_deleted(client: Any) -> None:
    """Passes on main (attack30's fix): an old-layout twin beside each keyed item of the added address
    goes with her erasure. Catches ``_delete_stragglers`` skipping ``HOLDER#`` deletes."""
    store = _her_versions(client)
    mailbox = mailbox_key(f"email#{ADDED}")
    assert mailbox is not None
    for key in (f"email#{ADDED}", mailbox):
        for item in client.query(
            TableName=TABLE,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": ident_pk(key, SALT)}},
        )["Items"]:
            client.put_item(TableName=TABLE, Item={**item, "PK": {"S": legacy_ident_pk(key)}})
    _erase_her_first(client, store)
    assert _keys_naming(client, "annleeshop@gmail.com") == []
    assert _keys_naming(client, ADDED) == []


def _erase_her_first(client: Any, store: DynamoDBProfileStore) -> None:
    assert FIRST == "ann.lee@example.com"  # attack30's HER, whom its _erase_her names
    _erase_her(client, store)
