"""A full refresh of Stripe when the events that would date its objects are gone (30 days).

An object with no event left last changed before the retention horizon (30 days before Stripe's
clock, read from its ``Date`` header); a full pull dates it there and marks it undated
(``connectors/stripe/_full_dates.py``). So, whatever renames and incremental syncs came before, in
any order and at any distance from the refresh:

* the store holds each customer as a full pull into an empty store does (the newest name wins over
  a version an older, expired event gave);
* a refresh that finds the store holding what Stripe holds writes nothing (no touch to the newer,
  undated time);
* a customer created after the horizon and never changed keeps its creation time.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.stripe import PLUGIN, make_sandbox
from connectors.stripe._sandbox import StripeSandbox
from connectors.stripe._sandbox_events import RETENTION
from core.merge import record_hash
from core.pipeline import IngestSettings
from core.record_json import record_json
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from core.testing.clock import days_ago
from core.testing.records import make_record

#: Far enough back that the furthest step (100 days, a refresh 60 days and an hour on) stays in this
#: machine's past: the product reads a later time as its own clock (core.testing.clock).
AT = days_ago(170)
SETTINGS = IngestSettings(sleep=lambda _: None)
#: The sandbox's read limit, passed to the connector (its ``requests_per_second``): paced at test
#: mode's 25 a second, the pulls of each example waited seconds of real time.
UNPACED = 10_000


def _held(store: InMemoryProfileStore, keys: list[str]) -> dict[str, str | None]:
    owners = store.get_owners([f"source#stripe:{k}" for k in keys])
    return {k: o.record_hash for k, o in owners.items()}


def _fresh(sandbox: StripeSandbox, keys: list[str]) -> dict[str, str | None]:
    fresh = InMemoryProfileStore()
    with PLUGIN.build(sandbox.settings()) as connector:
        pull_into_store(connector, fresh, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)
    return _held(fresh, keys)


STEP = st.tuples(st.integers(1, 100), st.sampled_from(["rename", "sync"]), st.integers(0, 2))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(STEP, max_size=5), after=st.integers(0, 60))
def test_a_full_refresh_holds_what_stripe_holds_and_writes_nothing_when_the_store_does(
    steps: list[tuple[int, str, int]], after: int
) -> None:
    # GIVEN an account that keeps events 30 days, synced at day 0, then renames of customers and
    # incremental syncs on drawn days, and a full refresh ``after`` days after the last of them
    sandbox = make_sandbox(people=8, seed=3, event_retention=RETENTION, requests_per_second=UNPACED)
    sandbox.clock.set(AT)
    keys = sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    with PLUGIN.build(sandbox.settings()) as connector:
        pull_into_store(connector, store, state, settings=SETTINGS)
        last = 0
        for day, action, which in sorted(steps):
            sandbox.clock.set(AT + timedelta(days=day, seconds=which))
            last = day
            if action == "rename":
                sandbox.touch({keys[which]}, at=AT + timedelta(days=day, seconds=which))
            else:
                pull_into_store(connector, store, state, settings=SETTINGS)
        sandbox.clock.set(AT + timedelta(days=last + after, hours=1))
        current = _fresh(sandbox, keys)
        before, writes = _held(store, keys), store.writes
        # WHEN the full refresh runs into the synced store
        pull_into_store(connector, store, state, cursor=None, settings=SETTINGS)
    # THEN it holds every customer as a fresh full pull does, and wrote only if it held another
    assert _held(store, keys) == current
    if before == current:
        assert store.writes == writes


@pytest.mark.parametrize(
    "steps",
    [
        [(1, "rename", 0), (1, "rename", 0), (1, "sync", 0)],
        [(1, "rename", 0), (2, "rename", 0), (3, "sync", 0)],  # both on its creation's second
        [(1, "rename", 0), (1, "rename", 0), (1, "rename", 1), (1, "sync", 0)],
        [(1, "rename", 0), (1, "rename", 0), (1, "sync", 0), (1, "rename", 0), (1, "sync", 0)],
    ],
    ids=["one-second", "days-1-and-2", "another-customer-between", "renamed-again-after-the-sync"],
)
def test_a_refresh_after_two_renames_in_one_second_writes_nothing(steps: list[tuple[int, str, int]]) -> None:
    """GIVEN one customer renamed twice in the same second on day 1, then an incremental sync WHEN a
    full refresh runs an hour later THEN the store holds what Stripe holds and nothing is written
    (the sync read both events and kept the newer, dated one microsecond into the second; the refresh
    dated it after its previous event, two: a touch)."""
    test = test_a_full_refresh_holds_what_stripe_holds_and_writes_nothing_when_the_store_does
    inner = test.hypothesis.inner_test  # type: ignore[attr-defined]
    inner(steps=steps, after=0)


def test_a_customer_created_after_the_horizon_keeps_its_creation_time() -> None:
    # GIVEN a customer created 5 days before a full pull, never changed (its creation event is not
    # one a full pull reads), and the account's others, created more than 30 days before it
    sandbox = make_sandbox(people=4, seed=3, event_retention=RETENTION, requests_per_second=UNPACED)
    created = AT + timedelta(days=35)
    sandbox.clock.set(created)
    (new,) = sandbox.add_records(1, at=created)
    old = sorted(k for k in sandbox.record_keys() if k.startswith("customer:") and k != new)
    sandbox.clock.set(AT + timedelta(days=40))
    store = InMemoryProfileStore()
    with PLUGIN.build(sandbox.settings()) as connector:
        pull_into_store(connector, store, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)
    owners = store.get_owners([f"source#stripe:{k}" for k in [new, *old]])
    # THEN the new one is dated when it was created; the others at the horizon, 30 days back and
    # rounded up to midnight (or when they were created, for those the fixture made after it)
    horizon = datetime.combine(AT.date() + timedelta(days=11), time(), tzinfo=UTC)
    assert owners[f"source#stripe:{new}"].updated_at == created
    for key in old:
        made = datetime.fromtimestamp(sandbox.customers[key.partition(":")[2]]["created"], UTC)
        assert owners[f"source#stripe:{key}"].updated_at == max(made, horizon)
    assert any(owners[f"source#stripe:{k}"].updated_at == horizon for k in old)


def test_an_undated_version_says_so_through_a_message_and_hashes_as_any() -> None:
    # An undated version crosses the pull -> merge queue as JSON: the mark goes with it; a record
    # without it is written as before (no key), and both hash alike (the mark is no content).
    record = make_record("stripe", "cus_1", email="a@example.com")
    undated = record.model_copy(update={"undated": True})
    assert "undated" not in record.model_dump_json()
    assert SourceRecord.model_validate_json(undated.model_dump_json()).undated
    assert record_hash(undated) == record_hash(record)
    assert record_json(undated) != record_json(record)
