"""Steps of the normalising worker rewritten for speed give what the steps they replace gave.

Each test keeps the replaced step as it was (``_old_...``) and compares the two on hypothesis
input, outcome for outcome: the same value, or the same error with the same reason. The whole path
is compared in tests/unit/test_normalise_fast_paths.py; these reach the corners of one step (epoch
strings next to ISO dates, traits at the size limit in every width of UTF-8) that whole records
seldom do.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import connectors.jsonl as jsonl
import connectors.jsonl.batched as batched
from connectors.jsonl import _undecodable
from core.errors import NormalisationError
from core.normalise import NormaliseOptions, _email, _money, _names, _time, _values, normalise_record
from core.normalise._limits import MAX_TRAITS_BYTES
from core.normalise._values import _Collector
from core.schema import RecordDraft, SourceRecord
from tests.hypothesis_profiles import examples

SETTINGS = settings(max_examples=400, deadline=None)
#: Amounts read one after another (the readings of texts kept): fewer examples in ci. (Orders keep
#: 400: an id with a space at its end only, which the short way must send the general way, needs them.)
LISTS = settings(SETTINGS, max_examples=examples(ci=100, deep=400))
#: Traits read a batch at a time, one after another: fewer in ci (orders keep 400, above).
WHOLE_BATCHES = settings(SETTINGS, max_examples=examples(ci=150, deep=400))


def _outcome(function: Any, *args: Any) -> tuple[str, Any]:
    """What ``function(*args)`` gives: its value, or its error's type and text."""
    try:
        return ("value", function(*args))
    except Exception as error:
        return ("error", (type(error).__name__, str(error)))


# --------------------------------------------------------------------------------------------------
# Timestamps: no epoch pattern for ISO dates, no conversion of a time already in UTC


def _old_parse_timestamp(value: str) -> datetime:
    text = value.strip()
    if not text:
        raise NormalisationError("timestamp", "empty")
    if _time._EPOCH_STRING.fullmatch(text):
        return _time._from_epoch(Decimal(text))
    try:
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        moment = _time._parse_rfc2822(text)
    return _time._to_utc(moment)


_iso = st.from_regex(
    r"\s?-?[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,7})?)?)?"
    r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?\s?",
    fullmatch=True,
)
_epoch = st.from_regex(r"\s?-?[0-9]{1,14}(\.[0-9]{0,4})?\s?", fullmatch=True)
_times = st.one_of(
    _iso,
    _epoch,
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()).map(
        lambda moment: moment.isoformat()
    ),
    st.sampled_from(["Mon, 05 Jan 2026 10:00:00 GMT", "2026-01-05T10:00:00+00:00", "0001-01-01", "-1234"]),
    st.text(alphabet="0123456789-+:.TZ tz", max_size=30),
    st.text(max_size=12),
)


@SETTINGS
@given(text=_times)
def test_a_timestamp_parses_as_it_did(text: str) -> None:
    # GIVEN any text: ISO times (any offset, any year, lower-case letters), epoch numbers, junk
    # WHEN parsed by the faster step and by the one it replaced
    new, old = _outcome(_time._parse_timestamp.__wrapped__, text), _outcome(_old_parse_timestamp, text)
    # THEN the same moment (in the same zone object) or the same error
    assert new == old
    if new[0] == "value":
        assert new[1].tzinfo is old[1].tzinfo is UTC


# --------------------------------------------------------------------------------------------------
# Traits: the byte count only for traits that might not fit


def _old_within_budget(traits: dict[str, str], collector: _Collector) -> dict[str, str]:
    sizes = {
        key: len(key) + (len(text) if text.isascii() else len(text.encode())) for key, text in traits.items()
    }
    total = sum(sizes.values())
    if total <= MAX_TRAITS_BYTES:
        return traits
    for key in sorted(sizes, key=lambda k: (-sizes[k], k)):
        collector.drop(f"traits.{key}", traits.pop(key), "left out")
        total -= sizes[key]
        if total <= MAX_TRAITS_BYTES:
            break
    return traits


