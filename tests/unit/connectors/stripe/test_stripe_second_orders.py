"""Stripe's versions on one second, in any order of renames, deletions and syncs.

Events' ``created`` is in whole seconds. Whatever happens on a second, and whenever the syncs run
between the changes, the store ends holding each customer as a full pull of Stripe now gives it, and
no customer deleted at Stripe.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.stripe import StripeConnector, make_sandbox
from connectors.stripe._sandbox import StripeSandbox
from core.pipeline import IngestSettings
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from core.testing.clock import days_ago
from tests.unit.connectors.stripe.test_stripe_full_refresh_interleavings import UNPACED

#: Recent, by this machine's date: the sandbox's clock runs in real time (core.testing.clock).
AT = days_ago(1)
SETTINGS = IngestSettings(sleep=lambda _: None)
PEOPLE = 12

#: One step: which customer (index), what happens to it, whether Stripe's clock moves on a second
#: first, and whether a sync runs after it.
Step = tuple[int, str, bool, bool]
STEPS = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.sampled_from(["rename", "rename", "rename", "delete"]),
        st.booleans(),
        st.booleans(),
    ),
    min_size=1,
    max_size=12,
)


def _customers(sandbox: StripeSandbox) -> list[str]:
    return sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))


def _run(steps: list[Step]) -> None:
    # Unpaced, on a sandbox serving 10,000 requests a second: pacing at Stripe's 25 was 40% of each
    # example's time, in real seconds that no step's order depends on.
    sandbox = make_sandbox(people=PEOPLE, seed=5, requests_per_second=10_000)
    keys = _customers(sandbox)[:4]
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)

    def sync() -> None:
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)

    with StripeConnector(UNPACED, sandbox.settings()) as connector:
        sync()
        second, deleted = 0, set[str]()
        for index, action, tick, then_sync in steps:
            second += int(tick)
            key = keys[index]
            if key not in deleted:
                if action == "rename":
                    sandbox.touch({key}, at=AT + timedelta(seconds=second))
                else:
                    sandbox.delete_records({key}, at=AT + timedelta(seconds=second))
                    deleted.add(key)
            if then_sync:
                sync()
        sync()
        fresh = InMemoryProfileStore()
        pull_into_store(connector, fresh, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)

    live = [f"stripe:{k}" for k in keys if k not in deleted]
    held = {r.key for p in store.iter_profiles() for r in p.sources}
    assert not {f"stripe:{k}" for k in deleted} & held, "a customer deleted at Stripe is in a profile"

    def versions(profiles: InMemoryProfileStore) -> dict[str, str | None]:
        return {k: o.record_hash for k, o in profiles.get_owners([f"source#{k}" for k in live]).items()}

    assert versions(store) == versions(fresh)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_any_order_of_changes_and_syncs_on_few_seconds_ends_as_stripe_holds_it(steps: list[Step]) -> None:
    _run(steps)


def test_three_renames_on_one_second_each_read_by_its_own_sync_end_on_the_last() -> None:
    # GIVEN one customer renamed three times on one second, a sync after each rename
    _run([(0, "rename", False, True), (0, "rename", False, True), (0, "rename", False, True)])


def test_a_rename_then_a_deletion_on_the_second_of_the_rename_the_last_sync_read() -> None:
    # GIVEN a customer renamed, synced, then renamed and deleted on that second
    _run([(1, "rename", False, True), (1, "rename", False, False), (1, "delete", False, True)])


def test_renames_of_two_customers_interleaved_on_one_second_with_syncs_between() -> None:
    _run(
        [
            (0, "rename", False, True),
            (1, "rename", False, False),
            (0, "rename", False, True),
            (1, "rename", False, True),
            (0, "rename", True, False),
            (0, "rename", False, True),
        ]
    )
