"""A line's bytes read and normalised in one compiled call (native/src/norm_line*.rs) as the Python path does.

``profilesync_native.normalise_line(raw, default_source, options)`` is what the normalising worker
of ``profilesync resolve`` calls first for each line of a batched read (profilesync.parallel_lines):
for a plain record's line it parses the bytes, makes the draft ``connectors.jsonl.line_outcome``
makes and normalises it by the one compiled call a record; for every other line it returns None,
and the worker reads the line by the Python path. The oracle is that Python path (the line decoded
and read by ``connectors.jsonl.batched.raw_line_outcome``, normalised by
``core.normalise.normalise_record`` with none of the compiled pieces): the outcomes pickle to the
same bytes (the same models, values, shared objects), on JSON lines of the common shape, on the
same lines edited byte by byte into what a reader must refuse or read otherwise (whitespace,
duplicate keys, escapes, lone surrogates, numbers, NaN, nesting, bytes that are not UTF-8, CRLF),
on objects of any JSON values, and on the scaling bench's population pickled as one chunk, where
the compiled call must read every plain line itself.

Mutations this catches (each built into the extension and run): a key given twice taken (the
last value kept) instead of declined; a point with no digit after it read as a fraction (``1.e5``,
which Python's scanner refuses); the keys not memoised for the line (a line's orders then hold
their own ``"id"`` text each, and the chunk pickles otherwise).
"""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import core.normalise._record as record_module
import profilesync.resolve_native as resolve_native
from bench.resolve_scaling import generate
from connectors.jsonl.batched import BatchEnd, batched_lines, plan_batches, raw_line_outcome
from core.normalise import (
    NormaliseOptions,
    normalise_record,
    use_assembler,
    use_email_normaliser,
    use_order_reader,
)
from core.schema import Quarantined, RecordDraft
from tests.hypothesis_profiles import examples
from tests.native_support import NATIVE, needs_native
from tests.unit.test_native30w_record_parity import _lines

pytestmark = needs_native

OPTIONS = NormaliseOptions(now=datetime(2026, 6, 1, 12, 0, tzinfo=UTC))


def _choose(compiled: bool) -> None:
    """The worker's compiled pieces (``compiled``) or the Python functions."""
    use_assembler(resolve_native.worker_assembler() if compiled else None)
    use_email_normaliser(resolve_native.worker_email_normaliser() if compiled else None)
    use_order_reader(resolve_native.worker_order_reader() if compiled else None)


def _clear() -> None:
    # (the cached identifiers keep the first objects built: built again each way)
    record_module._email_identifier.cache_clear()
    record_module._phone_identifier.cache_clear()


def _python(raws: list[bytes], options: NormaliseOptions) -> list[Any]:
    """The Python path's outcomes (blank lines left out, as the worker leaves them)."""
    _clear()
    _choose(False)
    found: list[Any] = []
    for number, raw in enumerate(raws, 1):
        read = raw_line_outcome(number, raw, "jsonl")
        if read is not None:
            found.append(normalise_record(read, options) if isinstance(read, RecordDraft) else read)
    return found


def _compiled(raws: list[bytes], options: NormaliseOptions) -> tuple[list[Any], int]:
    """The worker's outcomes (``normalise_line``, else the Python path with the compiled call a
    record) and how many lines ``normalise_line`` read itself."""
    assert NATIVE is not None
    _clear()
    _choose(True)
    found: list[Any] = []
    taken = 0
    try:
        for number, raw in enumerate(raws, 1):
            outcome = NATIVE.normalise_line(raw, "jsonl", options)
            if outcome is not None:
                taken += 1
                found.append(outcome)
                continue
            read = raw_line_outcome(number, raw, "jsonl")
            if read is not None:
                found.append(
                    NATIVE.normalise_record(read, options) if isinstance(read, RecordDraft) else read
                )
    finally:
        _choose(False)
    return found, taken


def _both(raws: list[bytes], options: NormaliseOptions = OPTIONS) -> tuple[bytes, bytes, int]:
    """Both paths' outcomes pickled as one chunk (shared objects and all), and the lines taken."""
    expected = pickle.dumps(_python(raws, options), protocol=pickle.HIGHEST_PROTOCOL)
    got, taken = _compiled(raws, options)
    return expected, pickle.dumps(got, protocol=pickle.HIGHEST_PROTOCOL), taken


