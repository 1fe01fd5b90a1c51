"""revP29: the move of a table's identifier items from their value to their keyed hash
(core.storage.ident_rekey) raced by an erasure, and the migration given a salt that is not the one
the table's items are keyed by. Old items are written by hand, as the previous release laid them out
(``IDENT#<kind>#<value>``), on moto in process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from core.privacy_store import DeleteItem, ItemKey
from core.storage.dynamodb_privacy import DynamoDBErasureStore
from core.storage.ident_keys import ident_pk
from core.storage.ident_rekey import IdentLayout
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.migrate_cli import rekey_table
from profilesync.template import create_table

TABLE = "revp29-profiles"
SALT = "the-stack-audit-salt"
KEY = "email#ann@example.com"


@pytest.fixture
def client() -> Iterator[Any]:
    model_aws_semantics()
    with mock_aws():
        client = dynamodb_client()
        create_table(client, TABLE)  # an old table: no marker
        yield client


def _items(client: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": TABLE}
    while True:
        page = client.scan(**request)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _call(client: Any) -> Any:
    return lambda method, **kwargs: getattr(client, method)(**kwargs)


def test_a_stale_holder_erased_while_the_migration_moves_it_stays_erased(client: Any) -> None:
    """A value nobody holds any more keeps the stale ``HOLDER#`` marker of a customer that held it
    (core.scope_holders.stale_markers). The migration reads that old partition; meanwhile her erasure
    moves the marker itself (DynamoDBErasureStore._move_old) and deletes it. The migration's move,
    sent after, must not put the marker back under the keyed hash with her email in ``ident``."""
    client.put_item(
        TableName=TABLE,
        Item={"PK": {"S": f"IDENT#{KEY}"}, "SK": {"S": "HOLDER#c1"}, "customer_id": {"S": "c1"}},
    )
    erasure = DynamoDBErasureStore(client, TABLE, salt=SALT)
    raced: list[bool] = []

    def migration_call(method: str, **kwargs: Any) -> Any:
        if method == "transact_write_items" and not raced:
            raced.append(True)  # the erasure runs between the migration's read and its move
            erasure.apply((DeleteItem(ItemKey(f"IDENT#{KEY}", "HOLDER#c1")),))
        return getattr(client, method)(**kwargs)

    IdentLayout(migration_call, TABLE, SALT).move([KEY])
    assert raced
    left = [i for i in _items(client) if KEY in (i.get("ident", {}).get("S"), i["PK"]["S"][6:])]
    assert left == [], f"her erased marker is back: {left}"


def test_the_migration_refuses_a_salt_the_table_is_not_keyed_by(client: Any) -> None:
    """The functions of this version already key new identifiers by the stack's salt. A migration run
    with another salt (a mistyped secret, another stage's) would move every old item out of the
    functions' reach and mark the table, so that they never look for them again: it refuses, and
    moves nothing."""
    client.put_item(
        TableName=TABLE,
        Item={
            "PK": {"S": ident_pk("email#bob@example.com", SALT)},
            "SK": {"S": "IDENT"},
            "customer_id": {"S": "c2"},
            "ident": {"S": "email#bob@example.com"},
        },
    )
    client.put_item(
        TableName=TABLE,
        Item={"PK": {"S": f"IDENT#{KEY}"}, "SK": {"S": "IDENT"}, "customer_id": {"S": "c1"}},
    )
    before = _items(client)
    with pytest.raises(ValueError, match="salt"):
        rekey_table(IdentLayout(_call(client), TABLE, "a-mistyped-salt"))
    assert sorted(map(str, _items(client))) == sorted(map(str, before))
    # the right salt moves it and marks the table
    counts = rekey_table(IdentLayout(_call(client), TABLE, SALT))
    assert counts["marked"]
    assert counts["items"] == 1


def _refuse_long_keys(client: Any) -> None:
    """What AWS answers to a read naming a partition key over 2,048 bytes (moto checks only writes)."""

    def check(params: dict[str, Any], model: Any, **_: Any) -> None:
        keys: list[str] = []
        if model.name == "BatchGetItem":
            keys = [k["PK"]["S"] for t in params["RequestItems"].values() for k in t["Keys"]]
        elif model.name == "GetItem":
            keys = [params["Key"]["PK"]["S"]]
        elif model.name == "Query":
            keys = [v["S"] for v in params.get("ExpressionAttributeValues", {}).values() if "S" in v]
            keys = [k for k in keys if k.startswith("IDENT#")]
        assert all(len(k.encode()) <= 2048 for k in keys), f"{model.name} names a key over 2,048 bytes"

    client.meta.events.register("before-parameter-build.dynamodb.*", check)


def test_an_identifier_longer_than_a_key_is_refused_as_data_while_the_table_is_upgraded(client: Any) -> None:
    """An identifier whose old key ``IDENT#<key>`` is over DynamoDB's 2,048 bytes was never written
    the old way: reading it under that key (as the stores do until the table is marked) is a
    ValidationException on AWS, where the marked table refuses the record as the data's fault."""
    from core.errors import RecordRejectedError
    from core.pipeline import IngestSettings, ingest
    from core.storage.dynamodb import DynamoDBProfileStore
    from core.storage.dynamodb_reads import DynamoDBProfileReader
    from core.testing.records import make_record

    _refuse_long_keys(client)
    store = DynamoDBProfileStore(client, TABLE, read_workers=1, salt=SALT)
    record = make_record("crm", "x" * 2100, email="ann@example.com")
    with pytest.raises(RecordRejectedError):
        ingest([record], store, IngestSettings(sleep=lambda _: None))
    long_key = "email#" + "a" * 2100 + "@example.com"
    assert DynamoDBProfileReader(client, TABLE, salt=SALT).owner_of(long_key) is None
    assert DynamoDBErasureStore(client, TABLE, salt=SALT).holders([long_key]) == {}


def test_a_move_cancelled_by_a_transaction_in_flight_is_tried_again_never_taken_for_a_newer_key(
    client: Any,
) -> None:
    """ident_rekey's promise: a move cancelled only by another transaction in flight on one of its
    items (``TransactionConflict``, no guard failed) is read and sent again; it is not taken for a key
    this version wrote meanwhile (whose old item would then be deleted without its copy: the join
    lost). No other test fails when that branch is taken out."""
    client.put_item(
        TableName=TABLE,
        Item={"PK": {"S": f"IDENT#{KEY}"}, "SK": {"S": "IDENT"}, "customer_id": {"S": "c1"}},
    )
    sent: list[str] = []

    def in_flight_once(method: str, **kwargs: Any) -> Any:
        if method == "transact_write_items":
            sent.append(method)
            if len(sent) == 1:
                reasons = [{"Code": "TransactionConflict"}, {"Code": "None"}]
                error = {"Error": {"Code": "TransactionCanceledException", "Message": "in flight"}}
                raise client.exceptions.TransactionCanceledException(
                    {**error, "CancellationReasons": reasons}, "TransactWriteItems"
                )
        return getattr(client, method)(**kwargs)

    layout = IdentLayout(in_flight_once, TABLE, SALT)
    layout.move([KEY])
    keyed = client.get_item(TableName=TABLE, Key={"PK": {"S": ident_pk(KEY, SALT)}, "SK": {"S": "IDENT"}})
    assert keyed.get("Item", {}).get("customer_id") == {"S": "c1"}, "her join was lost in the move"
    assert not [i for i in _items(client) if i["PK"]["S"] == f"IDENT#{KEY}"]


def test_the_profile_api_reads_an_owner_as_it_says_while_the_table_is_upgraded(client: Any) -> None:
    """DynamoDBProfileReader's reads are eventually consistent and project ``customer_id`` (half the
    read units: core.storage.dynamodb_reads) unless built ``consistent``; its read of both keys and the
    marker before the table is marked keeps that (strongly consistent, each of three keys costs twice)."""
    from core.storage.dynamodb_reads import DynamoDBProfileReader

    client.put_item(
        TableName=TABLE,
        Item={"PK": {"S": f"IDENT#{KEY}"}, "SK": {"S": "IDENT"}, "customer_id": {"S": "c1"}},
    )
    sent: list[dict[str, Any]] = []

    def seen(params: dict[str, Any], **_: Any) -> None:
        sent.extend(params["RequestItems"].values())

    client.meta.events.register("before-parameter-build.dynamodb.BatchGetItem", seen)
    reader = DynamoDBProfileReader(client, TABLE, salt=SALT)
    assert reader.owner_of(KEY) == "c1"
    assert [r.get("ConsistentRead") for r in sent] == [False]
    assert "ProjectionExpression" in sent[0]
    sent.clear()
    assert DynamoDBProfileReader(client, TABLE, salt=SALT, consistent=True).owner_of(KEY) == "c1"
    assert [r.get("ConsistentRead") for r in sent] == [True]


def test_the_migration_s_scan_holds_no_set_of_every_identifier() -> None:
    """``rekey-identifiers`` runs over a production table (millions of identifiers, from an operator's
    shell): its Scan of old keys must not keep every key it met. A Scan returns a partition's items
    together, so remembering the last key is enough to name each partition once."""
    import tracemalloc

    pages, per_page = 60, 500

    def scan(method: str, **kwargs: Any) -> dict[str, Any]:
        assert method == "scan"
        page = int(kwargs.get("ExclusiveStartKey", {"n": {"N": "0"}})["n"]["N"])
        items = [
            {"PK": {"S": f"IDENT#email#person{page * per_page + i // 2:09d}@example.com"}, "SK": {"S": sk}}
            for i, sk in zip(range(per_page), ["IDENT", "HOLDER#c9"] * per_page, strict=False)
        ]
        more = {"LastEvaluatedKey": {"n": {"N": str(page + 1)}}} if page + 1 < pages else {}
        return {"Items": items, **more}

    tracemalloc.start()
    try:
        count = sum(1 for _ in IdentLayout(scan, TABLE, SALT).old_keys())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == pages * per_page // 2  # each partition named once
    assert peak < 1_000_000, f"{peak:,} bytes held for {count:,} identifiers"


def test_an_old_item_touched_while_it_is_moved_is_moved_as_touched(client: Any) -> None:
    """ident_rekey's promise: the old IDENT item is deleted only as it was read (``updated_at``
    too). A touch committed to it between the move's read and its write (a writer of the previous
    release still draining) cancels the move, which reads again and carries the touch. No other test
    fails when that guard is taken out."""
    old = {"PK": {"S": f"IDENT#{KEY}"}, "SK": {"S": "IDENT"}}
    client.put_item(
        TableName=TABLE,
        Item={**old, "customer_id": {"S": "c1"}, "record_hash": {"S": "h"}, "updated_at": {"S": "2026-01"}},
    )
    touched: list[bool] = []

    def touch_first(method: str, **kwargs: Any) -> Any:
        if method == "transact_write_items" and not touched:
            touched.append(True)
            client.update_item(
                TableName=TABLE,
                Key=old,
                UpdateExpression="SET updated_at = :t",
                ExpressionAttributeValues={":t": {"S": "2026-02"}},
            )
        return getattr(client, method)(**kwargs)

    IdentLayout(touch_first, TABLE, SALT).move([KEY])
    keyed = client.get_item(TableName=TABLE, Key={"PK": {"S": ident_pk(KEY, SALT)}, "SK": {"S": "IDENT"}})
    assert keyed["Item"]["updated_at"] == {"S": "2026-02"}
