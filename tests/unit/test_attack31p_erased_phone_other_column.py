"""attack31p: an erased person's quarantined JSON-object line is kept when a column the connector does not
map holds her phone with a label or beside another number, where the same line broken is hers.

attack30's fix reads every value of a quarantined JSON object (profilesync/erased_quarantine.py
``_values``) with ``core.quarantine.value_keys``, which reads a value with seven digits or more as one
phone number or none ("the value itself only"). A spreadsheet's contact column holds more than that:
``020 7946 0018 / 07700 900123``, ``+44 20 7946 0018 (mobile)``, ``home 020 7946 0018, work ...``. In
the ``phone`` column such a value is read with phonenumbers' matcher (``_phones``: each number written
whole in it), and in a broken line each string literal is (``_phone_tokens``); in any other column of
a JSON object it is not read at all. So after her erasure by that phone, her line (quarantined: no
column the connector maps, "no usable identifier") stays in ``resolve``'s quarantine file with her
number, while the same line with a trailing comma is hers and dropped (the controls).

Fix idea: read a JSON object's values as a broken line's literals are (the matcher over a value of at
most ``_MOST_PHONE_TEXT`` characters, at most ``_MOST_PHONE_TOKENS`` values a line), not as one number.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from connectors.jsonl import line_outcome
from core.normalise import NormaliseOptions, normalise_record
from core.schema import Quarantined, RecordDraft
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry
from profilesync.erased_quarantine import erased_check

GB = NormaliseOptions(default_region="GB")
VALUES = [
    "020 7946 0018 / 07700 900123",
    "+44 20 7946 0018 (mobile)",
    "home 020 7946 0018, work 020 7946 0500",
    "+44 20 7946 0018 or +44 20 7946 0500",
]


def _erased(entry: Quarantined) -> bool:
    store = InMemorySuppressionStore()
    check = SuppressionCheck(store, "attack31p-phones")
    key = "phone#+442079460018"
    store.suppress([SuppressionEntry(check.hash(key), "phone", "req-1", datetime(2026, 1, 1, tzinfo=UTC))])
    return erased_check(check, GB)(entry)


def _entry(column: str, value: str, broken: bool) -> Quarantined:
    """Her line (a CRM export's: her name, her country, the column), as ``resolve`` quarantines it."""
    line = {"source": "crm", "id": "7", "updated_at": "2026-01-05T10:00:00Z", "first_name": "Ann"}
    text = json.dumps({**line, "country": "GB", column: value})
    if broken:
        text = text[:-1] + ",}"
    outcome = line_outcome(1, text, len(text), "crm")
    if isinstance(outcome, RecordDraft):
        outcome = normalise_record(outcome, GB)
    assert isinstance(outcome, Quarantined), outcome
    return outcome


REASON = (
    "profilesync/erased_quarantine.py:73 reads a JSON object's values with core/quarantine.py:221 "
    "value_keys, one number per value (:227 _phone), where the phone column (_phones) and a broken "
    "line's literals (_phone_tokens) are read with the matcher; fix idea: read the values as the "
    "broken line's literals are"
)


@pytest.mark.parametrize("value", VALUES)
def test_her_phone_in_another_column_with_a_label_or_a_second_number_is_hers(value: str) -> None:
    # GIVEN she was erased by her phone WHEN her line's "Phone numbers" column holds it so
    entry = _entry("Phone numbers", value, broken=False)
    # THEN the line is hers
    assert _erased(entry)


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize(
    ("column", "broken"), [("Phone numbers", True), ("phone", False)], ids=["broken", "phone"]
)
def test_control_the_same_value_broken_or_in_the_phone_column_is_hers(
    value: str, column: str, broken: bool
) -> None:
    """Passes on main. Catches ``_phone_tokens`` no longer given to the matcher (broken) and the phone
    column's ``_phones`` read as one number only."""
    if column == "phone":  # her number is the record's phone: quarantined for another reason
        line = _entry_with_bad_time(value)
        assert _erased(line)
        return
    assert _erased(_entry(column, value, broken))


def _entry_with_bad_time(value: str) -> Quarantined:
    text = json.dumps(
        {"source": "crm", "id": "7", "updated_at": "yesterday", "country": "GB", "phone": value}
    )
    outcome = line_outcome(1, text, len(text), "crm")
    if isinstance(outcome, RecordDraft):
        outcome = normalise_record(outcome, GB)
    assert isinstance(outcome, Quarantined), outcome
    return outcome
