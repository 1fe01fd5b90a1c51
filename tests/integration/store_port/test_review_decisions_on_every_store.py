"""A person's review decision (core.link_review) on each store (in-memory, SQLite, DynamoDB): stored on
the REVIEW# item, applied at once (accept merges, reject splits), written to the customers'
histories, and applied again by ingest when the records come back in another order and batch size."""

from __future__ import annotations

from core.link_index import review_pair_id
from core.link_review import decide, pending
from core.link_scope import LinkageSettings
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.testing.invariants import store_problems
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit

LINKED = IngestSettings(sleep=lambda _: None, linkage=LinkageSettings())
HANA = {"first_name": "Hana", "last_name": "Sato", "date_of_birth": "1992-11-30"}
CRM = make_record("crm", "1", email="hana.sato@corp.jp", traits={**HANA, "address": "8 Mill Lane"})
SHOP = make_record(
    "shop", "2", email="hanasato92@icloud.com", traits={**HANA, "address": "40 Bridge St"}, day=1
)
MAIL = make_record("mail", "3", email="hana.sato@corp.jp", traits={"first_name": "Hana"}, day=2)
DAVID = make_record(
    "crm", "4", email="d.okafor@mail.com", traits={"first_name": "David", "last_name": "Okafor"}
)
RECORDS = [CRM, SHOP, MAIL, DAVID]
PAIR = review_pair_id(CRM.key, SHOP.key)


def _customers(store: object) -> set[frozenset[str]]:
    return {frozenset(s.key for s in p.sources) for p in store.iter_profiles()}  # type: ignore[attr-defined]


def _later(record: SourceRecord, year: int) -> SourceRecord:
    traits = {**record.traits, "lifecycle_stage": f"customer {year}"}  # not a compared field
    return record.model_copy(update={"traits": traits, "updated_at": record.updated_at.replace(year=year)})


def test_a_decision_is_applied_at_once_and_replayed_on_every_store(kit: StoreKit) -> None:
    store = kit.profiles
    # GIVEN Hana's CRM and shop records in review (two customers), her newsletter joined to the CRM
    ingest(RECORDS, store, LINKED)
    assert PAIR in [p["pair"] for p in pending(store)]
    hana = frozenset({CRM.key, SHOP.key, MAIL.key})
    assert hana not in _customers(store)
    # WHEN a person accepts the pair
    outcome = decide(store, PAIR, "accepted", by="ana", reason="same person", settings=LINKED)
    # THEN her three records are one customer now, with the decision in its history
    assert outcome.together
    assert _customers(store) == {hana, frozenset({DAVID.key})}
    assert PAIR not in [p["pair"] for p in pending(store)]
    assert store.review_by_id(PAIR).status == "accepted"
    assert any(e.kind == "review_accepted" for e in store.history.list_history(outcome.after[0]).events)
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
    # WHEN the records come back changed, newest first, one at a time
    for record in reversed(RECORDS):
        ingest([_later(record, 2027)], store, LINKED)
    # THEN the decision still holds
    assert _customers(store) == {hana, frozenset({DAVID.key})}
    # WHEN it is rejected after all, and the records come back again in pairs
    outcome = decide(store, PAIR, "rejected", by="lead", reason="twins", settings=LINKED)
    apart = {frozenset({CRM.key, MAIL.key}), frozenset({SHOP.key}), frozenset({DAVID.key})}
    assert _customers(store) == apart
    later = [_later(r, 2028) for r in (SHOP, DAVID, MAIL, CRM)]
    for start in range(0, 4, 2):
        ingest(later[start : start + 2], store, LINKED)
    # THEN the shop record stays apart, the pair is not filed again, and the store is consistent
    assert _customers(store) == apart
    assert PAIR not in [p["pair"] for p in pending(store)]
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
    assert any(e.kind == "review_rejected" for e in store.history.list_history(outcome.after[1]).events)
