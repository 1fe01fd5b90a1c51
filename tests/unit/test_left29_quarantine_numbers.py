"""left29: a quarantined record's numbers stay numbers (core.raw_json), so its ``raw`` read back is
the record as it was read.

``resolve`` reads its input with ``parse_float=Decimal``; the quarantine file wrote each of those
Decimals as a string (``"score": 1e-7`` came back as ``"score": "1E-7"``), so a quarantine line
fixed and resolved again turned a number trait into text. The property below is red on that code
(``json_documents`` draws a number with a fraction or an exponent in most examples); the one-line
test names the first case found.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.jsonl import read_jsonl
from core.normalise import normalise_record
from core.raw_json import raw_json
from core.schema import Quarantined, RecordDraft
from profilesync.resolve import write_quarantine_line

#: A JSON number as a tool writes it: a sign, digits, a fraction, an exponent (``1e-7``, ``-0.0``,
#: ``1.50``, ``12E+400``), integers beyond 64 bits too.
_NUMBER = st.from_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][+-]?[0-9]{1,3})?", fullmatch=True)
#: Text without lone surrogates (those cannot be written out as UTF-8; normalise replaces them).
_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12).map(
    lambda text: json.dumps(text, ensure_ascii=False)
)
_LEAF = st.one_of(_NUMBER, _TEXT, st.sampled_from(["true", "false", "null"]))


def _object(members: list[tuple[str, str]]) -> str:
    return "{" + ", ".join(f"{key}: {value}" for key, value in members) + "}"


#: A JSON value as text (what a line holds), nested a few levels.
json_documents = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.lists(st.tuples(_TEXT, inner), max_size=4).map(_object),
    ),
    max_leaves=12,
)


def same_value(a: Any, b: Any, *, ordered: bool = True) -> bool:
    """Equal and of one type all the way down, a Decimal digit for digit (``1.50`` is not ``1.5``),
    an object's keys in one order (unless not ``ordered``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, Decimal):
        return a.as_tuple() == b.as_tuple()
    if isinstance(a, dict):
        keys = (list(a) == list(b)) if ordered else (sorted(a) == sorted(b))
        return keys and all(same_value(a[k], b[k], ordered=ordered) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y, ordered=ordered) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _read(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)  # as resolve reads its input (connectors.jsonl)


def _replayed_raw(line: str, tmp_path: Path) -> Any:
    """The ``raw`` of the quarantine line ``resolve`` writes for the input ``line``, read back."""
    source = tmp_path / "in.jsonl"
    source.write_text(line + "\n", encoding="utf-8")
    (draft,) = read_jsonl(source)
    assert isinstance(draft, RecordDraft)
    entry = normalise_record(draft)
    assert isinstance(entry, Quarantined)  # no updated_at: quarantined
    out = io.StringIO()
    write_quarantine_line(entry, out)
    return _read(out.getvalue())["raw"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_documents)
def test_a_quarantine_lines_raw_reads_back_as_the_line_first_read(value: str, tmp_path: Path) -> None:
    # GIVEN an input line holding any JSON value, quarantined (it has no updated_at)
    line = '{"source": "crm", "id": "c1", "payload": ' + value + "}"
    # WHEN its quarantine line is written and its raw read back as resolve reads input
    # THEN it is the line as first read: numbers numbers, each Decimal digit for digit
    assert same_value(_replayed_raw(line, tmp_path), _read(line))


def test_a_small_fraction_stays_a_number(tmp_path: Path) -> None:
    # GIVEN a score of 1e-7 (before: written "1E-7", a string)
    raw = _replayed_raw('{"source": "crm", "id": "c1", "score": 1e-7, "total": 1.50}', tmp_path)
    # THEN it reads back as the number
    assert same_value(raw["score"], Decimal("1E-7"))
    assert same_value(raw["total"], Decimal("1.50"))


@given(value=json_documents, sort_keys=st.booleans())
def test_raw_json_writes_what_json_writes_but_decimals_as_numbers(value: str, sort_keys: bool) -> None:
    # GIVEN any JSON value read with Decimals, and the same read with floats
    # WHEN written by raw_json THEN it reads back as the same value; and a value without Decimals is
    # written exactly as json.dumps writes it (the stored text of records with no fraction is unchanged)
    exact = _read(value)
    assert same_value(_read(raw_json(exact, sort_keys=sort_keys)), exact, ordered=not sort_keys)
    plain = json.loads(value, parse_float=lambda text: text)  # no Decimal in it
    assert raw_json(plain, sort_keys=sort_keys) == json.dumps(plain, default=str, sort_keys=sort_keys)


def test_a_decimal_with_no_json_number_stays_text() -> None:
    # GIVEN a NaN and an infinity a connector's code made (JSON has no such number)
    # THEN they are written as text, and the document is still JSON
    assert json.loads(raw_json({"a": Decimal("NaN"), "b": [Decimal("-Infinity")]})) == {
        "a": "NaN",
        "b": ["-Infinity"],
    }
