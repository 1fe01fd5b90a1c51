"""The ingest use case on each store: the same records give the same customers whatever the store.

The unit tests of core.pipeline run on the in-memory fake; here the same scenarios (a population in
shuffled batches, merges too large for one transaction, a crash at any step of one, a split) run on
SQLite and DynamoDB too, and the property tests of tests/unit/test_pipeline.py (any order, any
number of deliveries, later versions first) run on SQLite.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.jsonl import draft_from_flat
from core.identity import IdentityPolicy
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.ports import Changeset
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import IN_MEMORY, SQLiteDatabase
from core.testing.invariants import store_problems
from core.testing.population import population
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit
from tests.unit.test_pipeline import _expected_groups, _shape, _two_big_customers, histories, record_sets

NO_SLEEP = IngestSettings(sleep=lambda _: None)


def _consistent(store: Any) -> None:
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []


def _shape_of(store: Any) -> set[tuple[frozenset[str], str]]:
    return _shape(store)


def test_a_population_in_shuffled_batches_gives_the_same_customers_on_every_store(kit: StoreKit) -> None:
    # GIVEN 40 people's records across three tools, shuffled, in batches of 7
    records = [
        normalise_record(draft_from_flat(flat)) for _, flat in population(40, seed=5, malformed_share=0)
    ]
    usable = [r for r in records if isinstance(r, SourceRecord)]
    reference = InMemoryProfileStore()
    ingest(usable, reference, NO_SLEEP)
    for start in range(0, len(usable), 7):
        ingest(usable[start : start + 7], kit.profiles, NO_SLEEP)
    # THEN the store holds what one batch into the in-memory fake gives, and is consistent
    assert _shape_of(kit.profiles) == _shape_of(reference)
    assert len(list(kit.profiles.iter_profiles())) == 40
    _consistent(kit.profiles)


class _Crashing:
    """Wraps a store: raises on its n-th commit, like a process killed mid-way."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self.crash_at = 0
        self.commits = 0

    def commit(self, changesets: Sequence[Changeset]) -> list[Changeset]:
        self.commits += 1
        if self.commits == self.crash_at:
            raise RuntimeError("simulated crash")
        result: list[Changeset] = self._store.commit(changesets)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


@pytest.mark.parametrize("crash_at", [0, 1, 3, 5, 7])
def test_a_merge_too_large_for_one_transaction_survives_a_crash_at_any_step(
    kit: StoreKit, crash_at: int
) -> None:
    # GIVEN two customers of 5 records each on a store whose transactions hold 12 operations
    store = _Crashing(kit.with_limit(12))
    left, right, bridge = _two_big_customers()
    ingest(left, store, NO_SLEEP)
    ingest(right, store, NO_SLEEP)
    # WHEN a record bridging them arrives and the process dies at the n-th commit of the merge
    store.commits, store.crash_at = 0, crash_at
    with contextlib.suppress(RuntimeError):
        ingest([bridge], store, NO_SLEEP)
    # THEN the next delivery finishes the job: one customer with all 11 records
    store.crash_at = 0
    ingest([bridge], store, NO_SLEEP)
    [profile] = list(store.iter_profiles())
    assert len(profile.sources) == 11
    _consistent(kit.profiles)


def test_an_update_that_drops_the_shared_identifier_splits_the_customer(kit: StoreKit) -> None:
    store = kit.profiles
    ingest(
        [
            make_record("crm", "1", email="family@example.com", phone="+442079460018"),
            make_record("shop", "2", email="family@example.com"),
        ],
        store,
        NO_SLEEP,
    )
    assert len(list(store.iter_profiles())) == 1
    # WHEN the shop record's address changes to the person's own
    result = ingest([make_record("shop", "2", email="bo@example.com", day=3)], store, NO_SLEEP)
    # THEN two customers, each with its own record
    assert result.split_customers == 1
    assert sorted(len(p.sources) for p in store.iter_profiles()) == [1, 1]
    _consistent(store)


# --- the pipeline's property tests, on SQLite ----------------------------------------------------------

POLICY = IdentityPolicy(max_records_per_identifier={"email": 100, "phone": 100})
CFG = IngestSettings(policy=POLICY, sleep=lambda _: None)


def _sqlite(limit: int = 100) -> SQLiteProfileStore:
    return SQLiteProfileStore(SQLiteDatabase(IN_MEMORY), max_items_per_commit=limit)


