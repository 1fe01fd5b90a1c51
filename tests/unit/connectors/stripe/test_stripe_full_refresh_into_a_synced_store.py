"""A full refresh of Stripe (``sync --full``) into a store that earlier syncs filled.

Stripe customers carry no modification time: a list stream's version of a customer was dated by its
``created``, and a change by its event. A full pull starts its event streams at the newest event
Stripe holds when it begins, so a rename made before it began (and after the last sync) is read
from the list only: dated ``created``, it was older than the version an earlier sync stored from an
event, and the store kept the earlier name (3 of 3 renamed customers). A full pull now dates each
listed object by its newest event Stripe held when it began (``connectors/stripe/_full_dates.py``).

Stripe keeps events 30 days: a customer with no event left changed before the retention horizon,
and is dated there, marked undated: it wins over a version the store read from an older event, and
one of the same content is left as stored, with no write.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from connectors.stripe import PLUGIN, make_sandbox
from connectors.stripe._sandbox import StripeSandbox
from connectors.stripe._sandbox_events import RETENTION
from core.pipeline import IngestSettings
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from core.testing.clock import days_ago

#: Recent, by this machine's date: the sandbox's clock runs in real time (core.testing.clock).
AT = days_ago(1)
SETTINGS = IngestSettings(sleep=lambda _: None)


def _renamed_synced_then_refreshed(
    sandbox: StripeSandbox,
    renamed_again: datetime,
    refresh_at: datetime | None = None,
    renamed: datetime = AT,
) -> None:
    """Three customers renamed at ``renamed`` and synced into a store, renamed again at ``renamed_again``
    (no sync reads that), then a full refresh into the same store (Stripe's clock at
    ``refresh_at``): the store must hold them as a full pull into an empty store does."""
    keys = sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))[:3]
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    with PLUGIN.build(sandbox.settings()) as connector:
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        sandbox.touch(set(keys), at=renamed)
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        sandbox.touch(set(keys), at=renamed_again)
        if refresh_at is not None:
            sandbox.clock.set(refresh_at)
        pull_into_store(connector, store, state, cursor=None, settings=SETTINGS, erasure=erasure)
        fresh = InMemoryProfileStore()
        pull_into_store(connector, fresh, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)
    owners = [f"source#stripe:{k}" for k in keys]
    held = {k: o.record_hash for k, o in store.get_owners(owners).items()}
    assert held == {k: o.record_hash for k, o in fresh.get_owners(owners).items()}


def test_a_full_refresh_after_renames_no_sync_read_keeps_the_names_stripe_holds() -> None:
    # GIVEN a store synced after a rename of three customers, WHEN they are renamed again and a
    # full refresh runs into the same store, THEN it holds them as a full pull into an empty store
    _renamed_synced_then_refreshed(make_sandbox(people=12, seed=5), AT + timedelta(seconds=5))


def test_a_full_refresh_after_a_rename_stripe_no_longer_holds_an_event_of() -> None:
    # GIVEN an account that keeps events 30 days, and a store synced after a rename
    sandbox = make_sandbox(people=12, seed=5, event_retention=RETENTION)
    start = days_ago(41)  # the refresh, 40 days on, is still in this machine's past
    sandbox.clock.set(start)
    # WHEN they are renamed again, no sync runs for 40 days, and a full refresh runs then
    _renamed_synced_then_refreshed(
        sandbox, start + timedelta(days=5), refresh_at=start + timedelta(days=40), renamed=start
    )
