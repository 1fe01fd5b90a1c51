"""attack8: Stripe's 30-day horizon when Stripe's ``Date`` header is not the time of its events.

A full refresh dates an object with no event left at the retention horizon, 30 days before the
``Date`` header of the answer to its events walk (connectors/stripe/_full_dates.py). The header is
the only clock read: a header days ahead of Stripe's events (a proxy or a replaying cache in front
of the API, a test double) put the horizon after the pull began, so the refresh dated the objects
it listed in the future, and a rename Stripe recorded the next morning was older than that version:
the store kept the old name (every change is kept: broken). With 45 days ahead, the store held a
customer's name of before her rename after the incremental sync that read it.

The horizon bounds an object's last change; an object with no held event changed before every event
Stripe holds, so it changed before the newest of them (the event streams' watermark, on Stripe's
event clock): the horizon is no later than that. An account holding no event at all gives no such
bound: with a Date header that far ahead, its objects are still dated after the pull, and a change
read after it replaces that version whatever its time (core.undated).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.stripe import PLUGIN, make_sandbox
from connectors.stripe._sandbox import StripeSandbox
from connectors.stripe._sandbox_events import RETENTION
from core.identity import IdentityPolicy
from core.person_scope import locate
from core.pipeline import IngestSettings
from core.schema import Identifier
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.suppression import SuppressionCheck
from core.sync import pull_into_store
from tests.integration.test_erasure_attacks import SALT, STORES, Stores

AT = datetime(2026, 9, 1, 12, tzinfo=UTC)
SETTINGS = IngestSettings(sleep=lambda _: None)
#: The sandbox's read limit, passed to the connector (its ``requests_per_second``): paced at test
#: mode's 25 a second, the pulls of each example waited seconds of real time.
UNPACED = 10_000


def _skewed(sandbox: StripeSandbox, ahead: timedelta) -> None:
    """Every answer's ``Date`` header ``ahead`` of the account's clock (its events' times)."""
    route = sandbox.route

    def answer(request: httpx.Request) -> httpx.Response:
        response = route(request)
        response.headers["Date"] = format_datetime(sandbox.clock.now().astimezone(UTC) + ahead, usegmt=True)
        return response

    sandbox.route = answer  # type: ignore[method-assign]


def _renamed_before(ahead: timedelta, before: timedelta) -> tuple[StripeSandbox, list[str], datetime]:
    """An account keeping events 30 days whose ``Date`` header is ``ahead`` of its events, its first
    customer renamed ``before`` a full refresh at ``AT`` + 40 days; its customers' keys, and the
    refresh's time (the account's clock is set there)."""
    sandbox = make_sandbox(people=4, seed=3, event_retention=RETENTION, requests_per_second=UNPACED)
    _skewed(sandbox, ahead)
    keys = sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))
    refresh = AT + timedelta(days=40)
    sandbox.clock.set(refresh - before)
    sandbox.touch({keys[0]}, at=refresh - before)
    sandbox.clock.set(refresh)
    return sandbox, keys, refresh


def _held(store: InMemoryProfileStore, keys: list[str]) -> dict[str, str | None]:
    owners = store.get_owners([f"source#stripe:{k}" for k in keys])
    return {k: o.record_hash for k, o in owners.items()}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ahead=st.one_of(st.just(45), st.integers(0, 400)),
    quiet=st.integers(0, 29),
    renamed=st.sets(st.integers(0, 3), min_size=1),
    later=st.integers(1, 3 * 24 * 3600),
)
def test_a_rename_after_a_full_refresh_is_kept_whatever_the_date_header_says(
    ahead: int, quiet: int, renamed: set[int], later: int
) -> None:
    # GIVEN an account keeping events 30 days, a rename ``quiet`` days before a full refresh (its
    # event held), and a Date header ``ahead`` days ahead of the account's events
    sandbox, keys, refresh = _renamed_before(timedelta(days=ahead), timedelta(days=quiet))
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    with PLUGIN.build(sandbox.settings()) as connector:
        pull_into_store(connector, store, state, cursor=None, settings=SETTINGS)
        # WHEN customers are renamed ``later`` seconds after it and an incremental sync reads them
        sandbox.clock.set(refresh + timedelta(seconds=later))
        sandbox.touch({keys[i % len(keys)] for i in renamed}, at=refresh + timedelta(seconds=later))
        pull_into_store(connector, store, state, settings=SETTINGS)
        fresh = InMemoryProfileStore()
        pull_into_store(connector, fresh, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)
    # THEN the store holds every customer as Stripe holds it now (a full pull into an empty store)
    assert _held(store, keys) == _held(fresh, keys)


def test_a_date_header_45_days_ahead_dates_no_listed_customer_after_the_pull() -> None:
    # GIVEN an account whose newest event is a rename on the day of a full refresh, and a Date
    # header 45 days ahead of its events
    sandbox = make_sandbox(people=4, seed=3, event_retention=RETENTION, requests_per_second=UNPACED)
    _skewed(sandbox, timedelta(days=45))
    keys = sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))
    refresh = AT + timedelta(days=40)
    sandbox.clock.set(refresh)
    sandbox.touch({keys[0]}, at=refresh - timedelta(hours=1))
    store = InMemoryProfileStore()
    with PLUGIN.build(sandbox.settings()) as connector:
        # WHEN the full refresh runs
        pull_into_store(connector, store, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)
    # THEN no customer is dated after the account's clock when it ran (or its creation, for the
    # fixture's customers created later)
    owners = store.get_owners([f"source#stripe:{k}" for k in keys])
    assert len(owners) == len(keys)
    for key in keys:
        made = datetime.fromtimestamp(sandbox.customers[key.partition(":")[2]]["created"], UTC)
        assert owners[f"source#stripe:{key}"].updated_at <= max(refresh, made)


