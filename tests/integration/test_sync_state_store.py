"""The DynamoDB SyncStateStore (SYNC#, PUSHED#, QUARANTINE# items) against moto."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.errors import ConflictError
from core.ports import PushedState, QuarantineEntry, SyncState
from core.storage.dynamodb import DynamoDBProfileStore, DynamoDBSyncStateStore
from tests.integration.conftest import TABLE, RequestLog


class BatchSizes:
    def __init__(self, client: Any) -> None:
        self.sizes: list[int] = []
        client.meta.events.register("before-parameter-build.dynamodb.BatchWriteItem", self._count)

    def _count(self, params: dict[str, Any], **_: Any) -> None:
        self.sizes.append(sum(len(v) for v in params["RequestItems"].values()))


@pytest.fixture
def state_store(dynamo: tuple[DynamoDBProfileStore, RequestLog]) -> DynamoDBSyncStateStore:
    store, _ = dynamo
    return DynamoDBSyncStateStore(store._client, TABLE)


def test_cursor_round_trips_and_a_stale_save_conflicts(state_store: DynamoDBSyncStateStore) -> None:
    # GIVEN a connector never synced
    assert state_store.get_sync_state("hubspot") == SyncState("hubspot")
    # WHEN a run saves twice
    first = state_store.put_sync_state(SyncState("hubspot", "c1", report='{"pages": 1}'))
    second = state_store.put_sync_state(SyncState("hubspot", "c2", first.version))
    # THEN the latest cursor and version are read back
    got = state_store.get_sync_state("hubspot")
    assert (got.cursor, got.version) == ("c2", 2)
    assert second.version == 2
    # AND a run that read version 1 cannot move the cursor back
    with pytest.raises(ConflictError):
        state_store.put_sync_state(SyncState("hubspot", "c1-late", 1))
    # AND a first save races too: a second "first" save conflicts
    state_store.put_sync_state(SyncState("mailchimp", "m1"))
    with pytest.raises(ConflictError):
        state_store.put_sync_state(SyncState("mailchimp", "m0"))
    assert state_store.get_sync_state("hubspot").cursor == "c2"


def test_pushed_hashes_are_written_in_batches_of_at_most_25(state_store: DynamoDBSyncStateStore) -> None:
    sizes = BatchSizes(state_store._client)
    states = [PushedState(f"cus_{i:03d}", "hubspot", f"h{i}", f"r{i}") for i in range(60)]
    # WHEN 60 push hashes are saved (one customer twice: the last wins)
    state_store.put_pushed([*states, PushedState("cus_000", "hubspot", "newer")])
    # THEN AWS's batch limit holds, and they read back per destination
    assert sizes.sizes == [25, 25, 10]
    got = state_store.get_pushed("hubspot", [s.customer_id for s in states] + ["cus_missing"])
    assert len(got) == 60
    assert got["cus_000"].payload_hash == "newer"
    assert got["cus_007"].remote_id == "r7"
    assert state_store.get_pushed("mailchimp", ["cus_001"]) == {}


def test_push_hashes_do_not_disturb_the_customer_they_sit_under(
    dynamo: tuple[DynamoDBProfileStore, RequestLog], state_store: DynamoDBSyncStateStore
) -> None:
    from core.pipeline import IngestSettings, ingest
    from tests.conftest import make_record

    store, _ = dynamo
    result = ingest([make_record("crm", "1", email="ann@example.com")], store, IngestSettings())
    (cid,) = result.customers
    state_store.put_pushed([PushedState(cid, "hubspot", "h")])
    # WHEN the customer is read back
    state = store.get_customers([cid])[cid]
    # THEN it is the same customer with its one snapshot
    assert list(state.snapshots) == ["crm:contact:1"]
    assert state.profile is not None


def test_quarantined_records_are_kept_with_reason_and_an_expiry(state_store: DynamoDBSyncStateStore) -> None:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    state_store.put_quarantined(
        [QuarantineEntry("shopify", "shopify:customer:1", "no email or phone", '{"id": 1}', at)]
    )
    (entry,) = state_store.quarantined("shopify")
    assert entry.reason == "no email or phone"
    assert entry.key == "shopify:customer:1"
    assert entry.at == at
    item = state_store._client.get_item(
        TableName=TABLE,
        Key={"PK": {"S": "QUARANTINE#shopify"}, "SK": {"S": f"{at.isoformat()}#shopify:customer:1"}},
    )["Item"]
    assert int(item["expires_at"]["N"]) == int(datetime(2026, 12, 1, tzinfo=UTC).timestamp())


def test_changed_profiles_reads_profile_items_in_batches_and_follows_merges(
    dynamo: tuple[DynamoDBProfileStore, RequestLog],
) -> None:
    from core.pipeline import IngestSettings, ingest
    from core.sync import changed_profiles
    from tests.conftest import make_record

    store, log = dynamo
    settings = IngestSettings(sleep=lambda _: None)
    first = ingest([make_record("crm", "1", email="ann@example.com")], store, settings)
    second = ingest([make_record("shop", "2", phone="+442079460018")], store, settings)
    # GIVEN the two customers merged by a record that carries both identifiers
    ingest([make_record("email", "3", email="ann@example.com", phone="+442079460018")], store, settings)
    log.calls.clear()
    # WHEN the profiles of the two original customers (one now merged away) are asked for
    profiles = changed_profiles(store, first.customers | second.customers)
    # THEN the one live profile comes back, read without a single Query
    assert len(profiles) == 1
    assert len(profiles[0].sources) == 3
    assert log.calls["Query"] == 0
    assert log.calls["BatchGetItem"] >= 1
