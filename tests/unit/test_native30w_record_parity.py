"""One compiled call a record (native/src/norm_record*.rs) normalises as core.normalise does.

``profilesync_native.normalise_record(draft, options)`` is what the normalising worker of
``profilesync resolve`` calls for each draft (chosen by profilesync.resolve_native): it writes the
common record itself, calling back only what stays Python's, and gives every other draft to
``core.normalise.normalise_record``. The Python function, with none of the compiled pieces, is
the oracle: the outcome pickles to the same bytes (the same models, values, shared objects and
dropped values in the same order), on hypothesis drafts of junk (tests/unit/test_normalise.py's
``drafts``), on JSON lines of the jsonl connector's common shape with real-world and awkward
values (read by its own ``line_outcome``, as the worker reads them), and on the scaling bench's
population, where the compiled call must write every record itself.

Mutations this catches (each built into the extension and run): the consent channel kept as
given instead of ``str.lower``'s (the line test: "Email"); the future-dated note left out (the
line test, with its fixed clock); a dropped trait value not declined (the line test: a record
without its ``traits.*`` drop).
"""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import core.normalise._record as record_module
import profilesync.resolve_native as resolve_native
from bench.resolve_scaling import generate
from connectors.jsonl import line_outcome
from connectors.jsonl.batched import BatchEnd, read_jsonl_batched
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
from tests.unit.test_normalise import drafts

pytestmark = needs_native

OPTIONS = NormaliseOptions(now=datetime(2026, 6, 1, 12, 0, tzinfo=UTC))


def _choose(compiled: bool) -> None:
    """The worker's compiled pieces (``compiled``) or the Python functions."""
    use_assembler(resolve_native.worker_assembler() if compiled else None)
    use_email_normaliser(resolve_native.worker_email_normaliser() if compiled else None)
    use_order_reader(resolve_native.worker_order_reader() if compiled else None)


def _both(draft: Any, options: NormaliseOptions = OPTIONS) -> tuple[bytes, bytes, bool]:
    """The Python path's pickled outcome, the compiled call's (with the worker's pieces), and
    whether the compiled call wrote it itself."""
    assert NATIVE is not None
    # (the cached identifiers keep the first objects built: built again each way)
    record_module._email_identifier.cache_clear()
    record_module._phone_identifier.cache_clear()
    _choose(False)
    expected = pickle.dumps(normalise_record(draft, options))
    record_module._email_identifier.cache_clear()
    record_module._phone_identifier.cache_clear()
    _choose(True)
    try:
        before = NATIVE.normalise_record_counts()[0]
        got = pickle.dumps(NATIVE.normalise_record(draft, options))
        taken = NATIVE.normalise_record_counts()[0] > before
    finally:
        _choose(False)
    return expected, got, taken


@settings(max_examples=examples(ci=100, deep=300), deadline=None, suppress_health_check=list(HealthCheck))
@given(draft=drafts())
def test_any_draft_normalises_as_the_python_function(draft: RecordDraft) -> None:
    """GIVEN any draft, junk in every field WHEN normalised by the compiled call and by the Python
    function THEN the same outcome, pickled to the same bytes."""
    expected, got, _ = _both(draft)
    assert got == expected


