"""A vendor deletion of every record of a customer whose retired ``source#`` deletes do not all fit in
the removal's first erasure step, a touch racing it, on the in-memory, SQLite and DynamoDB (moto)
stores (core.retirement_steps ``_retire_from``). Found by review revA17: with ``max_items_per_step=2``
the first step held the PROFILE delete and one timed delete; the touched record's delete, in a later
step, lost its time check, and the lost-race path deleted it anyway with an owner-only guard, so a
record seen at the vendor after its deletion was retired.

Each run must end as the two writers one after the other: touch first (its deletion is stale, kept),
or the deletion first (both retired; the touch then finds nothing to touch and stores the record anew).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.pipeline import IngestSettings, ingest
from core.retirement import SourceDeletion, retire_records
from core.schema import SourceRecord
from core.storage.memory_privacy import InMemoryErasureStore
from core.testing.records import T0, make_record
from tests.integration.test_frozen_merge_repair_interleavings import _kit

EMAIL = "ann@example.com"


def _rec(i: int, day: int) -> SourceRecord:
    return make_record("stripe", f"cus_{i}", email=EMAIL, day=day, traits={"city": "Oslo"})


def _gone(count: int) -> list[SourceDeletion]:
    return [
        SourceDeletion(
            source="stripe", object_type="contact", source_id=f"cus_{i}", deleted_at=T0 + timedelta(days=20)
        )
        for i in range(1, count + 1)
    ]


def _run(name: str, records: int, limit: int, touched: int | None) -> tuple[list[str], Any]:
    """Store ``records`` records of one person, then retire them all with erasure steps of ``limit``;
    before the removal's first step, record ``touched`` is seen again (dated after the deletion)."""
    settings = IngestSettings(sleep=lambda _: None)
    with _kit(name) as kit:
        ingest([_rec(i, 5) for i in range(1, records + 1)], kit.profiles, settings)
        erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
        erasure.max_items_per_step = limit  # type: ignore[misc]
        real = erasure.apply
        done = [touched is None]

        def apply(step: Any) -> Any:
            if not done[0]:
                done[0] = True
                ingest([_rec(touched or 0, 50)], kit.profiles, settings)  # same content, day 50
            return real(step)

        erasure.apply = apply  # type: ignore[method-assign]
        result = retire_records(_gone(records), kit.profiles, erasure, settings)
        held = sorted(f"{s.source}:{s.id}" for p in kit.profiles.iter_profiles() for s in p.sources)
        return held, result.as_dict()


@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
@pytest.mark.parametrize("limit", [2, 3, 100])
def test_a_touch_on_a_record_past_the_first_step_keeps_it(name: str, limit: int) -> None:
    """GIVEN her three Stripe records (day 5) WHEN all three are deleted (day 20) in erasure steps of
    ``limit`` and her third record is seen again (day 50) before the first step THEN the third stays
    hers, the other two are retired, and every deletion is counted once."""
    held, counts = _run(name, 3, limit, touched=3)
    assert held == ["stripe:cus_3"]
    assert (counts["retired"], counts["stale"], counts["received"]) == (2, 1, 3), counts
    assert counts["removed_customers"] == 0, counts


@pytest.mark.parametrize("name", ["memory", "sqlite"])
@pytest.mark.parametrize("records", [2, 4])
@pytest.mark.parametrize("touched", [1, 2])
def test_a_touch_on_any_record_ends_as_one_order(name: str, records: int, touched: int) -> None:
    """GIVEN ``records`` records of hers WHEN all are deleted in steps of two and record ``touched`` is
    seen again (day 50) before the first erasure step THEN it is hers whichever order the two writers
    took (kept, its deletion stale; or retired, then stored anew), and each deletion is counted once."""
    held, counts = _run(name, records, 2, touched=touched)
    assert held == [f"stripe:cus_{touched}"]
    assert counts["retired"] + counts["stale"] == counts["received"] == records, counts


@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
@pytest.mark.parametrize("limit", [2, 100])
def test_every_record_retired_without_a_touch(name: str, limit: int) -> None:
    """GIVEN her three records WHEN all three are deleted in steps of ``limit``, nothing racing THEN
    her customer is gone and the three are counted retired, the customer once removed."""
    held, counts = _run(name, 3, limit, touched=None)
    assert held == []
    assert (counts["retired"], counts["removed_customers"]) == (3, 1), counts
