"""privacy18: a person's decision is written over the review item only as it was read (its score,
its status), on the in-memory, SQLite and DynamoDB stores: an ingest that scored the pair again
between the read and the write (the model retrained, the records unchanged) keeps its new score,
and the decision is taken on that item.

Red before privacy18: ``decide_review`` wrote over whatever the pair's item held, putting back the
score decide had read.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.link_index import ReviewItem
from core.link_review import decide, pending
from core.pipeline import ingest
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_review_decisions_on_every_store import CRM, LINKED, PAIR, SHOP
from tests.integration.store_port.test_review_rescoring_on_every_store import _retrained, _version


def test_a_decision_keeps_the_score_an_ingest_wrote_after_decide_read_the_item(kit: StoreKit) -> None:
    store = kit.profiles
    ingest([CRM, SHOP], store, LINKED)
    (first,) = pending(store)
    settings = replace(LINKED, linkage=_retrained())
    rescored: list[Any] = []
    write = store.decide_review

    def rescored_first(item: ReviewItem, *read: ReviewItem) -> bool:
        # GIVEN an ingest with a retrained model (the shop record's match fields unchanged) that
        # scores the pair again between decide's read of the item and its write
        store.decide_review = write
        ingest([_version(SHOP, 2027, lifecycle_stage="vip")], store, settings)
        rescored.extend(pending(store))
        return bool(write(item, *read))

    store.decide_review = rescored_first
    # WHEN a person accepts the pair
    outcome = decide(store, PAIR, "accepted", by="ana", settings=LINKED)
    # THEN the decision is stored with the score the ingest wrote, not the one decide read first
    (again,) = rescored
    assert again["score"] != first["score"]
    assert outcome.together
    stored = store.review_by_id(PAIR)
    assert stored is not None
    assert stored.status == "accepted"
    assert stored.decision["score"]["probability"] == again["score"]
