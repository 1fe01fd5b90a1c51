"""A Stripe account holding no event when a full refresh begins (none in the 30 days Stripe keeps
them): the refresh dates what it lists at a bound read from the ``Date`` header alone, which may be
far ahead of Stripe's events (connectors/stripe/_full_dates.py). Every change Stripe makes after it,
renames and deletions, read by later syncs and refreshes in any order, is kept (core.undated)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.stripe import PLUGIN
from core.normalise import NormaliseOptions
from core.ports import RETIRED_HASH
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import SAVED, pull_into_store
from tests.integration.test_attack8_stripe_dates import SETTINGS, _held, _renamed_before

#: A step after the quiet refresh: (hours after the previous step, what Stripe does to which customer
#: (by place, modulo their number), then what reads it: "sync" incremental, "full" a full refresh,
#: "none" nothing until the end).
_STEPS = st.lists(
    st.tuples(
        st.integers(1, 20 * 24),
        st.sampled_from(["rename", "delete", "nothing"]),
        st.integers(0, 3),
        st.sampled_from(["sync", "sync", "full", "none"]),
    ),
    min_size=1,
    max_size=5,
)
#: This machine's clock, years ahead of the account's: no bound on a time the header gives (a time
#: further ahead than the machine's clock is read as the machine's, and kept as a dropped value).
OPTIONS = NormaliseOptions(now=datetime(2030, 1, 1, tzinfo=UTC))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ahead=st.one_of(st.just(45), st.integers(0, 400)), quiet=st.integers(31, 90), steps=_STEPS)
def test_changes_after_a_full_refresh_of_a_quiet_account_are_kept_whatever_the_date_header_says(
    ahead: int, quiet: int, steps: list[tuple[int, str, int, str]]
) -> None:
    # GIVEN an account whose last event is ``quiet`` days old (none held), a Date header ``ahead``
    # days ahead of its events, and a store a full refresh filled
    sandbox, keys, refresh = _renamed_before(timedelta(days=ahead), timedelta(days=quiet))
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)  # deletions are applied with one
    now: datetime = refresh
    with PLUGIN.build(sandbox.settings()) as connector:
        pull_into_store(
            connector, store, state, cursor=None, options=OPTIONS, settings=SETTINGS, erasure=erasure
        )
        # WHEN Stripe renames and deletes customers over the following days, read by incremental
        # syncs and full refreshes (or not read until the end)
        gone: set[str] = set()
        for hours, change, which, read in steps:
            now += timedelta(hours=hours)
            sandbox.clock.set(now)
            key = keys[which % len(keys)]
            if key not in gone and change == "rename":
                sandbox.touch({key}, at=now)
            elif key not in gone and change == "delete":
                sandbox.delete_records({key}, at=now)
                gone.add(key)
            if read != "none":
                pull_into_store(
                    connector,
                    store,
                    state,
                    cursor=None if read == "full" else SAVED,
                    options=OPTIONS,
                    settings=SETTINGS,
                    erasure=erasure,
                )
        sandbox.clock.set(now + timedelta(hours=1))
        pull_into_store(connector, store, state, options=OPTIONS, settings=SETTINGS, erasure=erasure)
        fresh = InMemoryProfileStore()
        pull_into_store(
            connector, fresh, InMemorySyncStateStore(), cursor=None, options=OPTIONS, settings=SETTINGS
        )
    # THEN the store holds every customer as Stripe holds it now (a full pull into an empty store)
    # (a deleted customer's charges keep a link to it: a tombstone's hash, or none when never stored)
    assert _live(store, keys) == _live(fresh, keys)


def _live(store: InMemoryProfileStore, keys: list[str]) -> dict[str, str | None]:
    return {k: None if h == RETIRED_HASH else h for k, h in _held(store, keys).items()}
