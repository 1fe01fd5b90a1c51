"""core.refresh_sweep: the marks a full refresh keeps, and the guard on what its sweep may retire."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.refresh_sweep import CLOCK_MARGIN, ListedKeys, SweepGuard, sweep_deletions
from core.schema import RecordDraft


def test_listed_keys_hold_what_a_refresh_listed_under_the_keys_the_store_uses() -> None:
    # GIVEN drafts with ids as vendors send them: padded text, a number, an unusable one
    listed = ListedKeys()
    listed.add_drafts(
        [
            RecordDraft(source="crm", source_id=" 7 "),
            RecordDraft(source="crm", object_type="order", source_id=12),
            RecordDraft(source="crm", source_id=None),
            RecordDraft(source="crm", object_type="", source_id="9"),
        ]
    )
    # THEN each is held under the key normalisation gives its record, and nothing else is
    assert "crm:contact:7" in listed
    assert "crm:order:12" in listed
    assert "crm:contact:9" in listed
    assert "crm:contact:12" not in listed
    assert "crm:contact: 7 " not in listed
    assert len(listed) == 3
    # AND a key marked after a look-up is found too (the array is sorted again)
    listed.add("crm:contact:1")
    assert "crm:contact:1" in listed


def test_listed_keys_take_eight_bytes_a_record() -> None:
    listed = ListedKeys()
    for i in range(10_000):
        listed.add(f"hubspot:contact:{i}")
    assert all(f"hubspot:contact:{i}" in listed for i in range(0, 10_000, 97))
    assert sum(f"hubspot:contact:{i}" in listed for i in range(10_000, 20_000)) == 0
    assert listed._hashes.itemsize * len(listed._hashes) == 80_000


@pytest.mark.parametrize(
    ("listed", "stored", "unlisted", "refused"),
    [
        (0, 8, 8, "listed no record"),  # an empty answer: refused whatever the size
        (0, 0, 0, None),
        (9_997, 10_000, 3, None),
        (7, 8, 1, None),  # a small account: up to 5 always
        (3, 8, 5, None),
        (2, 8, 6, "6 of the 8"),
        (90, 100, 10, None),  # 10% exactly
        (89, 100, 11, "11 of the 100"),
    ],
)
def test_the_guard_refuses_an_empty_answer_and_more_than_its_fraction(
    listed: int, stored: int, unlisted: int, refused: str | None
) -> None:
    reason = SweepGuard().refusal(listed, stored, unlisted)
    assert (reason is None) == (refused is None)
    if refused is not None:
        assert reason is not None
        assert refused in reason
        assert "--allow-mass-retirement" in reason
        assert "allow_mass_retirement" in reason
    assert SweepGuard(allow_mass=True).refusal(listed, stored, unlisted) is None


def test_sweep_tombstones_are_dated_before_the_refresh_began_in_chunks() -> None:
    started = datetime(2026, 3, 1, tzinfo=UTC)
    missing = [("contact", str(i)) for i in range(1_201)]
    chunks = list(sweep_deletions("crm", missing, started))
    assert [len(c) for c in chunks] == [500, 500, 201]
    assert {d.deleted_at for c in chunks for d in c} == {started - CLOCK_MARGIN}
    assert chunks[2][-1].key == "crm:contact:1200"
