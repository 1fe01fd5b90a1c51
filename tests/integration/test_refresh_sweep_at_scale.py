"""3,000 records stored over ten pages, 3 deleted inside the vendor (the first, one in the middle of a
page, the last): a completed full refresh retires exactly 3. (10,000 took 17 s of the suite for the
same pages and the same assertions; the sweep's memory at 1M keys is measured in docs/architecture.md.)"""

from __future__ import annotations

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from tests.integration.store_port.test_refresh_sweep_on_every_store import ListingConnector, _vendor


def test_thousands_of_records_with_three_deleted_retire_exactly_three() -> None:
    # GIVEN 3,000 records synced
    vendor = _vendor(3_000, page_size=300)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    pull_into_store(ListingConnector(vendor), store, state, erasure=erasure)
    # AND three of them deleted at the vendor: the first, one in the middle, the last
    gone = {"1", "1650", "3000"}
    for key in gone:
        del vendor.records[key]
    # WHEN a full refresh completes
    run = pull_into_store(ListingConnector(vendor), store, state, cursor=None, erasure=erasure)
    # THEN exactly those three are retired
    assert run.sweep is not None
    assert run.sweep.as_dict() == {"listed": 2_997, "stored": 3_000, "unlisted": 3, "swept": 3}
    assert run.retired is not None
    assert run.retired.retired == 3
    assert run.retired.removed_customers == 3
    held = {ref.id for p in store.iter_profiles() for ref in p.sources}
    assert held == set(vendor.records)
    assert not held & gone
