"""attack31p: after her erasure (nobody stored yet), a pull's batch of her shop account and her order
stores the order as a customer of its own, on every store.

She asks to be erased before any tool's record of hers was pulled (``erase`` answers ``not_found`` and
suppresses her address). The shop's next page holds her account (her address) and her order, whose
owner is that account (``owner_id``; the order holds no identifier of its own). Merge drops the account
as suppressed, and stores the order: its owner's record id was never suppressed (the erasure never
saw it), so ``SuppressionCheck.split`` keeps it, and it becomes a customer holding her purchase (id,
amount, dates at the shop), which no later erasure by her address finds (it holds no value of hers).
Had she been stored when erased, her account's id would be suppressed and the order dropped
(docs/privacy.md, "Suppression": "the ids their child records name as their owner included").

Fix idea: a batch that drops a record as suppressed also drops the children naming it as their owner
(and suppresses its record id, as an erasure does for the records it finds), counted as suppressed.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.normalise import normalise_record
from core.schema import Identifier, RecordDraft, SourceRecord
from tests.integration.test_erasure_attacks import Stores, stores

__all__ = ["stores"]  # the fixture (every store of test_erasure_attacks), imported for pytest

HER = "ann.quillon@example.org"
AT = datetime(2026, 1, 5, tzinfo=UTC)


def _record(draft: RecordDraft) -> SourceRecord:
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord), record
    return record


def _page() -> list[SourceRecord]:
    account = RecordDraft(
        source="shop",
        object_type="customer",
        source_id="ann",
        updated_at=AT,
        emails=[HER],
        traits={"first_name": "Ann"},
    )
    order = RecordDraft(
        source="shop",
        object_type="order",
        source_id="o-31",
        updated_at=AT,
        owner_id="ann",
        owner_type="customer",
        orders=[
            {
                "id": "o-31",
                "total": "42.00",
                "currency": "GBP",
                "status": "paid",
                "created_at": AT.isoformat(),
            }
        ],
    )
    return [_record(account), _record(order)]


def test_control_without_an_erasure_her_order_joins_her_account(stores: Stores) -> None:
    """Passes on main: one customer holds both."""
    stores.ingest(_page())
    (profile,) = list(stores.profiles.iter_profiles())
    assert {s.id for s in profile.sources} == {"ann", "o-31"}


REASON = (
    "core/suppression.py SuppressionCheck.split drops her account (its address is suppressed) but keeps "
    "the order naming it as owner, whose owner key no erasure suppressed; fix idea: drop the children "
    "of a record the batch drops as suppressed, and suppress that record's id"
)


def test_after_her_erasure_her_order_is_not_stored(stores: Stores) -> None:
    # GIVEN she was erased by her address before anything of hers was stored
    assert stores.erase(Identifier(kind="email", value=HER), "req-31p-order").outcome == "not_found"
    # WHEN a pull's page of her account and her order is ingested
    result = stores.ingest(_page())
    assert result.suppressed >= 1
    # THEN nothing of hers is stored: not the account, nor the order naming it
    assert [p.sources for p in stores.profiles.iter_profiles()] == []