def _line(**fields: Any) -> bytes:
    """A line: a contact of ``crm`` with an address, and ``fields`` (None leaves one out)."""
    data = {"source": "crm", "id": "c1", "updated_at": "2026-04-13T07:31:33Z", "email": "a@b.co", **fields}
    return json.dumps({name: value for name, value in data.items() if value is not None}).encode() + b"\n"


#: Byte-level edits of a line: what a reader must decline, refuse or read as Python reads it.
_EDITS: list[tuple[bytes, bytes]] = [
    (b"{", b" {"),
    (b"{", b"\t{"),
    (b"{", b"\xef\xbb\xbf{"),
    (b"{", b"\x0c{"),
    (b"\n", b" \n"),
    (b"\n", b"\r\n"),
    (b"\n", b"\r"),
    (b"\n", b""),
    (b"\n", b"x\n"),
    (b"\n", b",\n"),
    (b'"id": ', b'"id": "dup", "id": '),
    (b'"source": "', b'"source": "x", "source": "'),
    (b", ", b" ,\t"),
    (b": ", b":"),
    (b'"c', b'"\\u0063'),
    (b'"c', b'"\\ud83d\\ude00c'),
    (b'"c', b'"\\ud83dc'),
    (b'"c', b'"\\udc00c'),
    (b'"c', b'"\\ud83d\\u0041c'),
    (b'"c', b'"\\x'),
    (b'"c', b'"\x01c'),
    (b'"c', b'"\xffc'),
    (b'"c', b'"\xed\xa0\x80c'),
    (b'"c', b'"\xc3\xa9c'),
    (b'"c', b'"\\/\\b\\f\\n\\r\\t\\"\\\\c'),
    (b'"id": ', b'"n": -0, "id": '),
    (b'"id": ', b'"n": 1.5, "id": '),
    (b'"id": ', b'"n": 1e5, "id": '),
    (b'"id": ', b'"n": 1E-5, "id": '),
    (b'"id": ', b'"n": 1.e5, "id": '),
    (b'"id": ', b'"n": 1e, "id": '),
    (b'"id": ', b'"n": 01, "id": '),
    (b'"id": ', b'"n": -, "id": '),
    (b'"id": ', b'"n": 123456789012345678901234567890, "id": '),
    (b'"id": ', b'"n": 9223372036854775807, "id": '),
    (b'"id": ', b'"n": -9223372036854775808, "id": '),
    (b'"id": ', b'"n": NaN, "id": '),
    (b'"id": ', b'"n": -Infinity, "id": '),
    (b'"id": ', b'"n": ' + b"[" * 60 + b"1" + b"]" * 60 + b', "id": '),
    (b'"id": ', b'"n": ' + b"[" * 70 + b"1" + b"]" * 70 + b', "id": '),
    (b'"id": ', b'"n": {"a": [true, false, null, {}], "b": []}, "id": '),
    (b'"id": ', b'"n": tru, "id": '),
    (b'"id": ', b'"": 1, "id": '),
    (b'"id": ', b'"id": 42, "x": '),
    (b'"id": ', b'"id": true, "x": '),
    (b'"source": "', b'"object_type": "order", "owner_id": "c9", "source": "'),
    (b'"source": "', b'"object_type": null, "source": "'),
    (b'"source": "', b'"object_type": "", "source": "'),
    (b'"source": "', b'"owner_type": "contact", "source": "'),
    (b'"source": "', b'"owner_id": null, "source": "'),
]


@st.composite
def _edited(draw: st.DrawFn) -> bytes:
    """A line of the common shape, edited at one place (or none) by one of ``_EDITS``."""
    raw = draw(_lines()).encode("utf-8", "surrogatepass") + b"\n"
    if draw(st.booleans()):
        old, new = draw(st.sampled_from(_EDITS))
        at = raw.find(old)
        if at >= 0:
            raw = raw[:at] + new + raw[at + len(old) :]
    return raw


@settings(max_examples=examples(ci=200, deep=600), deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=_edited())
@example(raw=_line(Name="x", name="y"))
@example(raw=_line(source=None))
@example(raw=_line(source=""))
@example(raw=b"\n")
@example(raw=b"   \n")
@example(raw=b"[1]\n")
def test_a_line_reads_and_normalises_as_the_python_path(raw: bytes) -> None:
    """GIVEN a line of the common shape, or one edited byte by byte into what a reader must refuse
    or read otherwise WHEN read by the compiled call (else the Python path) and by the Python path
    THEN the same outcome, pickled to the same bytes."""
    expected, got, _ = _both([raw])
    assert got == expected


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)


