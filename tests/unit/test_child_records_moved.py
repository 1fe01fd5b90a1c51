"""A child object moved to another owner (an order re-assigned to another customer in the shop admin).

Both customers end right (the property tests of child records hold in any order), but on the way the
order's own source key, still owned by the first customer, joins the two into one plan: they are
merged, then split again, and the second customer comes out under a new id although nothing of hers
changed. Tools that hold her old id (pushed as ``profilesync_customer_id``) then point at a tombstone.
"""

from __future__ import annotations

import pytest

from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore

NO_SLEEP = IngestSettings(sleep=lambda _: None)


def _record(draft: RecordDraft) -> SourceRecord:
    result = normalise_record(draft)
    assert isinstance(result, SourceRecord), result
    return result


def _customer(n: int) -> SourceRecord:
    return _record(
        RecordDraft(
            source="shop",
            object_type="customer",
            source_id=str(n),
            updated_at="2026-03-01T00:00:00Z",
            emails=[f"c{n}@example.com"],
        )
    )


def _order(owner: str, updated: str) -> SourceRecord:
    return _record(
        RecordDraft(
            source="shop",
            object_type="order",
            source_id="o1",
            updated_at=updated,
            owner_type="customer",
            owner_id=owner,
            orders=[{"id": "o1", "total": "10.00", "currency": "GBP", "created_at": "2026-02-01T00:00:00Z"}],
        )
    )


def _ids(store: InMemoryProfileStore) -> dict[str, str]:
    return {
        s.key: p.customer_id for p in store.iter_profiles() for s in p.sources if s.object_type == "customer"
    }


def test_an_order_moved_to_another_customer_ends_with_its_new_owner() -> None:
    # GIVEN two customers and an order of the first
    store = InMemoryProfileStore()
    ingest([_customer(1), _customer(2), _order("1", "2026-03-02T00:00:00Z")], store, NO_SLEEP)
    # WHEN the order is re-assigned to the second
    ingest([_order("2", "2026-03-03T00:00:00Z")], store, NO_SLEEP)
    # THEN it is in the second customer's profile only, and each customer is one profile
    holding = {p.customer_id: sorted(s.key for s in p.sources) for p in store.iter_profiles()}
    assert sorted(holding.values()) == [["shop:customer:1"], ["shop:customer:2", "shop:order:o1"]]


@pytest.mark.xfail(
    strict=True,
    reason=(
        "the re-assigned order's own source key still belongs to the first customer, so the plan merges "
        "both customers and split_customer then gives the second a new id; keeping ids needs the "
        "planner to move a child whose owner changed rather than join by its own key (core.identity "
        "and core.pipeline, where fuzzy linkage is being wired in now)"
    ),
)
def test_an_order_moved_to_another_customer_changes_neither_customers_id() -> None:
    # GIVEN two customers and an order of the first
    store = InMemoryProfileStore()
    ingest([_customer(1), _customer(2), _order("1", "2026-03-02T00:00:00Z")], store, NO_SLEEP)
    before = _ids(store)
    # WHEN the order is re-assigned to the second
    ingest([_order("2", "2026-03-03T00:00:00Z")], store, NO_SLEEP)
    # THEN both customers keep the ids they had
    assert _ids(store) == before
