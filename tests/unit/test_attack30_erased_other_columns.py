"""attack30: an erased person's record stays in ``resolve``'s quarantine file when her address or phone
is in a column the jsonl connector does not map, though the same line broken is dropped.

profilesync/erased_quarantine.py ``_keys`` reads a quarantined line that is a JSON object through
``draft_from_flat`` (line 52): only its ``email`` and ``phone`` fields. A line that is no JSON object
is read for every address written in it and every number in its string literals (line 50). An export
whose columns are capitalised or named otherwise (``Email``, ``email_address``, ``mobile``: what a
spreadsheet saved as JSON lines writes) maps no identifier, so each of its records is quarantined
("no usable identifier") with its content; after her erasure by that address her record is still
written to the quarantine file of every run, while the same line with a trailing comma is hers and
dropped (the control).

Fix idea: read a JSON object's string values for addresses and numbers too (``ADDRESS`` over each
value, ``_phone_tokens`` over the values), as the broken line's text is read, and take the union with
the draft's keys.
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


def _erased(key: str) -> Callable[[Quarantined], bool]:
    store = InMemorySuppressionStore()
    check = SuppressionCheck(store, SALT)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    store.suppress([SuppressionEntry(check.hash(key), key.partition("#")[0], "req-1", at)])  # type: ignore[arg-type]
    return erased_check(check, NormaliseOptions(default_region="GB"))


def _quarantined(line: dict[str, Any]) -> Quarantined:
    """What ``resolve`` makes of the line: normalised, quarantined (no identifier it maps)."""
    outcome = normalise_record(draft_from_flat({"source": "crm", "id": "7", **line}))
    assert isinstance(outcome, Quarantined), outcome
    return outcome


AT = "2026-01-05T10:00:00Z"


def test_control_the_same_line_broken_is_hers() -> None:
    erased = _erased("email#ann@example.com")
    line = '{"source": "crm", "id": "7", "Email": "ann@example.com", "first_name": "Ann",}'
    assert erased(
        Quarantined(source="jsonl", source_id="line 1", reason="not valid JSON", raw={"line": line})
    )


FIX = (
    "profilesync/erased_quarantine.py:52 reads a JSON object's email and phone fields only: read its "
    "string values for addresses and numbers too, as a broken line's text is read (line 50)"
)


@pytest.mark.parametrize("column", ["Email", "email_address"])
def test_her_record_with_her_address_in_another_column_is_hers(column: str) -> None:
    # GIVEN she was erased by her address
    erased = _erased("email#ann@example.com")
    # WHEN her record names it in a column the connector does not map, and is quarantined
    entry = _quarantined({column: "ann@example.com", "first_name": "Ann", "updated_at": AT})
    # THEN it is hers: dropped from the quarantine file
    assert erased(entry)


def test_her_record_with_her_phone_in_another_column_is_hers() -> None:
    erased = _erased("phone#+442079460018")
    entry = _quarantined({"mobile": "+44 20 7946 0018", "first_name": "Ann", "updated_at": AT})
    assert erased(entry)


@pytest.mark.parametrize(
    "email",
    [{"primary": "ann@example.com"}, [{"value": "ann@example.com", "type": "work"}]],
    ids=["an-object", "a-list-of-objects"],
)
def test_her_record_with_her_address_nested_in_its_email_field_is_hers(email: Any) -> None:
    # GIVEN she was erased by her address
    erased = _erased("email#ann@example.com")
    # WHEN her record's email is structured (a contacts export: {"value": ..., "type": "work"}),
    # which the normaliser refuses, so the record is quarantined with it
    entry = _quarantined({"email": email, "first_name": "Ann", "updated_at": AT})
    # THEN it is hers
    assert erased(entry)
