"""Retiring deleted records leaves the store as a resolution from scratch of the records left would
make it, whatever the records, the deletions and their order (hypothesis), and consistent.

Within the guardrail limits: a value shared by more people than its limit joins nobody, and retiring
one of them does not merge the rest (no more than an update that drops the value does: the next
change to them does). The records drawn here share no value more often than its limit allows."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.pipeline import IngestSettings, ingest
from core.retirement import retire_records
from core.schema import SourceDeletion, SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.testing.invariants import store_problems
from core.testing.records import T0, make_record
from tests.threads import at_once

SETTINGS = IngestSettings(sleep=lambda _: None)
EMAILS = [f"e{n}@example.com" for n in range(5)]
PHONES = ["+14155550100", "+14155550101", "+14155550102"]

records_strategy = st.lists(
    st.tuples(
        st.sampled_from(["hubspot", "salesforce", "stripe"]),
        st.lists(st.sampled_from(EMAILS), max_size=2, unique=True),
        st.lists(st.sampled_from(PHONES), max_size=1),
    ).filter(lambda t: bool(t[1] or t[2])),
    min_size=1,
    max_size=9,
).filter(
    lambda spec: (
        max(sum(p in phones for _, _, phones in spec) for p in PHONES) <= 5
        and max(sum(e in emails for _, emails, _ in spec) for e in EMAILS) <= 8
    )
)


def _records(spec: list[tuple[str, list[str], list[str]]]) -> list[SourceRecord]:
    return [
        make_record(source, str(n), email=emails, phone=phones)
        for n, (source, emails, phones) in enumerate(spec)
    ]


def _partition(store: InMemoryProfileStore) -> set[frozenset[str]]:
    return {frozenset(s.key for s in p.sources) for p in store.iter_profiles()}


def _owners(store: InMemoryProfileStore, records: list[SourceRecord]) -> dict[str, str]:
    keys = sorted({i.key for r in records for i in r.identifiers})
    return {k: o.customer_id for k, o in store.get_owners(keys).items()}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=records_strategy, data=st.data())
def test_retiring_leaves_what_a_resolution_of_the_records_left_makes(
    spec: list[tuple[str, list[str], list[str]]], data: st.DataObject
) -> None:
    # GIVEN records ingested in some order
    records = _records(spec)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    ingest(data.draw(st.permutations(records)), store, SETTINGS)
    # WHEN some of them are deleted at their tools, the deletions applied in batches in any order
    gone = data.draw(st.lists(st.sampled_from(records), unique_by=lambda r: r.key, max_size=len(records)))
    deletions = [
        SourceDeletion(
            source=r.source,
            object_type=r.object_type,
            source_id=r.source_id,
            deleted_at=T0 + timedelta(days=1),
        )
        for r in gone
    ]
    split = data.draw(st.integers(min_value=0, max_value=len(deletions)))
    for batch in (deletions[:split], deletions[split:]):
        retire_records(batch, store, erasure, SETTINGS, sleep=lambda _: None)
    # THEN the customers are exactly what ingesting the records left from scratch makes, and the
    # store is consistent (every identifier owned by the live customer that lists it)
    left = [r for r in records if r.key not in {g.key for g in gone}]
    fresh = InMemoryProfileStore()
    ingest(left, fresh, SETTINGS)
    assert _partition(store) == _partition(fresh)
    assert store_problems(list(store.iter_profiles()), _owners(store, records)) == []
    # AND no identifier only the deleted records held is owned by anyone
    held = {i.key for r in left for i in r.identifiers}
    assert not {k for k in _owners(store, records) if k not in held}


def test_retiring_while_another_writer_ingests_the_same_people_loses_no_write() -> None:
    # GIVEN 20 people, each with a HubSpot and a Salesforce record
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    people = [f"p{n}@example.com" for n in range(20)]
    old = [make_record("salesforce", f"s{n}", email=e) for n, e in enumerate(people)]
    ingest([make_record("hubspot", f"h{n}", email=e) for n, e in enumerate(people)] + old, store, SETTINGS)
    # WHEN one writer retires every Salesforce record while another adds a Stripe record per person
    new = [make_record("stripe", f"c{n}", email=e, day=2) for n, e in enumerate(people)]
    deletions = [
        SourceDeletion(
            source="salesforce",
            object_type="contact",
            source_id=r.source_id,
            deleted_at=T0 + timedelta(days=1),
        )
        for r in old
    ]
    errors = at_once(
        lambda: [ingest([r], store, SETTINGS) for r in new],
        lambda: [retire_records([d], store, erasure, SETTINGS, sleep=lambda _: None) for d in deletions],
        timeout=600,
        together=False,
    )
    # THEN each person is one profile of their HubSpot and Stripe records, and the store is consistent
    assert errors == []
    assert _partition(store) == {
        frozenset({f"hubspot:contact:h{n}", f"stripe:contact:c{n}"}) for n in range(len(people))
    }
    everything = [*old, *new, *(make_record("hubspot", f"h{n}", email=e) for n, e in enumerate(people))]
    assert store_problems(list(store.iter_profiles()), _owners(store, everything)) == []
