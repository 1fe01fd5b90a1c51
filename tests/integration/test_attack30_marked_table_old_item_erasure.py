"""attack30: on a table marked rekeyed, an identifier item still under her value survives her erasure,
her address in its key.

Once ``profilesync migrate rekey-identifiers`` has written its marker (core/storage/ident_keys.py
``REKEYED_KEY``), the stores read the keyed item alone: her erasure deletes ``IDENT#<hash>`` and
never looks at ``IDENT#email#<her address>``. The migration's last Scan and its marker are two
requests, and the previous release's functions finish their invocations after a deployment (a merge
batch in flight runs its old code to the end, up to the function's timeout): an item such an
invocation writes after that Scan (her record joined by the previous release, keyed by value) is on
a marked table for good. Nothing reads it, nothing moves it, and her erasure leaves it: her address
in a partition key of the table (and in the stream whenever it is touched), beside the id of the
customer her erasure deleted.

Fix idea: the erasure's deletes of identifier items also delete the old key (a Delete of
``IDENT#<key>`` / ``IDENT`` and a Query of its ``HOLDER#`` items, cheap beside an erasure) whatever the
marker says; or the migration Scans again after a wait longer than the functions' timeout before it
marks (docs/privacy.md: "Upgrade: identifier keys").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from core.pipeline import IngestSettings, ingest
from core.privacy import erase_person, identifier_for
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.dynamodb_privacy import DynamoDBErasureStore
from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.storage.dynamodb_sync_state import DynamoDBSyncStateStore
from core.storage.ident_keys import mark_new_table
from core.testing.records import make_record
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table

TABLE = "attack30-marked"
SALT = "the-stack-audit-salt"
HER = "ann.lee@example.com"


@pytest.fixture
def client() -> Iterator[Any]:
    model_aws_semantics()
    with mock_aws():
        client = dynamodb_client()
        create_table(client, TABLE)
        mark_new_table(client, TABLE, salt=SALT)  # migrated: the stores read keyed items alone
        yield client


def _keys_naming(client: Any, text: str) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    request: dict[str, Any] = {"TableName": TABLE, "ProjectionExpression": "PK, SK"}
    while True:
        page = client.scan(**request)
        items += [(i["PK"]["S"], i["SK"]["S"]) for i in page.get("Items", [])]
        if "LastEvaluatedKey" not in page:
            return [k for k in items if text in k[0] or text in k[1]]
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _erase_her(client: Any, store: DynamoDBProfileStore) -> None:
    erase_person(
        identifier_for(email=HER),
        profiles=store,
        erasure=DynamoDBErasureStore(client, TABLE, salt=SALT),
        tools={},
        salt=SALT,
        request_id="req-attack30",
        sync_state=DynamoDBSyncStateStore(client, TABLE),
        suppression=DynamoDBSuppressionStore(client, TABLE),
        sleep=lambda _: None,
    )


def _ingest_her(client: Any) -> tuple[DynamoDBProfileStore, str]:
    store = DynamoDBProfileStore(client, TABLE, read_workers=1, salt=SALT)
    ingest(
        [make_record("crm", "7", email=HER, traits={"first_name": "Ann"})],
        store,
        IngestSettings(sleep=lambda _: None),
    )
    (profile,) = list(store.iter_profiles())
    return store, profile.customer_id


def test_control_her_erasure_on_a_marked_table_leaves_her_address_in_no_key(client: Any) -> None:
    store, _ = _ingest_her(client)
    _erase_her(client, store)
    assert _keys_naming(client, HER) == []


def test_an_old_item_on_a_marked_table_does_not_outlive_her_erasure(client: Any) -> None:
    # GIVEN her record, and the identifier item a previous-release invocation still in flight wrote
    # under her value after the migration's last Scan (the table is marked)
    store, customer = _ingest_her(client)
    client.put_item(
        TableName=TABLE,
        Item={"PK": {"S": f"IDENT#email#{HER}"}, "SK": {"S": "IDENT"}, "customer_id": {"S": customer}},
    )
    # WHEN she is erased by her address
    _erase_her(client, store)
    # THEN no key of the table holds her address
    assert _keys_naming(client, HER) == []