_ids = st.text(alphabet="abcs0123456789-_:#", min_size=1, max_size=8)
_odd_ids = st.sampled_from([" c1", "c1 ", "e\u00e92", "id\x1f", "\ud800x", "", "x" * 400]) | st.integers(
    -5, 10**40
)
_emails = st.sampled_from(
    [
        "ann.lee@example.com",
        "  Ann.Lee@Example.COM ",
        "ANN@EXAMPLE.COM",
        "ann@bücher.de",
        "Ａnn@example.com",
        "ann+tag@shop.example.net",
        "ann@xn--bcher-kva.de",
    ]
)
_odd_emails = st.sampled_from(
    [
        "ann@",
        "a..b@example.com",
        "\u3000ann@example.com",
        " ",
        "",
        "\ud800@example.com",
        "x" * 70 + "@example.com",
    ]
)
_phones = st.sampled_from(
    ["+1 (201) 200-2223", "+442030004600", "020 7946 0018", "(415) 555-2671", "+49 30 901820"]
)
_odd_phones = st.sampled_from(["123", "", " ", "+1 201 200 2223 ext 9", "+44 20 7946 00181234"])
_names = st.sampled_from(
    ["ann", "Una", "ANN-MARIE O'NEIL", "müller", "MÜLLER", "ǆemal", "van der berg", "McDONALD"]
)
_odd_names = st.sampled_from(["  Una  ", "3rd", "\ud800", "", "x" * 5000])
_countries = st.sampled_from(["GB", "gb", "United Kingdom", "Germany", "FR", "Deutschland"])
_odd_countries = st.sampled_from(["Narnia", "", "  "])
_times = st.sampled_from(
    [
        "2026-04-13T07:31:33Z",
        "2026-04-13T07:31:33+02:00",
        "2026-04-13 07:31:33",
        "2026-04-13T07:31:33.123456Z",
        "2027-01-01T00:00:00Z",  # ahead of the tests' clock: read as it, with a note
        "2026-06-01T12:30:00Z",  # ahead by less than the skew: read_at set
        "Mon, 05 Jan 2026 10:00:00 GMT",
        "1796472005",
    ]
)
_odd_times = st.sampled_from(["1969-12-31T23:59:59Z", "not a time", ""]) | st.integers(0, 4_000_000_000)
_consent = st.dictionaries(st.sampled_from(["email", "Email", "sms", "push"]), st.booleans(), max_size=3)
_odd_consent = st.dictionaries(
    st.sampled_from(["email", " sms", "x" * 70, "", "\u00e9mail"]),
    st.booleans()
    | st.sampled_from(
        [None, "yes", {"granted": True}, {"granted": False, "changed_at": "2026-06-01T12:30:00Z"}]
    ),
    max_size=3,
)
_order = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["o1", "o2", "o3", "r4900-10"]),
        "total": st.sampled_from(["19.90", "-5.00", "1,299.00", "0.10", "353.80"]),
        "currency": st.sampled_from(["EUR", "gbp", "JPY"]),
        "created_at": _times,
    },
    optional={"status": st.sampled_from(["paid", "refunded", "Fulfilled", None])},
)
_odd_order = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["o1", " o3", 7, ""]),
        "total": st.sampled_from(["19,90", "abc", "0.005", "1e400"]),
        "currency": st.sampled_from(["ZZZ", "", "EUR"]),
        "created_at": _times | _odd_times,
    },
    optional={"status": st.sampled_from(["lost", 3])},
)


#: True one time in five (hypothesis draws the ends of an integer range more often than its middle).
_seldom = st.sampled_from((False, False, False, False, True))


