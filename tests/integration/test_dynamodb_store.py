"""The DynamoDB store on moto, with the table created from template.yaml's own definition."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from core.errors import StoreLayoutError
from core.pipeline import IngestSettings, ingest
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.ident_keys import ident_pk
from core.testing.invariants import store_problems
from profilesync.template import table_definition
from tests.conftest import make_record
from tests.integration.conftest import TABLE, RequestLog

NO_SLEEP = IngestSettings(sleep=lambda _: None)
Dynamo = tuple[DynamoDBProfileStore, RequestLog]


def _consistent(store: DynamoDBProfileStore) -> None:
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []


def test_table_has_the_template_key_schema(dynamo: Dynamo) -> None:
    store, _ = dynamo
    described = store._client.describe_table(TableName=TABLE)["Table"]
    assert described["KeySchema"] == table_definition()["KeySchema"]
    assert described["StreamSpecification"]["StreamViewType"] == "KEYS_ONLY"


def test_new_attach_merge_and_unchanged_on_dynamodb(dynamo: Dynamo) -> None:
    store, log = dynamo
    ingest([make_record("crm", "1", email="ann@example.com")], store, NO_SLEEP)
    ingest([make_record("shop", "1", phone="+442079460018")], store, NO_SLEEP)
    result = ingest(
        [make_record("email", "1", email="ann@example.com", phone="+442079460018")], store, NO_SLEEP
    )
    assert result.merged_customers == 1
    [profile] = store.iter_profiles()
    assert len(profile.sources) == 3
    _consistent(store)
    # WHEN the same record arrives again THEN one read and no write at all
    before = log.writes()
    calls_before = log.total()
    again = ingest(
        [make_record("email", "1", email="ann@example.com", phone="+442079460018")], store, NO_SLEEP
    )
    assert again.unchanged == 1
    assert log.writes() == before
    assert log.total() - calls_before == 1  # one BatchGetItem


def test_echoes_move_only_the_watermark_in_one_transaction_and_late_versions_stay_stale(
    dynamo: Dynamo,
) -> None:
    store, log = dynamo
    people = [make_record("crm", str(i), email=f"p{i}@example.com", day=1) for i in range(30)]
    ingest(people, store, NO_SLEEP)
    profiles = {p.customer_id: p for p in store.iter_profiles()}
    log.calls.clear()
    log.transaction_sizes.clear()
    # WHEN all 30 come back with a newer timestamp only (the echoes of a push)
    echoes = [make_record("crm", str(i), email=f"p{i}@example.com", day=4) for i in range(30)]
    result = ingest(echoes, store, NO_SLEEP)
    # THEN one read, one 30-item transaction of watermark updates, and no profile changed
    assert (result.unchanged, result.touched, result.written) == (30, 30, 0)
    assert log.calls["BatchGetItem"] == 1
    assert log.transaction_sizes == [30]
    assert {p.customer_id: p for p in store.iter_profiles()} == profiles
    item = store._client.get_item(
        TableName=TABLE, Key={"PK": {"S": ident_pk("source#crm:contact:3", store.salt)}, "SK": {"S": "IDENT"}}
    )
    assert item["Item"]["updated_at"]["S"].startswith("2026-01-05")
    # AND a different version older than the echo (day 2, delivered late) is stale
    late = ingest([make_record("crm", "3", email="moved@example.com", day=2)], store, NO_SLEEP)
    assert late.stale == 1
    assert "email#p3@example.com" in store.ident_owners()
    _consistent(store)


def test_a_merge_hands_over_an_echoed_watermark_with_one_more_read(dynamo: Dynamo) -> None:
    store, log = dynamo
    ingest([make_record("crm", "1", email="ann@example.com", day=1)], store, NO_SLEEP)
    ingest([make_record("shop", "1", email="bo@example.com", day=1)], store, NO_SLEEP)
    ingest(
        [
            make_record("crm", "1", email="ann@example.com", day=5),
            make_record("shop", "1", email="bo@example.com", day=5),
        ],
        store,
        NO_SLEEP,
    )
    log.calls.clear()
    # WHEN a record with both emails merges the two customers
    bridge = make_record("hub", "1", email=["ann@example.com", "bo@example.com"], day=6)
    assert ingest([bridge], store, NO_SLEEP).merged_customers == 1
    # THEN the moved source identifier keeps the echo's time (read once more, for the moving keys)
    assert log.calls["BatchGetItem"] == 2
    for key in ("crm:contact:1", "shop:contact:1"):
        item = store._client.get_item(
            TableName=TABLE, Key={"PK": {"S": ident_pk(f"source#{key}", store.salt)}, "SK": {"S": "IDENT"}}
        )
        assert item["Item"]["updated_at"]["S"].startswith("2026-01-06"), key
    # AND versions from before the echo, delivered late, stay stale
    late = [
        make_record("crm", "1", email="x@example.com", day=3),
        make_record("shop", "1", email="y@example.com", day=3),
    ]
    assert ingest(late, store, NO_SLEEP).stale == 2
    _consistent(store)


def test_an_update_that_removes_the_shared_email_splits_the_customer_on_dynamodb(dynamo: Dynamo) -> None:
    store, _ = dynamo
    ann = make_record("crm", "1", email=["ann@example.com", "family@example.com"], day=1)
    bo = make_record("shop", "1", email=["bo@example.com", "family@example.com"], day=1)
    ingest([ann, bo], store, NO_SLEEP)
    [merged] = store.iter_profiles()
    # WHEN Ann's record no longer carries the family inbox
    result = ingest([make_record("crm", "1", email="ann@example.com", day=2)], store, NO_SLEEP)
    # THEN Bo's record and identifiers move to a customer of their own, in one transaction
    assert (result.split_customers, result.unsplit) == (1, [])
    profiles = {p.sources[0].source: p for p in store.iter_profiles()}
    assert profiles["crm"].customer_id == merged.customer_id
    owners = store.ident_owners()
    bo_id = profiles["shop"].customer_id
    assert owners["source#shop:contact:1"] == owners["email#family@example.com"] == bo_id
    item = store._client.get_item(
        TableName=TABLE,
        Key={"PK": {"S": ident_pk("source#shop:contact:1", store.salt)}, "SK": {"S": "IDENT"}},
    )
    assert item["Item"]["updated_at"]["S"].startswith("2026-01-02")  # its watermark went along
    _consistent(store)


def test_changed_email_no_longer_points_at_the_customer(dynamo: Dynamo) -> None:
    store, _ = dynamo
    ingest([make_record("crm", "1", email="old@example.com", day=1)], store, NO_SLEEP)
    ingest([make_record("crm", "1", email="new@example.com", day=2)], store, NO_SLEEP)
    owners = store.ident_owners()
    assert "email#old@example.com" not in owners
    assert "email#new@example.com" in owners
    # AND a newcomer with the old email is a different customer now
    ingest([make_record("shop", "7", email="old@example.com")], store, NO_SLEEP)
    assert len(list(store.iter_profiles())) == 2
    _consistent(store)


def test_a_batch_of_new_records_packs_transactions_up_to_the_aws_limit(dynamo: Dynamo) -> None:
    store, log = dynamo
    records = [
        make_record("crm", str(i), email=f"p{i}@example.com", phone=f"+4420794{i:05d}") for i in range(200)
    ]
    ingest(records, store, NO_SLEEP)
    assert len(list(store.iter_profiles())) == 200
    assert max(log.transaction_sizes) <= 100
    # 200 records x 6 items (profile, source, 3 identifiers, the arrival in the history): 16 whole
    # changesets fit one transaction (96 items) -> 13 transactions; 600 keys -> 6 BatchGetItem
    assert log.calls["TransactWriteItems"] == 13
    assert log.total() / len(records) <= 0.15


class OldEndpoint:
    """A client that rejects transactions over 25 items, as DynamoDB did before 2022 and some
    emulators still do, with the error AWS returned then."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.exceptions = client.exceptions

    def transact_write_items(self, **kwargs: Any) -> Any:
        if len(kwargs["TransactItems"]) > 25:
            raise ClientError(
                {
                    "Error": {
                        "Code": "ValidationException",
                        "Message": "1 validation error detected: Value "
                        "at 'transactItems' failed to satisfy constraint: Member must have length less "
                        "than or equal to 25",
                    }
                },
                "TransactWriteItems",
            )
        return self._client.transact_write_items(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_store_falls_back_to_25_items_where_the_endpoint_enforces_the_old_limit(dynamo: Dynamo) -> None:
    store, log = dynamo
    old = DynamoDBProfileStore(OldEndpoint(store._client), TABLE)
    records = [make_record("crm", str(i), email=f"p{i}@example.com") for i in range(30)]
    ingest(records, old, NO_SLEEP)
    assert old.max_items_per_commit == 25
    assert len(list(old.iter_profiles())) == 30
    assert max(log.transaction_sizes) <= 25
    _consistent(old)


def test_large_merge_in_steps_on_dynamodb(dynamo: Dynamo) -> None:
    store, _ = dynamo
    store.max_items_per_commit = 12
    left = [
        make_record("crm", f"l{i}", email="left@example.com", phone=f"+4420794600{i:02d}") for i in range(5)
    ]
    right = [make_record("shop", f"r{i}", email="right@example.com") for i in range(5)]
    ingest(left, store, NO_SLEEP)
    ingest(right, store, NO_SLEEP)
    ingest([make_record("email", "b", email=["left@example.com", "right@example.com"])], store, NO_SLEEP)
    [profile] = store.iter_profiles()
    assert len(profile.sources) == 11
    _consistent(store)


def test_missing_table_is_a_clear_error(dynamo: Dynamo) -> None:
    store, _ = dynamo
    missing = DynamoDBProfileStore(store._client, "no-such-table")
    with pytest.raises(StoreLayoutError, match="no-such-table"):
        ingest([make_record("crm", "1", email="a@example.com")], missing, NO_SLEEP)
