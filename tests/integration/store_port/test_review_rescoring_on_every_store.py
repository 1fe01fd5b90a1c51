"""A pending review item follows its pair's score (core.link_plan, core.link_review_index), on each store
(in-memory, SQLite, DynamoDB): when the pair is scored again (a record changed, the model retrained)
and is still in doubt, the item shows the new score and reasons, since the time it was first filed;
a decided item keeps its decision; a pair no longer in doubt leaves the queue; and a person deciding
the pair as the ingest writes it keeps the decision (the writes are conditional on the item read)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from core.link_index import ReviewItem, review_pair_id
from core.link_review import ReviewOutdatedError, decide, pending
from core.link_review_index import drop_stale_pending, file_reviews
from core.link_scope import LinkageSettings
from core.linkage import decide as score_pair
from core.linkage import from_source_record
from core.pipeline import ingest
from core.schema import SourceRecord
from core.testing.records import make_record
from tests.integration.identity_attack_records import retrained_model
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_review_decisions_on_every_store import CRM, LINKED, PAIR, SHOP


def _retrained() -> LinkageSettings:
    return LinkageSettings(model=retrained_model(), model_name="retrained.json")


def _version(record: SourceRecord, year: int, **traits: str) -> SourceRecord:
    return record.model_copy(
        update={"traits": {**record.traits, **traits}, "updated_at": record.updated_at.replace(year=year)}
    )


def _fresh(a: SourceRecord, b: SourceRecord, linkage: LinkageSettings) -> dict[str, Any]:
    """What the matcher says about the two records now (a fresh scoring, as the list shows it)."""
    assert linkage.model is not None
    decision = score_pair(from_source_record(a), from_source_record(b), linkage.model).as_dict()
    score: dict[str, Any] = decision["score"]  # type: ignore[assignment]
    return {"reason": decision["reason"], "score": score["probability"], "weight": score["weight"]}


def _listed(store: Any) -> list[dict[str, Any]]:
    return [
        {"pair": p["pair"], "reason": p["reason"], "score": p["score"], "weight": p["weight"]}
        for p in pending(store)
    ]


def test_a_pending_pair_scored_again_on_a_changed_record_shows_the_new_score(kit: StoreKit) -> None:
    store = kit.profiles
    # GIVEN Hana's CRM and shop records waiting for review
    ingest([CRM, SHOP], store, LINKED)
    (first,) = pending(store)
    # WHEN her shop record comes again with another birth date (still in doubt, scored lower)
    changed = _version(SHOP, 2027, date_of_birth="1992-11-03")
    ingest([changed], store, LINKED)
    # THEN the queue shows the pair once, with the score and reason of the records as they are now,
    # waiting since it was first filed
    fresh = _fresh(CRM, changed, LINKED.linkage)  # type: ignore[arg-type]
    assert fresh["score"] < first["score"]
    assert _listed(store) == [{"pair": PAIR, **fresh}]
    (now,) = pending(store)
    assert now["since"] == first["since"]
    assert now["fields"] != first["fields"]
    assert any(f["field"] == "date_of_birth" for f in now["fields"])


def test_a_retrained_model_rescores_the_pending_pairs_it_scores_and_no_decided_one(kit: StoreKit) -> None:
    store = kit.profiles
    # GIVEN Hana's pair waiting for review, and her namesake Ken's pair accepted by a person
    ken = {"first_name": "Ken", "last_name": "Ito", "date_of_birth": "1980-01-02"}
    ken_crm = make_record("crm", "7", email="ken.ito@corp.jp", traits={**ken, "address": "1 Quay St"})
    ken_shop = make_record(
        "shop", "8", email="kito80@icloud.com", traits={**ken, "address": "9 Dock Rd"}, day=1
    )
    ingest([CRM, SHOP, ken_crm, ken_shop], store, LINKED)
    kens = review_pair_id(ken_crm.key, ken_shop.key)
    assert {p["pair"] for p in pending(store)} == {PAIR, kens}
    decide(store, kens, "accepted", by="ana", reason="same person", settings=LINKED)
    decided = store.review_by_id(kens)
    # WHEN the model is retrained and every record comes again (a field the matcher does not read)
    retrained = replace(LINKED, linkage=_retrained())
    ingest(
        [_version(r, 2027, lifecycle_stage="customer") for r in (CRM, SHOP, ken_crm, ken_shop)],
        store,
        retrained,
    )
    # THEN Hana's pending pair shows the new model's score and name; Ken's decision is as it was
    fresh = _fresh(CRM, SHOP, retrained.linkage)  # type: ignore[arg-type]
    assert fresh["score"] != _fresh(CRM, SHOP, LINKED.linkage)["score"]  # type: ignore[arg-type]
    assert _listed(store) == [{"pair": PAIR, **fresh}]
    assert pending(store)[0]["model"] == "retrained.json"
    assert store.review_by_id(kens) == decided


def test_a_pair_scored_the_same_again_writes_nothing(kit: StoreKit) -> None:
    store = kit.profiles
    ingest([CRM, SHOP], store, LINKED)
    before = store.review_by_id(PAIR)
    written: list[Any] = []
    requeue = store.requeue_review

    def counting(read: ReviewItem, item: ReviewItem) -> bool:
        written.append(item)
        return bool(requeue(read, item))

    store.requeue_review = counting
    # WHEN both records come again, a field the matcher does not read changed, one by one and together
    ingest([_version(SHOP, 2027, lifecycle_stage="customer")], store, LINKED)
    ingest([_version(CRM, 2027, lifecycle_stage="lead"), _version(SHOP, 2028, job="vet")], store, LINKED)
    # THEN the pending item is not written again (its JSON read back scores the same)
    assert written == []
    assert store.review_by_id(PAIR) == before


def test_a_pending_pair_that_now_links_or_falls_below_review_leaves_the_queue(kit: StoreKit) -> None:
    store = kit.profiles
    ingest([CRM, SHOP], store, LINKED)
    assert [p["pair"] for p in pending(store)] == [PAIR]
    # WHEN her shop record comes with her CRM address (the pair links) THEN nothing waits
    ingest([_version(SHOP, 2027, address="8 Mill Lane", city="Leeds", postcode="LS1 4AP")], store, LINKED)
    linked = {frozenset(s.key for s in p.sources) for p in store.iter_profiles()}
    assert frozenset({CRM.key, SHOP.key}) in linked
    assert pending(store) == []
    assert store.review_by_id(PAIR) is None
    # WHEN it comes as another person (another first name: below review) THEN nothing waits either
    ingest([_version(SHOP, 2028, first_name="Yuki", date_of_birth="1990-02-14")], store, LINKED)
    assert pending(store) == []
    assert store.review_by_id(PAIR) is None


def _pending_item(minutes: int = 0, score: float = 0.9) -> ReviewItem:
    return ReviewItem(
        CRM.key,
        SHOP.key,
        "pending",
        {"outcome": "review", "reason": f"score {score}", "score": {"probability": score}},
        "default",
        datetime(2026, 1, 1, 0, minutes, tzinfo=UTC),
    )


def test_a_rescore_writes_only_over_the_pending_item_read(kit: StoreKit) -> None:
    index = kit.profiles
    read = _pending_item()
    index.put_reviews([read])
    # GIVEN an ingest rescoring the pair it read; WHEN it writes THEN the item shows its score
    rescored = replace(read, decision={**read.decision, "reason": "score 0.8"})
    file_reviews(index, [rescored], {(read.a, read.b): read})
    assert index.review_by_id(read.pair_id) == rescored
    # WHEN another ingest writes its rescore of the item as it read it before THEN it is not written
    stale = replace(read, decision={**read.decision, "reason": "score 0.7"})
    file_reviews(index, [stale], {(read.a, read.b): read})
    assert index.review_by_id(read.pair_id) == rescored
    # WHEN a person decides the pair before a rescore of what was read lands THEN the decision stays
    accepted = replace(
        rescored, status="accepted", decided_by="ana", decided_at=datetime.now(UTC), evidence="e" * 32
    )
    assert index.decide_review(accepted)
    file_reviews(index, [replace(rescored, decision={"reason": "score 0.6"})], {(read.a, read.b): rescored})
    assert index.review_by_id(read.pair_id) == accepted
    assert index.pending_reviews() == []


def test_a_stale_pending_item_is_dropped_only_while_it_is_the_item_read(kit: StoreKit) -> None:
    index = kit.profiles
    kept, stale = _pending_item(), replace(_pending_item(1), a="crm:contact:5", b="shop:customer:6")
    index.put_reviews([kept, stale])
    accepted = replace(
        kept, status="accepted", decided_by="ana", decided_at=datetime.now(UTC), evidence="e" * 32
    )
    get_reviews = index.get_reviews

    def decided_meanwhile(pairs: Any) -> Any:
        found = get_reviews(pairs)
        assert index.decide_review(accepted)  # a person, between the ingest's read and its drop
        return found

    index.get_reviews = decided_meanwhile
    # WHEN an ingest finds neither pair in doubt any more and drops the pending items it read
    dropped = drop_stale_pending(index, [(kept.a, kept.b), (stale.a, stale.b)], [])
    index.get_reviews = get_reviews
    # THEN the decision taken meanwhile stays; the other pending item went
    assert dropped == [(stale.a, stale.b)]
    assert index.review_by_id(kept.pair_id) == accepted
    assert index.review_by_id(stale.pair_id) is None
    assert index.pending_reviews() == []


@pytest.mark.parametrize("changed", [False, True], ids=["retrained", "changed_record"])
def test_a_decision_taken_as_an_ingest_rescores_the_pair_lands_or_is_refused_clearly(
    kit: StoreKit, changed: bool
) -> None:
    store = kit.profiles
    ingest([CRM, SHOP], store, LINKED)
    # GIVEN an ingest rescoring the pair between decide's read and its write: with the retrained
    # model (the same match fields), or on another birth date of the shop record
    if changed:
        shop, settings = _version(SHOP, 2027, date_of_birth="1992-11-03"), LINKED
    else:
        shop, settings = _version(SHOP, 2027, lifecycle_stage="vip"), replace(LINKED, linkage=_retrained())
    write = store.decide_review

    def rescored_first(item: ReviewItem, *read: ReviewItem) -> bool:
        store.decide_review = write
        ingest([shop], store, settings)
        (now,) = pending(store)
        assert now["score"] != first["score"]  # the ingest did rescore the item decide read
        return bool(write(item, *read))

    (first,) = pending(store)
    store.decide_review = rescored_first
    # WHEN a person accepts the pair
    if changed:
        # THEN refused as the records changed, saying what the stored item is (pending: in doubt)
        with pytest.raises(ReviewOutdatedError) as refused:
            decide(store, PAIR, "accepted", by="ana", settings=LINKED)
        stored = store.review_by_id(PAIR)
        assert stored is not None
        assert refused.value.pending_again == (stored.status == "pending")
        return
    # THEN it lands on the same records: one customer, the decision stored, nothing pending
    outcome = decide(store, PAIR, "accepted", by="ana", settings=LINKED)
    assert outcome.together
    assert store.review_by_id(PAIR).status == "accepted"
    assert pending(store) == []
