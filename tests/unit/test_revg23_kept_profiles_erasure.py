"""revG23: core.grow_kept's ``KEPT`` (the whole profiles of growing customers, their identifiers
among them) is a cache of people's values like the others of core.privacy_caches: the check of
tests/unit/test_privacy_caches.py must see what it holds, an erasure in the process empties it, and
an erasure elsewhere (the store's erasure epoch) empties it before the next batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.jsonl import draft_from_flat
from core import grow_kept
from core.identity import IdentityPolicy
from core.normalise import normalise_record
from core.schema import Identifier, SourceRecord
from core.storage.memory_privacy import _epoch_of_locked
from tests.integration.test_erasure_attacks import memory_stores
from tests.unit.test_privacy_caches import _size

T0 = datetime(2026, 3, 1, tzinfo=UTC)
HER = "kept.buyer@example.org"


def _record(flat: dict[str, Any]) -> SourceRecord:
    record = normalise_record(draft_from_flat(flat))
    assert isinstance(record, SourceRecord), record
    return record


def _stamp(hours: int) -> str:
    return (T0 + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def _contact(source_id: str, email: str) -> SourceRecord:
    return _record({"source": "shop", "id": source_id, "updated_at": _stamp(0), "email": email})


def _order(number: int) -> SourceRecord:
    return _record(
        {
            "source": "shop",
            "id": f"o{number}",
            "object_type": "order",
            "owner_id": "c1",
            "updated_at": _stamp(number),
            "orders": [
                {"id": f"o{number}", "total": "9.99", "currency": "GBP", "created_at": _stamp(number)}
            ],
        }
    )


def _her_profile_kept() -> bool:
    return any(HER in kept.profile.model_dump_json() for kept in grow_kept.KEPT.kept.values())


def test_the_profiles_kept_for_growing_customers_are_measured_and_emptied_by_an_erasure() -> None:
    grow_kept.KEPT.clear()
    with memory_stores() as stores:
        # GIVEN her contact, then two add-only batches of one order each (planned from her profile)
        for batch in ([_contact("c1", HER)], [_order(1)], [_order(2)]):
            stores.ingest(batch, IdentityPolicy())
        # THEN the privacy check sees her whole profile kept (before: it measured nothing here)
        assert (_size(grow_kept.KEPT) or 0) > 0
        assert _her_profile_kept()
        # WHEN she is erased in this process, THEN nothing of hers is kept
        report = stores.erase(Identifier.assemble(kind="email", value=HER), "req-kept", IdentityPolicy())
        assert report.outcome == "erased", report
        assert _size(grow_kept.KEPT) == 0


def test_an_erasure_elsewhere_empties_the_kept_profiles_before_the_next_batch() -> None:
    grow_kept.KEPT.clear()
    with memory_stores() as stores:
        for batch in ([_contact("c1", HER)], [_order(1)], [_order(2)]):
            stores.ingest(batch, IdentityPolicy())
        assert _her_profile_kept()
        # WHEN another process erases someone in the same store (its epoch moves; this process's
        # caches are untouched), THEN this process's next batch (another person) starts without them
        with stores.profiles._lock:
            _epoch_of_locked(stores.profiles).bump()
        stores.ingest([_contact("c2", "someone.else@example.org")], IdentityPolicy())
        assert not _her_profile_kept()
        assert _size(grow_kept.KEPT) == 0