_wide_text = st.builds(
    lambda char, count: char * count,
    st.sampled_from(["a", "é", "€", "𝄞"]),  # 1, 2, 3 and 4 bytes of UTF-8
    st.integers(0, MAX_TRAITS_BYTES // 2),
)


@SETTINGS
@given(traits=st.dictionaries(st.sampled_from(["a", "note", "long_name_" * 4]), _wide_text, max_size=4))
def test_traits_near_the_limit_are_kept_or_left_out_as_before(traits: dict[str, str]) -> None:
    # GIVEN traits of every width of UTF-8, from nothing to twice the limit together
    new_collector, old_collector = _Collector(), _Collector()
    # WHEN the budget is applied by the faster step and by the one it replaced
    new = _names._within_budget(dict(traits), new_collector)
    old = _old_within_budget(dict(traits), old_collector)
    # THEN the same traits stay, and the same ones are left out
    assert new == old
    assert [d.field for d in new_collector.dropped] == [d.field for d in old_collector.dropped]


# --------------------------------------------------------------------------------------------------
# Traits: a text name and value read once, the reading kept


def _old_traits(traits: dict[Any, Any], collector: _Collector) -> dict[str, str]:
    result: dict[str, str] = {}
    for raw_key, value in traits.items():
        if _values._is_blank(value):
            continue
        name = raw_key if isinstance(raw_key, str) else _values._short(raw_key)
        if len(name) > _names.MAX_TRAIT_NAME_CHARS:
            collector.drop(
                "traits", name, f"a trait name may have {_names.MAX_TRAIT_NAME_CHARS} characters at most"
            )
            continue
        key = _names._snake_case(name)
        field = f"traits.{key}"
        if not key:
            collector.drop(
                "traits", value, f"trait name {_values._short(raw_key, 40)!r} is empty after snake_case"
            )
            continue
        if key in result:
            collector.drop(field, value, f"duplicate trait: {_values._short(raw_key, 40)!r} is also {key!r}")
            continue
        try:
            text = _names._scalar_text(value)
            if key in ("first_name", "last_name"):
                text = _names.normalise_name(text)
            elif key == "country":
                text = _names.normalise_country(text)
            if len(text) > _names.MAX_TRAIT_CHARS:
                raise NormalisationError("trait", f"longer than {_names.MAX_TRAIT_CHARS} characters")
        except Exception as exc:
            collector.drop(field, value, _values._reason(exc))
            continue
        if text:
            result[key] = text
    return _names._within_budget(result, collector)


#: Names that collide after snake_case, one too long, one empty after it, and a number.
_trait_name = st.sampled_from(
    ["first_name", "First Name", "firstName", "country", "Country", "vip", "VIP", "--", "n" * 70, 1, True]
)
#: Values equal to each other across types (``"1"``, ``1``, ``True``, ``1.0``, ``Decimal(1)``), blanks,
#: names and countries in several writings, and values no trait may hold.
_trait_value = st.one_of(
    st.sampled_from(["1", "true", " ann ", "ANN", "", "  ", "gb", "United Kingdom", "zz", "x" * 600]),
    st.sampled_from([1, True, False, 0, 1.0, Decimal(1), Decimal("NaN"), None, [1], {"a": 1}]),
    st.text(max_size=8),
)


@WHOLE_BATCHES
@given(batch=st.lists(st.dictionaries(_trait_name, _trait_value, max_size=5), min_size=1, max_size=6))
def test_traits_are_read_as_before_whatever_was_read_earlier(batch: list[dict[Any, Any]]) -> None:
    # GIVEN records' traits one after another, so that each is read with the readings of the earlier
    # ones kept (the same names and values, and values equal to them in other types)
    for traits in batch:
        new_collector, old_collector = _Collector(), _Collector()
        # WHEN they are read by the faster step and by the one it replaced
        new = _names._traits(traits, new_collector)
        old = _old_traits(traits, old_collector)
        # THEN the same traits are kept, in the same order, and the same values dropped for the same reasons
        assert list(new.items()) == list(old.items())
        assert new_collector.listed() == old_collector.listed()


# --------------------------------------------------------------------------------------------------
# Money: a text amount and currency read once, the reading kept

_amount = st.one_of(
    st.sampled_from(
        ["19.90", "19.9", "19,90", "1,299", "-0.001", " 7 ", "1e3", "NaN", "", "1" * 70, "0.005"]
    ),
    st.sampled_from(
        ["007.50", "0.00", "-0.00", "1" * 20 + ".99", "9" * 21 + ".99", "9" * 27 + ".99", "١٢.٥٠", "12.50\n"]
    ),
    st.from_regex(r"[0-9]{1,30}\.[0-9]{2}", fullmatch=True),
    st.sampled_from([19.9, 1, True, Decimal("19.90"), Decimal("sNaN"), None, [1]]),
    st.from_regex(r"-?[0-9]{1,5}(\.[0-9]{0,4})?", fullmatch=True),
    st.text(max_size=6),
)
_currency = st.one_of(
    st.sampled_from(["GBP", "gbp", " JPY ", "BHD", "XXX", "", "£", 826]), st.text(max_size=4)
)


@LISTS
@given(prices=st.lists(st.tuples(_amount, _currency), min_size=1, max_size=8))
def test_an_amount_is_read_as_before_whatever_was_read_earlier(prices: list[tuple[Any, Any]]) -> None:
    # GIVEN prices one after another, texts and numbers equal to them (the readings of texts are kept)
    for amount, currency in prices:
        # WHEN one is normalised THEN it gives what the step without the kept readings gives
        # (repr: an amount's exponent too, which == does not compare: 19.9 == 19.90)
        fast, general = (
            _outcome(_money.normalise_money, amount, currency),
            _outcome(_money._money, amount, currency),
        )
        assert repr(fast) == repr(general)


# --------------------------------------------------------------------------------------------------
# Orders: the common shape read without the checks its values cannot fail

#: Ids that strip, blank, non-ASCII space, a lone surrogate, too long, not text.
_order_id = st.one_of(
    st.sampled_from(
        [" o1", "o1 ", "\x1fo1", "o1\x7f", "\u3000o1", "o1\u00a0", "ö1", "\ud800", "", "x" * 129]
    ),
    st.sampled_from(["x" * 129, 7, -1, True, None, 1.5, ["o1"], 10**40]),
    st.text(max_size=6),
)
_status = st.one_of(
    st.sampled_from(["paid", "Paid", " paid", "on hold", "on_hold", "on-hold", "", " ", "void", "nope"]),
    st.sampled_from([None, 1, ["paid"], {"a": 1}]),
    st.text(max_size=5),
)
_created = st.one_of(
    st.sampled_from(["2026-01-02T09:00:00Z", "2026-01-02T09:00:00+02:00", " 2026-01-02 ", "", "1700000000"]),
    st.sampled_from(["yesterday", "1969-12-31T00:00:00Z", None, 1700000000]),
    st.text(max_size=5),
)


#: Values of each field that read: most orders are of this shape, and the short way takes them.
_plain_order = {
    "id": st.one_of(st.sampled_from(["o1", "o-2", "x" * 128]), st.from_regex(r"[!-~]{1,8}", fullmatch=True)),
    "total": st.one_of(st.from_regex(r"-?[0-9]{1,5}(\.[0-9]{0,4})?", fullmatch=True), st.just("1,299.50")),
    "currency": st.sampled_from(["GBP", "gbp", "JPY", "BHD", " EUR"]),
    "created_at": st.sampled_from(["2026-01-02T09:00:00Z", "2026-01-02T09:00:00+02:00", "1700000000"]),
    "status": st.sampled_from([None, "paid", "refunded", "pending", "on-hold", "void"]),
}
_odd_order = {
    "id": _order_id,
    "total": _amount,
    "currency": _currency,
    "created_at": _created,
    "status": _status,
}


@st.composite
def _orders(draw: st.DrawFn) -> Any:
    """An order of the common shape, with a field or two odd, missing or extra now and then."""
    raw = {}
    for name, plain in _plain_order.items():
        how = draw(st.integers(0, 9))
        if how:  # 0: left out
            raw[name] = draw(plain if how > 2 else _odd_order[name])
    if draw(st.booleans()):
        raw["note"] = draw(st.text(max_size=3))
    return draw(st.sampled_from([raw, raw, raw, raw, [raw], "order", None]))


@SETTINGS
@given(orders=st.lists(_orders(), min_size=1, max_size=6))
def test_an_order_is_read_as_the_general_way_reads_it(orders: list[Any]) -> None:
    # GIVEN orders of any shape, one after another (the readings of amounts and times are kept)
    for raw in orders:
        # WHEN one is read THEN it gives the general way's order, or its error with its reason
        fast, general = _outcome(_money._order, raw), _outcome(_money._order_general, raw)
        assert fast == general
        if fast[0] == "value":
            assert fast[1].model_dump_json() == general[1].model_dump_json()
            assert fast[1].__pydantic_fields_set__ == general[1].__pydantic_fields_set__


def test_a_plain_order_takes_the_short_way(monkeypatch: Any) -> None:
    # GIVEN an order as the bench's shop writes it, and the general way made to fail
    raw = {
        "id": "o1",
        "total": "19.90",
        "currency": "GBP",
        "created_at": "2026-01-02T09:00:00Z",
        "status": "paid",
    }
    expected = _money._order_general(raw)
    monkeypatch.setattr(_money, "_order_general", lambda raw: 1 / 0)
    # WHEN it is read THEN it is read without the general way, to the same order
    assert _money._order(raw) == expected


# --------------------------------------------------------------------------------------------------
# Lines that are not UTF-8: ASCII lines are not searched


_OLD_UNDECODABLE = re.compile("[\udc80-\udcff]")


@SETTINGS
@given(
    line=st.text(
        # what a line read with errors="surrogateescape" can hold: text, and U+DC80..U+DCFF alone
        alphabet=st.sampled_from(["a", "{", "é", "\ud7ff", "\udc80", "\udcc3", "\udcff", "\ue000"]),
        max_size=20,
    )
)
def test_a_line_is_found_undecodable_as_before(line: str) -> None:
    # GIVEN any line, with bytes that are not UTF-8 (as surrogateescape reads them) or without
    found = _undecodable(line, 7, "jsonl")
    # THEN it is quarantined exactly when it holds one of the bytes that are not UTF-8
    assert (found is not None) == (_OLD_UNDECODABLE.search(line) is not None)
    assert found is None or found.reason.startswith("line 7 is not UTF-8 text")


# --------------------------------------------------------------------------------------------------
# Identifiers: each kind's values sorted in turn, not the whole list by a key


_emails = st.lists(st.sampled_from(["b@example.com", "a@example.com", "zed@example.org", "x"]), max_size=4)
_phones = st.lists(st.sampled_from(["+442079460018", "+12015550123", "+12015550100", "7"]), max_size=4)


@SETTINGS
@given(
    emails=_emails,
    phones=_phones,
    source_id=st.sampled_from(["1", "9", "c1", "zz"]),
    object_type=st.sampled_from(["contact", "order"]),
    owner=st.none()
    | st.tuples(st.sampled_from(["contact", "customer", "order"]), st.sampled_from(["1", "c1", "a"])),
)
def test_identifiers_are_sorted_by_kind_then_value(
    emails: list[str], phones: list[str], source_id: str, object_type: str, owner: tuple[str, str] | None
) -> None:
    # GIVEN a record or a child (with or without its owner) holding emails and phones in any order
    draft = RecordDraft.model_construct(
        source="shop",
        object_type=object_type,
        source_id=source_id,
        updated_at="2026-01-05T10:00:00Z",
        emails=emails,
        phones=phones,
        traits={},
        consent={},
        orders=[],
        owner_type=None if owner is None else owner[0],
        owner_id=None if owner is None else owner[1],
        raw=None,
        problem=None,
    )
    # WHEN it is normalised
    record = normalise_record(draft, NormaliseOptions(now=datetime(2026, 6, 1, tzinfo=UTC)))
    # THEN its identifiers are in the order the full sort gives
    if isinstance(record, SourceRecord):
        identifiers = list(record.identifiers)
        assert identifiers == sorted(identifiers, key=lambda ident: (ident.kind, ident.value))
        # a child with its owner joins by that link alone; anything else by its emails and phones
        wanted = 2 if owner is not None else len(set(emails) - {"x"}) + len(set(phones) - {"7"}) + 1
        assert len(identifiers) == wanted


# --------------------------------------------------------------------------------------------------
# Email addresses: the fast path against the step-by-step checks, at their limits


def _step_by_step(value: str) -> str:
    address = value.strip().lower()
    if not address.isascii():
        address = _email._fold_unicode(address)
    return _email._email_slow(address)


_segment = st.integers(1, 40).map(lambda n: "ab-+"[n % 4] * n) | st.text("ab.Ø-+", max_size=3)
_local = st.lists(_segment, min_size=1, max_size=4).map(".".join)
_domain = st.sampled_from(
    ["example.com", "Bücher.example", "bücher.xn--p1ai", "xn--bcher-kva.de", "a--b.de", "ex.1", "ü", "-x.de"]
)
_padding = st.sampled_from(["", " ", "\u200b", "\ufeff ", "\u00ad"])
_addresses = st.builds(lambda pad, local, domain: f"{pad}{local}@{domain}{pad}", _padding, _local, _domain)


@SETTINGS
@given(value=_addresses | st.text("aü@.\u200b", max_size=12))
def test_an_address_is_read_as_the_step_by_step_checks_read_it(value: str) -> None:
    # GIVEN addresses around the limits: local parts of 0 to 160 characters with dots, ASCII and
    # internationalised domains, A-labels, numeric top-level domains, invisible characters
    # WHEN normalised by the fast path and by the checks that name what is wrong
    # THEN the same address, or the same reason
    assert _outcome(_email._normalise_email.__wrapped__, value) == _outcome(_step_by_step, value)


# --------------------------------------------------------------------------------------------------
# Ids and mappings: plain ASCII ids and plain dicts without the general checks


def _old_id_problem(value: object, what: str) -> str | None:
    if _values._is_blank(value):
        return f"missing {what}"
    if isinstance(value, bool) or not isinstance(value, str | int):
        return (
            f"{what} must be a string or an integer, not {_values._kind(value)} ({_values._short(value, 60)})"
        )
    if isinstance(value, int) and value.bit_length() > 128:
        return f"{what} is an integer of more than 38 digits"
    if isinstance(value, str) and (bad := _values._surrogate(value)) is not None:
        return f"{what} holds invalid Unicode (a lone surrogate, {bad}); fix it in the source"
    return None


class _Text(str):
    pass


_ids = st.one_of(
    st.text(st.sampled_from(["a", "1", " ", "\t", "\x1c", "\u3000", "\u00a0", "é", "\ud800"]), max_size=4),
    st.text(max_size=6).map(_Text),
    st.integers(-(2**130), 2**130),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.floats(allow_nan=False),
)


@SETTINGS
@given(value=_ids)
def test_an_id_is_judged_as_before(value: object) -> None:
    # GIVEN any value for an id: ASCII, blank in any of Unicode's spaces, lone surrogates, a str
    # subclass, huge integers, booleans, lists
    # THEN the faster check finds the same problem, or none
    assert _values._id_problem(value, "id") == _old_id_problem(value, "id")


# --------------------------------------------------------------------------------------------------
# JSON: one scan for a line that is one value


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=Decimal, parse_constant=str)


