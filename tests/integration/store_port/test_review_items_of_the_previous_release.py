"""Review items stored by the previous release, on the stores that keep items (SQLite, DynamoDB): their
``data`` JSON has no ``evidence`` key (it came with decisions bound to the records' versions). The
conditional writes compare the item as it is stored, so an old pending pair is still scored again
or dropped when no longer in doubt, and an old accept whose merge was refused is requeued. (The
in-memory store keeps the items themselves, never an older text.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from core.link_index import ReviewItem
from core.link_review import pending
from core.merge_undo import requeue_across
from core.pipeline import ingest
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_review_decisions_on_every_store import CRM, LINKED, PAIR, SHOP
from tests.integration.store_port.test_review_rescoring_on_every_store import _version


def _as_previous_release(kit: StoreKit, item: ReviewItem) -> None:
    """Store ``item`` as the previous release wrote it: ``as_dict`` without ``evidence``."""
    store = kit.profiles
    old = item.as_dict()
    del old["evidence"]
    data = json.dumps(old, ensure_ascii=False, sort_keys=True)
    if kit.name == "sqlite":
        with store.database.writing() as conn:
            conn.execute(
                "UPDATE items SET data = ? WHERE pk = ? AND sk = 'REVIEW'", (data, "REVIEW#" + item.pair_id)
            )
    else:
        raw = store._review_item(item)
        raw["data"] = {"S": data}
        store._client.put_item(TableName=store.table_name, Item=raw)
    assert store.review_by_id(item.pair_id) == item


def test_an_old_pending_item_leaves_the_queue_when_no_longer_in_doubt(durable_kit: StoreKit) -> None:
    store = durable_kit.profiles
    # GIVEN Hana's pair waiting for review, stored by the previous release
    ingest([CRM, SHOP], store, LINKED)
    assert [p["pair"] for p in pending(store)] == [PAIR]
    _as_previous_release(durable_kit, store.review_by_id(PAIR))
    # WHEN her shop record comes as another person (scored below review)
    ingest([_version(SHOP, 2028, first_name="Yuki", date_of_birth="1990-02-14")], store, LINKED)
    # THEN the pair leaves the queue
    assert pending(store) == []
    assert store.review_by_id(PAIR) is None


def test_an_old_pending_item_is_scored_again(durable_kit: StoreKit) -> None:
    store = durable_kit.profiles
    ingest([CRM, SHOP], store, LINKED)
    (first,) = pending(store)
    _as_previous_release(durable_kit, store.review_by_id(PAIR))
    # WHEN her shop record comes with another birth date (still in doubt, scored lower)
    ingest([_version(SHOP, 2027, date_of_birth="1992-11-03")], store, LINKED)
    # THEN the queue shows the new score, waiting since it was first filed
    (now,) = pending(store)
    assert now["score"] < first["score"]
    assert now["since"] == first["since"]


def test_an_old_accept_whose_merge_was_refused_is_requeued(durable_kit: StoreKit) -> None:
    store = durable_kit.profiles
    at = datetime(2026, 1, 1, tzinfo=UTC)
    item = ReviewItem(CRM.key, SHOP.key, "accepted", {"reason": "r"}, "default", at, "ana", at)
    store.put_reviews([item])
    _as_previous_release(durable_kit, item)
    assert requeue_across(store, [item.a], [item.b]) == [item.pair_id]
    assert store.review_by_id(item.pair_id).status == "pending"