def _json_text(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


@settings(max_examples=examples(ci=150, deep=500), deadline=None, suppress_health_check=list(HealthCheck))
@given(extra=st.dictionaries(st.text(max_size=8), _json, max_size=4), ascii_only=st.booleans())
def test_objects_of_any_json_values_read_as_the_python_path(extra: dict[str, Any], ascii_only: bool) -> None:
    """GIVEN a record with fields of any JSON value (numbers as written, nested, any text) WHEN read
    both ways THEN the same outcomes (a fraction's Decimal, an integer's id, nested traits)."""
    data = {"source": "crm", "id": "c1", "email": "a@b.co", **extra}
    text = json.dumps(data, default=lambda value: float(value) if isinstance(value, Decimal) else str(value))
    if not ascii_only:
        text = json.dumps(json.loads(text), ensure_ascii=False)
    expected, got, _ = _both([text.encode("utf-8", "surrogatepass") + b"\n"])
    assert got == expected


@pytest.mark.parametrize(
    "raw",
    [
        _line(phone="+1 (201) 200-2223", first_name="ann", consent={"email": True}, orders=[{"id": "o1"}]),
        _line(source=None),  # the reader's source, added at the object's end
        _line(id=42, object_type="customer"),
        _line(id=0, n=0).replace(b": 0", b": -0"),  # (``int("-0")``: 0, as Python reads it)
        _line(email=["a@b.co", "c@d.co"]),  # a draft the compiled call a record declines
        _line(id=42.5),  # a draft the normaliser quarantines
        _line(first_name="\u00e9\U0001f600").replace(b"\\u00e9", "\u00e9".encode()),
        _line(orders=[{"id": "o1", "total": 19.9, "currency": "EUR"}, {"id": "o2", "total": 1e2}]),
    ],
)
def test_a_plain_line_is_read_by_the_compiled_call(raw: bytes) -> None:
    """GIVEN the line of a plain record (whatever its draft then normalises to) WHEN read THEN the
    compiled call read it itself, and wrote the Python path's bytes."""
    expected, got, taken = _both([raw])
    assert taken == 1
    assert got == expected


@pytest.mark.parametrize(
    "raw",
    [
        b"\n",
        b'{"id": "c1"} \n',
        b'{"id": "c1", "id": "c2"}\n',
        b'{"id": "\\ud800"}\n',
        b'{"n": NaN}\n',
        b'{"n": 123456789012345678901234567890}\n',
        b'{"n": 1.}\n',
        b'{"n": 1.e5}\n',
        b'{"n": 01}\n',
        b'{"source": 5}\n',
        b'{"source": ""}\n',
        b'{"id": "c1", "owner_id": "p1"}\n',
        b'{"id": "c\xff"}\n',
        b"[]\n",
    ],
)
def test_any_other_line_is_left_to_the_python_path(raw: bytes) -> None:
    """GIVEN a line the compiled reader cannot take byte for byte (whitespace around it, a key
    twice, a lone surrogate, NaN, an integer past 64 bits, a source that is not a text, a
    child, a byte that is not UTF-8, not an object) WHEN read THEN it returned None, and the Python
    path wrote the outcome."""
    assert NATIVE is not None
    assert NATIVE.normalise_line(raw, "jsonl", OPTIONS) is None
    expected, got, taken = _both([raw])
    assert taken == 0
    assert got == expected


def test_the_bench_population_is_read_by_the_compiled_call_as_one_chunk(tmp_path: Path) -> None:
    """GIVEN the scaling bench's population (three tools, overlapping people, malformed lines) in
    its batches WHEN every line is read both ways with the real clock THEN the compiled call read
    every line the Python path made a record of, and the outcomes pickle as one chunk (the worker's
    message) to the same bytes."""
    source = tmp_path / "records.jsonl"
    generate(source, 1500)
    plan = plan_batches(source, 500)
    assert plan is not None
    raws = [item[1] for item in batched_lines(source, plan) if not isinstance(item, BatchEnd)]
    now = NormaliseOptions(now=datetime.now(UTC))
    expected, got, taken = _both(raws, now)
    assert got == expected
    records = sum(not isinstance(outcome, Quarantined) for outcome in pickle.loads(expected))
    assert records > 1000
    assert taken >= records
