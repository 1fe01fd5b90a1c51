"""A decision whose contradiction lies through a third customer (core.link_review_rule), on each store
(in-memory, SQLite, DynamoDB).

A shared front-desk record (no name) holds two emails: one a Tom also holds (they are one customer),
the other a Rita Vance holds; that second join is refused, since Tom and Rita conflict (other first
names and birth dates). Rita Cole's CRM record conflicts with Tom too. A person rejected Rita Cole ~
Rita Vance. Accepting Rita Cole ~ the desk record puts her with the desk first: the desk's email
shared with Tom is then refused (Tom conflicts with her), and the one shared with Rita Vance joins,
so the accept would make the rejected pair one customer through a customer it does not touch (Rita
Vance's, with her other record). It is refused naming the reject, as the reject is refused when the
accept came first.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.link_index import ReviewItem, review_pair_id
from core.link_review import ReviewContradictsError, decide
from core.link_review_index import file_review_pairs
from core.link_scope import LinkageSettings
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit

LINKED = IngestSettings(sleep=lambda _: None, linkage=LinkageSettings())
COLE = make_record(
    "crm",
    "1",
    email="rita.cole@corp.example",
    traits={"first_name": "Rita", "last_name": "Cole", "date_of_birth": "1985-03-03", "address": "1 Elm Row"},
)
DESK = make_record("desk", "2", email=["a.desk@shared.example", "b.desk@shared.example"])
TOM = make_record(
    "shop",
    "3",
    email="a.desk@shared.example",
    traits={"first_name": "Tom", "last_name": "Hart", "date_of_birth": "1970-05-05", "address": "9 Oak Way"},
)
VANCE = make_record(
    "mail",
    "4",
    email="b.desk@shared.example",
    phone="+442079460018",
    traits={
        "first_name": "Rita",
        "last_name": "Vance",
        "date_of_birth": "1990-09-09",
        "address": "4 Pine Ct",
    },
)
#: Rita Vance's other record: one customer with hers by their phone (not a value the desk holds).
VANCE_APP = make_record(
    "app", "5", phone="+442079460018", traits={"first_name": "Rita", "last_name": "Vance"}
)
RECORDS = [COLE, DESK, TOM, VANCE, VANCE_APP]


def _customers(store: object) -> set[frozenset[str]]:
    return {frozenset(s.key for s in p.sources) for p in store.iter_profiles()}  # type: ignore[attr-defined]


def _file(store: object, *pairs: tuple[SourceRecord, SourceRecord]) -> list[str]:
    """Put the pairs in the review queue, listed under their records, as ingest files a pair in doubt."""
    items = [
        ReviewItem(
            *sorted((a.key, b.key)),
            "pending",
            {"outcome": "review", "reason": "in doubt"},
            "default",
            datetime.now(UTC),
        )
        for a, b in pairs
    ]
    file_review_pairs(store, [(i.a, i.b) for i in items])  # type: ignore[arg-type]
    store.put_reviews(items)  # type: ignore[attr-defined]
    return [i.pair_id for i in items]


@pytest.mark.parametrize(
    "rita", [VANCE, VANCE_APP], ids=["her-record-holding-the-desk-email", "her-other-record"]
)
def test_an_accept_that_joins_a_rejected_pair_through_a_third_customer_is_refused(
    kit: StoreKit, rita: SourceRecord
) -> None:
    store = kit.profiles
    # GIVEN the desk and Tom one customer, each Rita apart, and Rita Cole ~ Rita Vance rejected
    ingest(RECORDS, store, LINKED)
    apart = {
        frozenset({COLE.key}),
        frozenset({DESK.key, TOM.key}),
        frozenset({VANCE.key, VANCE_APP.key}),
    }
    assert _customers(store) == apart
    rejected, accepted = _file(store, (COLE, rita), (COLE, DESK))
    decide(store, rejected, "rejected", by="ana", reason="two women", settings=LINKED)
    # WHEN a person accepts Rita Cole ~ the desk record
    with pytest.raises(ReviewContradictsError) as refused:
        decide(store, accepted, "accepted", by="bo", reason="her desk", settings=LINKED)
    # THEN it is refused naming the reject, and nothing changed
    assert rejected in str(refused.value)
    assert _customers(store) == apart
    assert store.review_by_id(accepted).status == "pending"
    assert store.review_by_id(rejected).status == "rejected"


def test_the_reject_is_refused_when_the_accept_came_first(kit: StoreKit) -> None:
    store = kit.profiles
    ingest(RECORDS, store, LINKED)
    rejected, accepted = _file(store, (COLE, VANCE), (COLE, DESK))
    decide(store, accepted, "accepted", by="bo", reason="her desk", settings=LINKED)
    joined = {frozenset({COLE.key, DESK.key, VANCE.key, VANCE_APP.key}), frozenset({TOM.key})}
    assert _customers(store) == joined
    with pytest.raises(ReviewContradictsError) as refused:
        decide(store, rejected, "rejected", by="ana", reason="two women", settings=LINKED)
    assert accepted in str(refused.value)
    assert _customers(store) == joined
    assert review_pair_id(COLE.key, VANCE.key) == rejected
