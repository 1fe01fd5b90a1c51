"""The review queue (core.link_review): a person's decision is stored, re-resolves the customers at
once, leaves a history event on each customer concerned, and is replayed by every later ingest,
whatever the order and batches the records come in."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.link_index import review_pair_id
from core.link_review import ReviewRefusedError, decide, pending, review_lines
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.invariants import store_problems
from tests.conftest import make_record
from tests.unit.test_pipeline_linkage import LINKED

HANA_MILL = {
    "first_name": "Hana",
    "last_name": "Sato",
    "date_of_birth": "1992-11-30",
    "address": "8 Mill Lane",
    "postal_code": "M4 5JD",
}
HANA_BRIDGE = {**HANA_MILL, "address": "40 Bridge St", "postal_code": "BS8 1TH"}


def _pair() -> tuple[SourceRecord, SourceRecord]:
    """Hana in the CRM and in the shop: same name and birth date, another address and email (the
    default model scores them between the review and link thresholds)."""
    crm = make_record("crm", "1", email="hana.sato@corp.jp", traits=HANA_MILL)
    shop = make_record("shop", "2", email="hanasato92@icloud.com", traits=HANA_BRIDGE, day=1)
    return crm, shop


def _problems(store: InMemoryProfileStore) -> list[str]:
    return store_problems(list(store.iter_profiles()), store.ident_owners())


def _owner(store: InMemoryProfileStore, record: SourceRecord) -> str:
    owners = store.ident_owners()
    cid = owners[f"source#{record.key}"]
    while True:
        state = store.get_customers([cid])[cid]
        if state.merged_into is None:
            return cid
        cid = state.merged_into


def _reviewed_store() -> tuple[InMemoryProfileStore, SourceRecord, SourceRecord, str]:
    crm, shop = _pair()
    store = InMemoryProfileStore()
    result = ingest([crm, shop], store, LINKED)
    assert result.reviews == 1
    return store, crm, shop, review_pair_id(crm.key, shop.key)


def test_the_list_shows_both_records_the_score_its_fields_and_since_when() -> None:
    # GIVEN a pair ingest was unsure about
    store, crm, shop, pair = _reviewed_store()
    # WHEN the queue is listed
    listed = pending(store)
    # THEN it shows the pair's id, both source keys, the score between the thresholds, per-field weights
    assert [s["pair"] for s in listed] == [pair]
    item = listed[0]
    assert item["records"] == [crm.key, shop.key]
    assert 0.8 <= item["score"] < 0.99
    assert {f["field"] for f in item["fields"]} >= {"first_name", "last_name", "date_of_birth"}
    assert all(isinstance(f["weight"], float) for f in item["fields"])
    assert item["since"].startswith("20")
    text = "\n".join(review_lines(listed))
    assert pair in text
    assert crm.key in text
    assert "date_of_birth" in text
    assert review_lines([]) == ["no pairs wait for review"]


def test_accepting_joins_the_customers_at_once_and_writes_the_history() -> None:
    # GIVEN the two records as two customers and their pair in review
    store, crm, shop, pair = _reviewed_store()
    before = (_owner(store, crm), _owner(store, shop))
    assert before[0] != before[1]
    # WHEN a person accepts the pair
    outcome = decide(store, pair, "accepted", by="ops@acme", reason="same person, moved", settings=LINKED)
    # THEN the records are one customer now, the queue is empty and the store is consistent
    assert _owner(store, crm) == _owner(store, shop)
    assert outcome.together
    assert outcome.merged == (max(before),)
    assert pending(store) == []
    assert _problems(store) == []
    # AND the surviving customer's history says who accepted and why (the merge event too)
    events = store.history.list_history(_owner(store, crm)).events
    accepted = [e for e in events if e.kind == "review_accepted"]
    assert accepted
    assert accepted[0].actor == "review:ops@acme"
    assert accepted[0].reason == "same person, moved"
    assert set(accepted[0].source_keys) == {crm.key, shop.key}
    assert any(e.kind == "merge" and e.actor == "review:ops@acme" for e in events)


def test_rejecting_an_accepted_pair_splits_them_again() -> None:
    store, crm, shop, pair = _reviewed_store()
    decide(store, pair, "accepted", by="ops", settings=LINKED)
    joined = _owner(store, crm)
    # WHEN the same pair is rejected later
    outcome = decide(store, pair, "rejected", by="lead", reason="twins, says the shop", settings=LINKED)
    # THEN the customer is split: the records are two customers again, and both histories say so
    assert _owner(store, crm) != _owner(store, shop)
    assert not outcome.together
    assert len(outcome.split_off) == 1
    assert _problems(store) == []
    for record in (crm, shop):
        kinds = [e.kind for e in store.history.list_history(_owner(store, record)).events]
        assert "review_rejected" in kinds
    assert joined in (_owner(store, crm), _owner(store, shop))


def test_rejecting_records_other_evidence_joins_leaves_them_together_and_says_so() -> None:
    # GIVEN the pair in review, and a newsletter record holding both of Hana's emails
    crm, shop = _pair()
    both = make_record("mail", "3", email=["hana.sato@corp.jp", "hanasato92@icloud.com"], day=2)
    store = InMemoryProfileStore()
    ingest([crm, shop, both], store, LINKED)
    pair = review_pair_id(crm.key, shop.key)
    assert _owner(store, crm) == _owner(store, shop)
    # WHEN the fuzzy pair is rejected
    outcome = decide(store, pair, "rejected", by="ops", settings=LINKED)
    # THEN the shared emails still join them: one customer, and the answer says why it stayed
    assert outcome.together
    assert outcome.split_off == ()
    assert "other evidence" in outcome.as_json()["note"]
    assert _owner(store, crm) == _owner(store, shop)


def test_a_repeated_decision_changes_nothing_more() -> None:
    store, crm, _, pair = _reviewed_store()
    first = decide(store, pair, "accepted", by="ops", settings=LINKED)
    events = len(store.history.list_history(_owner(store, crm)).events)
    again = decide(store, pair, "accepted", by="ops", settings=LINKED)
    assert again.repeated
    assert not first.repeated
    assert again.merged == ()
    assert len(store.history.list_history(_owner(store, crm)).events) == events


@pytest.mark.parametrize(
    ("pair", "reason", "message"),
    [
        ("nope", "", "not a review pair id"),
        ("0" * 32, "", "no review pair"),
        (None, "she is hana.sato@corp.jp in both", "quotes a record's id"),
        (None, "called her on +44 20 7946 0018", "an email or a phone"),
        (None, "x" * 501, "longer than"),
    ],
)
def test_a_decision_that_cannot_be_made_changes_nothing(pair: str | None, reason: str, message: str) -> None:
    store, crm, shop, real = _reviewed_store()
    with pytest.raises(ReviewRefusedError, match=message):
        decide(store, pair or real, "accepted", by="ops", reason=reason, settings=LINKED)
    assert [s["pair"] for s in pending(store)] == [real]
    assert _owner(store, crm) != _owner(store, shop)


def test_exact_identity_and_a_nameless_decider_are_refused() -> None:
    store, _, _, pair = _reviewed_store()
    with pytest.raises(ReviewRefusedError, match="probabilistic"):
        decide(store, pair, "accepted", by="ops", settings=IngestSettings())
    with pytest.raises(ReviewRefusedError, match="who decides"):
        decide(store, pair, "accepted", by=" ", settings=LINKED)
    with pytest.raises(ReviewRefusedError, match="at least 1"):
        pending(store, limit=0)


# -- replay: the decision holds whatever order and batches the records come in again ---------------

OTHERS = [
    make_record("mail", "3", email="hana.sato@corp.jp", traits={"first_name": "Hana"}, day=2),
    make_record("crm", "4", email="d.okafor@mail.com", traits={"first_name": "David", "last_name": "Okafor"}),
    make_record("shop", "5", traits={**HANA_BRIDGE, "first_name": "Hanna"}, email="h.s@example.org", day=3),
]


def _customers(store: InMemoryProfileStore, records: list[SourceRecord]) -> set[frozenset[str]]:
    by_owner: dict[str, set[str]] = {}
    for record in records:
        by_owner.setdefault(_owner(store, record), set()).add(record.key)
    return {frozenset(v) for v in by_owner.values()}


def _later(record: SourceRecord) -> SourceRecord:
    """A newer version of the record (a changed trait), as a tool sends after an edit."""
    traits = {**record.traits, "lifecycle_stage": "customer"}  # not a field the matcher compares
    return record.model_copy(update={"traits": traits, "updated_at": record.updated_at.replace(year=2027)})


@pytest.mark.parametrize("verdict", ["accepted", "rejected"])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), batch=st.integers(1, 4))
def test_a_decision_is_replayed_by_later_ingests_in_any_order_and_batch_size(
    verdict: str, seed: int, batch: int
) -> None:
    # GIVEN a store where a person decided the pair
    crm, shop = _pair()
    records = [crm, shop, *OTHERS]
    store = InMemoryProfileStore()
    ingest(records, store, LINKED)
    pair = review_pair_id(crm.key, shop.key)
    decide(store, pair, verdict, by="ops", settings=LINKED)  # type: ignore[arg-type]
    decided = _customers(store, records)
    together = _owner(store, crm) == _owner(store, shop)
    assert together == (verdict == "accepted")
    # WHEN every record arrives again, changed, shuffled, in batches of another size
    later = [_later(r) for r in records]
    random.Random(seed).shuffle(later)
    for start in range(0, len(later), batch):
        ingest(later[start : start + batch], store, LINKED)
    # THEN the customers are the ones the decision made, and the pair is not filed again
    assert _customers(store, later) == decided
    assert pair not in {s["pair"] for s in pending(store)}
    assert store.review_by_id(pair).status == verdict  # type: ignore[union-attr]
    assert _problems(store) == []

    # AND a fresh store holding only the decision gives the same customers from the records in
    # this order and batch size (the decision is part of the graph, not of the arrival order)
    fresh = InMemoryProfileStore()
    fresh.put_reviews([store.review_by_id(pair)])  # type: ignore[list-item]
    for start in range(0, len(later), batch):
        ingest(later[start : start + batch], fresh, LINKED)
    assert _customers(fresh, later) == decided


def test_two_reviewers_deciding_one_pair_at_once_leave_the_customers_as_the_stored_decision_says() -> None:
    # GIVEN the pair in review, and a second reviewer who rejects it just after the first accepts
    # (between the first's write of the decision and its merge)
    store, crm, shop, pair = _reviewed_store()
    write = store.decide_review
    raced: list[bool] = []

    def decide_then_overtaken(item: object, *read: object) -> bool:
        written = write(item, *read)  # type: ignore[arg-type]
        if not raced:
            raced.append(True)
            stored = store.review_by_id(pair)
            assert stored is not None
            write(replace(stored, status="rejected", decided_by="lead"))
        return written

    store.decide_review = decide_then_overtaken  # type: ignore[method-assign]
    # WHEN the first reviewer's accept runs
    decide(store, pair, "accepted", by="ops", settings=LINKED)
    # THEN the stored decision is the later rejection, and the customers follow it: two customers
    assert store.review_by_id(pair).status == "rejected"  # type: ignore[union-attr]
    assert _owner(store, crm) != _owner(store, shop)
    assert _problems(store) == []
