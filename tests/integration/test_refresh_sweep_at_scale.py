"""10,000 records stored, 3 deleted inside the vendor: a completed full refresh retires exactly 3."""

from __future__ import annotations

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from tests.integration.store_port.test_refresh_sweep_on_every_store import ListingConnector, _vendor


def test_ten_thousand_records_with_three_deleted_retire_exactly_three() -> None:
    # GIVEN 10,000 records synced
    vendor = _vendor(10_000, page_size=1_000)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    pull_into_store(ListingConnector(vendor), store, state, erasure=erasure)
    # AND three of them deleted at the vendor: the first, one in the middle, the last
    gone = {"1", "5000", "10000"}
    for key in gone:
        del vendor.records[key]
    # WHEN a full refresh completes
    run = pull_into_store(ListingConnector(vendor), store, state, cursor=None, erasure=erasure)
    # THEN exactly those three are retired
    assert run.sweep is not None
    assert run.sweep.as_dict() == {"listed": 9_997, "stored": 10_000, "unlisted": 3, "swept": 3}
    assert run.retired is not None
    assert run.retired.retired == 3
    assert run.retired.removed_customers == 3
    held = {ref.id for p in store.iter_profiles() for ref in p.sources}
    assert held == set(vendor.records)
    assert not held & gone
