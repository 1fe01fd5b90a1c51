"""A pending review stays listed on DynamoDB when a requeue lands between a write and its unlisting
(core.storage.dynamodb_reviews).

Pending reviews are listed through one item holding their ids (``REVIEW#_pending``). A write that
leaves the pair decided (``decide_review``, ``requeue_review`` putting a decision back as read, a
filing meeting a decision) writes the item, then takes the id off the list. An ingest's requeue in
between (the decision no longer holds for the records: the pair is pending again, its id added) had
its id taken off by that second step: the pending pair dropped out of ``review list`` for good.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.link_index import ReviewItem
from core.storage.dynamodb import DynamoDBProfileStore
from tests.integration.test_erasure_attacks import STORES

A, B = "crm:contact:1", "shop:customer:2"
FILED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _pending(at: datetime = FILED) -> ReviewItem:
    return ReviewItem(A, B, "pending", {"outcome": "review"}, "m1", at)


def _decided(by: str = "ana") -> ReviewItem:
    at = FILED + timedelta(hours=1)
    return ReviewItem(A, B, "rejected", {"outcome": "review"}, "m1", FILED, by, at, evidence="e1")


class _Requeueing:
    """A DynamoDB client that runs ``race`` once: just after the first review item it writes
    (``after_put``), else just before the first update taking ids off the pending list."""

    def __init__(self, client: Any, race: Any, after_put: bool) -> None:
        self._client = client
        self._race = race
        self._after_put = after_put
        self.exceptions = client.exceptions

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _run(self) -> None:
        if self._race is not None:
            race, self._race = self._race, None
            race()

    def put_item(self, **kwargs: Any) -> Any:
        response = self._client.put_item(**kwargs)
        if self._after_put:
            self._run()
        return response

    def update_item(self, **kwargs: Any) -> Any:
        if not self._after_put and kwargs.get("UpdateExpression", "").startswith("DELETE pairs"):
            self._run()
        return self._client.update_item(**kwargs)


def _racing(
    plain: DynamoDBProfileStore, race: Any, after_put: bool = True
) -> tuple[DynamoDBProfileStore, Any]:
    client = _Requeueing(plain._client, race, after_put)
    return DynamoDBProfileStore(client, plain.table_name, read_workers=1), client


def _listed(store: DynamoDBProfileStore) -> list[ReviewItem]:
    return [item for item in store.pending_reviews() if item.pair_id == _pending().pair_id]


def test_a_requeue_between_a_decision_and_its_unlisting_stays_listed() -> None:
    """GIVEN a pending pair WHEN a person decides it and, between the decision's write and its id
    leaving the list, an ingest requeues it (the records changed) THEN the pair is listed pending."""
    with STORES["dynamodb"]() as stores:
        plain: DynamoDBProfileStore = stores.profiles
        plain.put_reviews([_pending()])
        again = _pending(FILED + timedelta(days=1))
        store, client = _racing(plain, lambda: plain.requeue_review(_decided(), again))
        assert store.decide_review(_decided())
        assert client._race is None  # the race ran
        assert _listed(plain) == [again]


def test_a_requeue_between_a_decision_put_back_and_its_unlisting_stays_listed() -> None:
    """GIVEN a decided pair WHEN a refused decision puts it back as read (a decision) and, between
    that write and the rest, an ingest requeues it THEN the pair is listed pending."""
    with STORES["dynamodb"]() as stores:
        plain: DynamoDBProfileStore = stores.profiles
        plain.put_reviews([_pending()])
        assert plain.decide_review(_decided())
        again = _pending(FILED + timedelta(days=1))
        store, client = _racing(plain, lambda: plain.requeue_review(_decided(), again))
        assert store.requeue_review(_decided(), _decided())
        assert client._race is None
        assert _listed(plain) == [again]


def test_a_requeue_between_a_filing_meeting_a_decision_and_its_unlisting_stays_listed() -> None:
    """GIVEN a decided pair WHEN a filing of the pair meets the decision (it takes its id off the
    list) and, before that, an ingest requeues the pair THEN the pair is listed pending."""
    with STORES["dynamodb"]() as stores:
        plain: DynamoDBProfileStore = stores.profiles
        plain.put_reviews([_pending()])
        assert plain.decide_review(_decided())
        again = _pending(FILED + timedelta(days=1))
        store, client = _racing(plain, lambda: plain.requeue_review(_decided(), again), after_put=False)
        store.put_reviews([_pending(FILED + timedelta(hours=2))])
        assert client._race is None
        assert _listed(plain) == [again]


def test_a_decision_leaves_the_list_and_a_pending_one_joins_it() -> None:
    """GIVEN a pending pair WHEN a person decides it THEN nothing is listed; WHEN it is requeued
    THEN it is listed; WHEN the filing meets the pending item THEN it stays listed once."""
    with STORES["dynamodb"]() as stores:
        plain: DynamoDBProfileStore = stores.profiles
        plain.put_reviews([_pending()])
        assert plain.decide_review(_decided())
        assert _listed(plain) == []
        again = _pending(FILED + timedelta(days=1))
        assert plain.requeue_review(_decided(), again)
        plain.put_reviews([_pending()])
        assert _listed(plain) == [again]