_json_text = st.lists(
    st.sampled_from(['{"a": 1.5}', "[1, NaN]", '"x"', "1", " ", "\t", "}", "{", "nul", "\ufeff", "2e5", ","]),
    min_size=1,
    max_size=4,
).map("".join)


@SETTINGS
@given(text=_json_text | st.text(max_size=8))
def test_a_line_decodes_as_loads_decodes_it(text: str) -> None:
    # GIVEN a line of one value, several, none, or a value with whitespace or more after it
    # THEN the same value (Decimals and all) or the same error, at the same place
    assert _outcome(jsonl._decode, text) == _outcome(_loads, text)


# --------------------------------------------------------------------------------------------------
# Planning batches: a line's bytes decode as json.loads decodes them

_json_bytes = st.lists(
    st.sampled_from(
        [
            b'{"a": 1.5}',
            b"{",
            b"}",
            b'"\\ud800"',
            b"\xff",
            b"\xc3\xa9",
            b"\x00",
            b" ",
            b"\r\n",
            b"\n",
            b"\x0b",
            b"[1]",
            # a value missing inside an object or a list: the scanner stops there
            b'{"a": ',
            b'{"a": [1, ',
            b'{"a": {"b": ',
            b"]",
            b",",
            b"NaN",
        ]
    ),
    min_size=1,
    max_size=4,
).map(b"".join)


@SETTINGS
@given(raw=_json_bytes | st.binary(max_size=8).map(lambda tail: b"{" + tail))
def test_a_planned_line_decodes_as_loads_decodes_it(raw: bytes) -> None:
    # GIVEN a line's bytes: an object with more or whitespace after it, not UTF-8, UTF-16-looking
    # THEN the same value (compared by repr: NaN is not NaN), or an error the planner catches
    new, old = _outcome(batched._loads, raw), _outcome(json.loads, raw)
    if old[0] == "error":
        assert new[0] == "error"
        assert new[1][0] in ("JSONDecodeError", "UnicodeDecodeError"), (new, old)
    else:
        assert repr(new) == repr(old)
