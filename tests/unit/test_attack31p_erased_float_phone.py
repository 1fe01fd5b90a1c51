"""attack31p: an erased person's quarantined line is kept when her phone is written as a whole float.

A data tool writes a column of numbers with a gap as floats: pandas' ``to_json(orient="records",
lines=True)`` of a phone column with one missing value writes ``{"id":"7","phone":442079460018.0}``
(checked with pandas 3.1.2), where a column without a gap is written as integers (``442079460018``).
connectors/jsonl reads the float as ``Decimal('442079460018.0')``; the normaliser refuses it as a
phone, so the record is quarantined ("no usable identifier", the reason naming the dropped value: her
number). After her erasure by that phone, profilesync/erased_quarantine.py does
not find it hers in any of the three shapes:

* in the ``phone`` column: ``identifier_keys`` reads the value with ``core.quarantine._phone``, which
  takes ``str`` and ``int`` only;
* in another column (``Phone``): ``_values`` writes the Decimal as ``442079460018.0``, which
  ``_NUMBER_TOKEN`` (7 to 15 digits, nothing after) does not match;
* in a broken line: ``_NUMBER_TOKEN`` over the text refuses digits followed by ``.``.

Written as an integer, or in exponent form (``4.42079460018e+11``, which ``str(Decimal)`` writes as
digits), each is hers and dropped (the controls). So her line, with her number in its reason and its
content, stays in ``resolve``'s quarantine file on every run.

Fix idea: read a number with an integral value as its integer wherever a raw value is read for a
phone (``_phone``: ``Decimal`` with ``value == value.to_integral_value()``; ``_values`` likewise) and let
``_NUMBER_TOKEN`` take a ``.0`` tail (``(?:\\.0+)?`` before its lookahead).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from connectors.jsonl import line_outcome
from core.normalise import NormaliseOptions, normalise_record
from core.schema import Quarantined, RecordDraft
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry
from profilesync.erased_quarantine import erased_check

GB = NormaliseOptions(default_region="GB")
HEAD = '{"source": "crm", "id": "7", "updated_at": "2026-01-05T10:00:00Z", "first_name": "Ann", '


def _erased(entry: Quarantined) -> bool:
    store = InMemorySuppressionStore()
    check = SuppressionCheck(store, "attack31p-float")
    key = "phone#+442079460018"
    store.suppress([SuppressionEntry(check.hash(key), "phone", "req-1", datetime(2026, 1, 1, tzinfo=UTC))])
    return erased_check(check, GB)(entry)


def _quarantined(text: str) -> Quarantined:
    """What ``resolve`` makes of the line: read by connectors.jsonl, normalised, quarantined."""
    outcome = line_outcome(1, text, len(text), "crm")
    if isinstance(outcome, RecordDraft):
        outcome = normalise_record(outcome, GB)
    assert isinstance(outcome, Quarantined), outcome
    return outcome


#: Each shape's column and the line's end (a trailing comma: no JSON object).
SHAPES = {
    "its phone column": ("phone", "}"),
    "another column": ("Phone", "}"),
    "a broken line": ("phone", ",}"),
}


def _text(shape: str, number: str) -> str:
    column, end = SHAPES[shape]
    return f'{HEAD}"{column}": {number}{end}'


REASON = (
    "core/quarantine.py:315 _phone reads str and int only (a float is a Decimal), "
    "profilesync/erased_quarantine.py:110 writes it as '442079460018.0' which _NUMBER_TOKEN (:152) "
    "refuses, as it refuses digits before '.' in a broken line; fix idea: read an integral Decimal as "
    "its int, and let _NUMBER_TOKEN take a '.0' tail"
)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_her_line_with_her_phone_as_a_whole_float_is_hers(shape: str) -> None:
    # GIVEN her line with her phone as a float column writes it, quarantined
    entry = _quarantined(_text(shape, "442079460018.0"))
    # WHEN she was erased by her phone THEN the line is hers
    assert _erased(entry)


@pytest.mark.parametrize(
    ("shape", "number"),
    [
        ("another column", "442079460018"),
        ("another column", "4.42079460018e+11"),
        ("its phone column", "4.42079460018e+11"),
        ("a broken line", "442079460018"),
    ],
)
def test_control_her_line_with_her_phone_as_a_number_is_hers(shape: str, number: str) -> None:
    """Passes on main (an integer in its phone column is a phone: no quarantine). Catches ``_values``
    no longer reading numbers, and ``_NUMBER_TOKEN`` no longer read over a broken line (attack30's
    unquoted phones)."""
    assert _erased(_quarantined(_text(shape, number)))