def test_a_rename_after_a_full_refresh_of_a_quiet_account_is_kept_with_a_date_header_ahead() -> None:
    # GIVEN an account whose last event is 31 days old (none held), a Date header 45 days ahead
    sandbox, keys, refresh = _renamed_before(timedelta(days=45), timedelta(days=31))
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    with PLUGIN.build(sandbox.settings()) as connector:
        pull_into_store(connector, store, state, cursor=None, settings=SETTINGS)
        # WHEN she is renamed the next day and an incremental sync reads it
        sandbox.clock.set(refresh + timedelta(days=1))
        sandbox.touch({keys[0]}, at=refresh + timedelta(days=1))
        pull_into_store(connector, store, state, settings=SETTINGS)
        fresh = InMemoryProfileStore()
        pull_into_store(connector, fresh, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)
    # THEN the store holds her new name
    assert _held(store, keys) == _held(fresh, keys)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edge=st.integers(-2 * 24 * 3600, 2 * 24 * 3600),
    synced=st.booleans(),
    again=st.booleans(),
    ahead=st.sampled_from([0, 0, 1, 31]),
    gap=st.integers(1, 6 * 3600),
)
def test_a_rename_at_the_30_day_edge_survives_two_full_refreshes(
    edge: int, synced: bool, again: bool, ahead: int, gap: int
) -> None:
    # GIVEN a store synced once, a rename ``edge`` seconds from 30 days before a full refresh (its
    # event held or just expired) after another read by a sync, the later read by an incremental
    # sync or not, and a Date header ``ahead`` seconds ahead of the events
    sandbox = make_sandbox(people=4, seed=3, event_retention=RETENTION, requests_per_second=UNPACED)
    _skewed(sandbox, timedelta(seconds=ahead))
    keys = sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))
    refresh = AT + timedelta(days=40, hours=13)
    renamed = refresh - RETENTION + timedelta(seconds=edge)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    with PLUGIN.build(sandbox.settings()) as connector:
        sandbox.clock.set(renamed - timedelta(days=1))
        pull_into_store(connector, store, state, settings=SETTINGS)
        # an earlier rename, ``gap`` seconds before, read by a sync: the store's version is dated there
        sandbox.clock.set(renamed - timedelta(seconds=gap))
        sandbox.touch({keys[0]}, at=renamed - timedelta(seconds=gap))
        pull_into_store(connector, store, state, settings=SETTINGS)
        sandbox.clock.set(renamed)
        sandbox.touch({keys[0]}, at=renamed)
        if synced:
            sandbox.clock.set(renamed + timedelta(seconds=1))
            pull_into_store(connector, store, state, settings=SETTINGS)
        # WHEN one full refresh runs, and (``again``) another a day later
        for day in range(2 if again else 1):
            sandbox.clock.set(refresh + timedelta(days=day))
            pull_into_store(connector, store, state, cursor=None, settings=SETTINGS)
        fresh = InMemoryProfileStore()
        pull_into_store(connector, fresh, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)
    # THEN the store holds every customer as Stripe holds it
    assert _held(store, keys) == _held(fresh, keys)


@pytest.mark.parametrize("stores_of", [STORES[n] for n in sorted(STORES)], ids=sorted(STORES))
def test_an_erased_customer_stays_out_of_two_full_refreshes_and_the_others_cost_no_write(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    # GIVEN an account whose customers have no event left (each listed undated), pulled in full
    sandbox = make_sandbox(people=4, seed=3, event_retention=RETENTION, requests_per_second=UNPACED)
    keys = sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))
    with stores_of() as stores, PLUGIN.build(sandbox.settings()) as connector:
        sandbox.clock.set(AT + timedelta(days=40))
        pull_into_store(connector, stores.profiles, stores.sync_state, cursor=None, settings=SETTINGS)
        her = f"stripe:{keys[0]}"
        state = locate(stores.profiles, Identifier(kind="source", value=her))
        assert state is not None
        assert state.profile is not None
        checked = replace(SETTINGS, suppression=SuppressionCheck(stores.suppression, SALT))
        # WHEN she is erased here (Stripe still holds her) and two full refreshes run, a day apart
        report = stores.erase(Identifier(kind="source", value=her), "req-stripe", IdentityPolicy(), SETTINGS)
        assert report.outcome == "erased"
        others = {k: v for k, v in _held_on(stores.profiles, keys).items() if k != keys[0]}
        for day in (41, 42):
            sandbox.clock.set(AT + timedelta(days=day))
            pull = pull_into_store(
                connector, stores.profiles, stores.sync_state, cursor=None, settings=checked
            )
            # THEN she is dropped each time, and the others are held as they were
            assert pull.ingest.suppressed + pull.suppressed >= 1
            assert locate(stores.profiles, Identifier(kind="source", value=her)) is None
            assert _held_on(stores.profiles, keys) == others


def _held_on(store: Any, keys: list[str]) -> dict[str, tuple[str | None, datetime | None]]:
    owners = store.get_owners([f"source#stripe:{k}" for k in keys])
    return {k.removeprefix("source#stripe:"): (o.record_hash, o.updated_at) for k, o in owners.items()}