@st.composite
def _lines(draw: st.DrawFn) -> str:
    """A JSON line of the jsonl connector's common shape: each field's value common four times in
    five (real-world spellings), awkward otherwise (what a normaliser refuses or reads otherwise)."""

    def pick(common: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> Any:
        return draw(odd) if draw(_seldom) else draw(common)

    data: dict[str, Any] = {
        "source": pick(st.sampled_from(["crm", "shop", "email"]), st.sampled_from([" crm", ""]))
    }
    data["id"] = pick(_ids, _odd_ids)
    data["updated_at"] = pick(_times, _odd_times)
    if draw(st.integers(0, 3)):
        data["email"] = pick(_emails, _odd_emails | st.lists(_emails, max_size=2) | st.none())
    if draw(st.integers(0, 3)):
        data["phone"] = pick(_phones, _odd_phones | st.lists(_phones, max_size=2) | st.just(4155552671))
    for trait in ("first_name", "last_name"):
        if draw(st.booleans()):
            data[trait] = pick(_names, _odd_names)
    if draw(st.booleans()):
        data["country"] = pick(_countries, _odd_countries)
    if draw(_seldom):
        data[draw(st.sampled_from(["vipLevel", "City", "first-name", "", "a" * 130]))] = draw(
            st.sampled_from(["gold", 3, True, None, "  ", [1]])
        )
    if draw(st.booleans()):
        data["consent"] = pick(_consent, _odd_consent)
    if draw(st.booleans()):
        data["orders"] = draw(st.lists(_order | _odd_order if draw(_seldom) else _order, max_size=4))
    if draw(_seldom) and draw(st.booleans()):
        data["object_type"] = draw(st.sampled_from(["order", "customer", " contact"]))
    if draw(_seldom) and draw(st.booleans()):
        data["owner_id"] = draw(st.sampled_from(["c1", 5]))
    return json.dumps(data, ensure_ascii=draw(st.booleans()))


def _draft(line: str) -> Any:
    outcome = line_outcome(1, line, len(line), "jsonl")
    assert outcome is not None
    return outcome


def _line(**fields: Any) -> str:
    """A JSON line: a contact of ``crm`` with an address, and ``fields`` (None leaves one out)."""
    data = {"source": "crm", "id": "c1", "updated_at": "2026-04-13T07:31:33Z", "email": "a@b.co", **fields}
    return json.dumps({name: value for name, value in data.items() if value is not None})


_ORDER = {"id": "o1", "total": "-5.00", "currency": "EUR", "created_at": "2026-04-08T07:31:33+00:00"}


@settings(max_examples=examples(ci=200, deep=500), deadline=None, suppress_health_check=list(HealthCheck))
@given(line=_lines())
@example(line=_line(consent={"Email": True}))
@example(line=_line(updated_at="2027-04-13T07:31:33Z"))
@example(line=_line(city="  "))
@example(line=_line(email="bad@", phone="+442030004600"))
def test_lines_of_the_common_shape_normalise_as_the_python_function(line: str) -> None:
    """GIVEN a line of the jsonl connector's common shape with real-world and awkward values
    WHEN its draft is normalised by the compiled call and by the Python function
    THEN the same outcome, pickled to the same bytes."""
    expected, got, _ = _both(_draft(line))
    assert got == expected


@pytest.mark.parametrize(
    "line",
    [
        # the common record, each part present
        _line(
            source="shop",
            email=" Ann@Example.com ",
            phone="+1 (201) 200-2223",
            first_name="ann",
            last_name="MÜLLER",
            country="United Kingdom",
            consent={"email": True, "SMS": False},
            orders=[{**_ORDER, "status": "paid"}],
        ),
        # a phone alone, the email dropped with its reason, a future time read as the clock
        _line(updated_at="2027-01-01T00:00:00Z", email="bad@", phone="+442030004600"),
        # consent and orders the Python functions drop from: still this call's record
        _line(consent={"email": "yes"}, orders=[{**_ORDER, "total": "19,90"}, _ORDER, _ORDER]),
    ],
)
def test_the_compiled_call_writes_the_common_record_itself(line: str) -> None:
    """GIVEN a line of the common shape (with values the Python functions drop from its consent
    and orders) WHEN normalised THEN the compiled call wrote it, the Python function's bytes."""
    expected, got, taken = _both(_draft(line))
    assert taken
    assert got == expected


@pytest.mark.parametrize(
    "line",
    [
        _line(id=42.5),  # quarantined
        _line(email=["a@b.co", "c@d.co"]),
        _line(object_type="order", owner_id="p1", email=None),
        _line(id="c\ud800"),
        _line(Name="x", name="y"),
    ],
)
def test_a_record_outside_the_common_shape_goes_whole_to_the_python_function(line: str) -> None:
    """GIVEN a draft outside the common shape (a quarantine, two emails, a child, a lone
    surrogate, a trait dropped) WHEN normalised THEN the Python function wrote it: its bytes."""
    expected, got, taken = _both(_draft(line))
    assert not taken
    assert got == expected


def test_the_bench_population_is_written_by_the_compiled_call(tmp_path: Path) -> None:
    """GIVEN the scaling bench's population (three tools, overlapping people, malformed lines)
    WHEN each draft is normalised with the real clock THEN every record that is not quarantined
    was written by the compiled call, and every outcome is the Python function's bytes."""
    source = tmp_path / "records.jsonl"
    generate(source, 1500)
    items = [item for item in read_jsonl_batched(source, 500) if not isinstance(item, Quarantined | BatchEnd)]
    now = NormaliseOptions(now=datetime.now(UTC))
    records = taken = 0
    for draft in items:
        expected, got, took = _both(draft, now)
        assert got == expected
        records += not isinstance(pickle.loads(expected), Quarantined)
        taken += took
    assert records > 1000
    assert taken == records
