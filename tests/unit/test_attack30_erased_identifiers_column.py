"""attack30: an erased person's quarantined record stays in ``resolve``'s quarantine file when her line
has a column named ``identifiers``.

profilesync/erased_quarantine.py ``_keys`` (line 46) takes any raw record holding a list under
``identifiers`` for a record the store refused (a ``SourceRecord`` dump, read by
``core.quarantine.record_keys``), and reads nothing else of it. A flat JSON line is such a raw
record too (connectors.jsonl keeps the line's object as the draft's raw), and ``identifiers`` is an
ordinary column name in a CRM or loyalty export (the person's other ids: ``["loyalty-123"]``, or an
empty list). Such a line of hers quarantined for a bad timestamp is read as a dump with no
identifier of the dump's shape, so nothing of it is hers: after her erasure by email, her line (her
address in it) is written to the quarantine file of every run. The same line without that column is
dropped (the control).

Fix idea: recognise a refused record's dump by its shape as core.isolation writes it (``source_id``,
``object_type`` and ``identifiers`` of dicts with ``kind``), or read both ways and take the union
(``record_keys`` plus ``identifier_keys(draft_from_flat(raw))``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.jsonl import draft_from_flat
from core.normalise import NormaliseOptions, normalise_record
from core.schema import Quarantined
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry
from profilesync.erased_quarantine import erased_check

SALT = "attack30-columns"


def _erased_by_her_email() -> Callable[[Quarantined], bool]:
    store = InMemorySuppressionStore()
    check = SuppressionCheck(store, SALT)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    store.suppress([SuppressionEntry(check.hash("email#ann@example.com"), "email", "req-1", at)])
    return erased_check(check, NormaliseOptions(default_region="GB"))


def _quarantined(line: dict[str, Any]) -> Quarantined:
    """What ``resolve`` makes of the line: normalised, quarantined for its bad timestamp."""
    outcome = normalise_record(draft_from_flat(line))
    assert isinstance(outcome, Quarantined), outcome
    return outcome


HER_LINE = {
    "source": "crm",
    "id": "7",
    "email": "ann@example.com",
    "first_name": "Ann",
    "updated_at": "not a date",
}


def test_control_her_line_with_a_bad_timestamp_is_hers() -> None:
    assert _erased_by_her_email()(_quarantined(HER_LINE))


@pytest.mark.parametrize("identifiers", [["loyalty-123"], []], ids=["her-other-ids", "empty"])
def test_her_line_with_an_identifiers_column_is_hers(identifiers: list[str]) -> None:
    # GIVEN she was erased by her email
    erased = _erased_by_her_email()
    # WHEN her line (an export with an 'identifiers' column) is quarantined for its bad timestamp
    entry = _quarantined({**HER_LINE, "identifiers": identifiers})
    assert entry.raw is not None
    assert entry.raw["email"] == "ann@example.com"
    # THEN it is hers: dropped from the quarantine file
    assert erased(entry)