def test_a_holder_the_guardrail_kept_apart_stays_apart_when_it_changes_on_every_store(kit: StoreKit) -> None:
    # GIVEN twelve people on one email (other names), one at a time: 8 joined, 4 refused (limit 8)
    def buyer(k: int, name: str, day: str) -> SourceRecord:
        flat = {"source": "stripe", "id": f"cus_{k}", "updated_at": day, "email": "ann@example.com"}
        record = normalise_record(draft_from_flat({**flat, "full_name": name}))
        assert isinstance(record, SourceRecord)
        return record

    reference = InMemoryProfileStore()
    for store in (kit.profiles, reference):
        for k in range(12):
            ingest([buyer(k, f"Buyer{k} Lee", "2026-01-01T00:00:00Z")], store, NO_SLEEP)

    def groups(store: Any) -> list[list[str]]:
        return sorted(sorted(s.key for s in p.sources) for p in store.iter_profiles())

    before = groups(kit.profiles)
    # WHEN each refused holder's record changes
    for k in range(8, 12):
        result = ingest([buyer(k, f"Buyer{k} B. Lee", "2026-02-01T00:00:00Z")], kit.profiles, NO_SLEEP)
        # THEN the address is refused to it again, and it stays a customer of its own
        assert [h.identifier_key for h in result.guardrail_hits] == ["email#ann@example.com"]
    assert groups(kit.profiles) == before == groups(reference)
    assert sorted(len(p) for p in before) == [1, 1, 1, 1, 8]
    _consistent(kit.profiles)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=record_sets(), seed=st.integers(0, 2**32 - 1))
def test_on_sqlite_the_same_records_in_any_order_and_number_give_identical_profiles(
    records: list[SourceRecord], seed: int
) -> None:
    reference = InMemoryProfileStore()
    ingest(records, reference, CFG)
    rng = random.Random(seed)
    deliveries = records + [r for r in records if rng.random() < 0.4] * rng.randint(1, 2)
    rng.shuffle(deliveries)
    store = _sqlite(rng.choice([12, 100]))
    start = 0
    while start < len(deliveries):
        size = rng.randint(1, 5)
        batch = deliveries[start : start + size]
        result = ingest(batch, store, CFG)
        assert result.received == len(batch) == result.written + result.unchanged + result.stale
        start += size
    assert _shape_of(store) == _shape_of(reference)
    assert {g for g, _ in _shape_of(store)} == _expected_groups(records)
    _consistent(store)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), seed=st.integers(0, 2**32 - 1))
def test_on_sqlite_updates_in_any_order_give_the_customers_the_current_records_resolve_to(
    history: tuple[list[SourceRecord], list[SourceRecord]], seed: int
) -> None:
    first, later = history
    latest = {r.key: r for r in first} | {r.key: r for r in later}
    reference = InMemoryProfileStore()
    ingest(list(latest.values()), reference, CFG)
    rng = random.Random(seed)
    deliveries = first + later
    rng.shuffle(deliveries)
    store = _sqlite()
    start = 0
    while start < len(deliveries):
        size = rng.randint(1, 5)
        assert ingest(deliveries[start : start + size], store, CFG).unsplit == []
        start += size
    assert _shape_of(store) == _shape_of(reference)
    _consistent(store)


def test_a_chain_of_new_records_too_large_for_one_transaction_is_cut_until_each_part_fits(
    kit: StoreKit,
) -> None:
    # GIVEN four new records of one person, with more identifiers in the first ones than on average,
    # and a store whose transactions hold 12 operations (the four together need 15)
    store = kit.with_limit(12)
    records = [
        make_record("crm", "0", email=["p0@example.com", "p1@example.com"]),
        make_record("crm", "1", email=["p0@example.com", "p2@example.com"], phone="+442079460000"),
        make_record("crm", "2", email=["p0@example.com", "p3@example.com"], phone="+442079460001"),
        make_record("shop", "0", phone="+442079460000"),
    ]
    # WHEN they arrive in one batch
    result = ingest(records, store, NO_SLEEP)
    # THEN they are committed in parts that each fit, and end as one customer
    assert result.written == 4
    [profile] = list(store.iter_profiles())
    assert len(profile.sources) == 4
    _consistent(store)
