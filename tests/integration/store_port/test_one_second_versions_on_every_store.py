"""Versions of one Stripe object on one second, on each of the three stores.

Stripe's events are stamped in whole seconds; the connector orders the versions of one second by
microseconds (connectors/stripe/_connector.py), so every store must keep them and compare them as
they are: the newest rename wins, and a deletion on that second retires the customer.
"""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.stripe import PLUGIN, make_sandbox
from core.pipeline import IngestSettings
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store

from .conftest import StoreKit

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)
SETTINGS = IngestSettings(sleep=lambda _: None)


def test_renames_on_one_second_each_read_by_a_sync_end_on_the_newest_and_a_deletion_retires(
    kit: StoreKit,
) -> None:
    # GIVEN a synced store
    sandbox = make_sandbox(people=12, seed=7)
    customers = sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))
    renamed, gone = customers[:3], customers[3]
    erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    with PLUGIN.build(sandbox.settings()) as connector:

        def sync() -> None:
            pull_into_store(connector, kit.profiles, kit.sync_state, settings=SETTINGS, erasure=erasure)

        sync()
        # WHEN customers are renamed three times on one second with a sync after each rename, and
        # another is renamed, synced, renamed and deleted on that second
        for _ in range(3):
            sandbox.touch({*renamed, gone}, at=AT)
            sync()
        sandbox.touch({gone}, at=AT)
        sandbox.delete_records({gone}, at=AT)
        sync()
        fresh = InMemoryProfileStore()
        pull_into_store(connector, fresh, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)

    # THEN the store holds each renamed customer as Stripe now does, and not the deleted one
    keys = [f"source#stripe:{k}" for k in renamed]
    stored = {k: o.record_hash for k, o in kit.profiles.get_owners(keys).items()}
    assert stored == {k: o.record_hash for k, o in fresh.get_owners(keys).items()}
    held = {r.key for p in kit.profiles.iter_profiles() for r in p.sources}
    assert f"stripe:{gone}" not in held
    assert {f"stripe:{k}" for k in renamed} <= held
