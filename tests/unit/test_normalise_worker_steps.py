"""The normalising worker's shortcuts of issue 12's last round give exactly what the steps they skip give.

* ``_record._identifiers``: a list of one value or none (nearly every record) without the general loop;
  the same identifiers and the same dropped values, with their reasons, as ``_identifiers_general``.
* ``connectors.jsonl._traits_of``: a record's traits as a copy without the reserved names; the same
  names, values and order as the comprehension it replaced.
* ``_phone_valid._is_valid_parts``: each region of a calling code read once (``_step``); the
  same answer as ``_is_valid_parts_general`` and as ``phonenumbers.is_valid_number``, for every
  calling code, on every region's example numbers and on random digits.

The whole worker with these and every other fast path off is compared in
tests/unit/test_normalise_fast_paths.py.
"""

from __future__ import annotations

import random
from typing import Any

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

from connectors.jsonl import _RESERVED, _traits_of
from core.normalise import _phone_valid, _record
from core.normalise._email import normalise_email
from core.normalise._values import _Collector

#: Text an identifier may arrive as: blank in every way ``str.strip`` knows (Unicode spaces, the
#: separators, controls that are whitespace), valid and broken addresses and numbers, with spaces
#: around them or not.
_BLANKS = ["", " ", "\t", "\n", "\u00a0", "\u3000", "\u2028", "\u0085", "\x1c", " \u00a0 "]
_TEXTS = [
    "ann@example.com",
    " Ann@Example.COM ",
    "\u00a0ann@example.com",
    "ann@bücher.example",
    "ann@@example.com",
    "not an address",
    "+442079460018",
    "020 7946 0018",
    "(201) 201-6460",
    "+1 (201) 202-4752",
    "0044 20 7946 0018",
    "12",
    "\u200bann@example.com",
    " \u200b ",
    "ann@example.com\u3000",
    "\ud800",
]
_VALUES = st.one_of(
    st.sampled_from(_BLANKS + _TEXTS),
    st.text(max_size=20),
    st.none(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.booleans(),
    st.floats(allow_nan=True),
    st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=1),
)


def _read_phone(value: Any) -> str:
    return _record._phone_reader("GB", "US")(value)


def _both(values: object, normalise: Any, kind: str, room: int) -> tuple[Any, Any]:
    fast, general = _Collector(), _Collector()
    got = _record._identifiers(values, kind, normalise, fast, room)
    expected = _record._identifiers_general(values, kind, normalise, general, room)
    return (got, fast.listed(), fast.more), (expected, general.listed(), general.more)


@settings(max_examples=600, deadline=None)
@given(
    values=st.one_of(st.lists(_VALUES, max_size=2), st.tuples(_VALUES), _VALUES),
    phone=st.booleans(),
    room=st.integers(min_value=-1, max_value=3),
)
def test_identifiers_one_value_as_the_general_loop(values: object, phone: bool, room: int) -> None:
    normalise, kind = (_read_phone, "phone") if phone else (normalise_email, "email")
    got, expected = _both(values, normalise, kind, room)
    assert got == expected


@pytest.mark.parametrize("blank", _BLANKS)
@pytest.mark.parametrize("kind", ["email", "phone"])
def test_a_blank_identifier_is_absent_not_dropped(blank: str, kind: str) -> None:
    """Whitespace of any kind is no value (left out, nothing dropped), as the general loop says."""
    normalise = _read_phone if kind == "phone" else normalise_email
    got, expected = _both([blank], normalise, kind, 2)
    assert got == expected == ([], (), 0)


def test_identifiers_a_bad_value_is_dropped_with_its_reason() -> None:
    got, expected = _both(["ann@@example.com"], normalise_email, "email", 2)
    assert got == expected
    assert got[0] == []
    assert got[1][0].reason == "must contain exactly one @"


_KEYS = st.one_of(st.sampled_from(sorted(_RESERVED)), st.text(max_size=12))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, st.one_of(st.none(), st.text(max_size=5), st.integers()), max_size=16))
def test_traits_of_as_the_comprehension(data: dict[str, Any]) -> None:
    expected = {k: v for k, v in data.items() if k not in _RESERVED}
    got = _traits_of(data)
    assert list(got.items()) == list(expected.items())
    assert got is not data
    assert all(got[k] is data[k] for k in got)


def _nsns(country_code: int, rng: random.Random) -> list[str]:
    """National significant numbers to judge: every example number of the code's regions (valid
    and invalid) and random digits of every length phonenumbers reads."""
    found: list[str] = []
    for region in COUNTRY_CODE_TO_REGION_CODE[country_code]:
        examples = [phonenumbers.example_number_for_type(region, kind) for kind in range(12)]
        examples += [phonenumbers.invalid_example_number(region)]
        if region == "001":
            examples += [phonenumbers.example_number_for_non_geo_entity(country_code)]
        for number in examples:
            if number is not None and number.country_code == country_code:
                nsn = phonenumbers.national_significant_number(number)
                found += [nsn, nsn[:-1], nsn + "1"]
    for length in range(2, 18):
        found += ["".join(rng.choice("0123456789") for _ in range(length)) for _ in range(4)]
        found += [rng.choice("123456789") + "".join(rng.choice("0123456789") for _ in range(length - 1))]
    return [nsn for nsn in found if len(nsn) >= 2]


@pytest.mark.parametrize("backwards", [False, True])
@pytest.mark.parametrize("country_code", sorted(COUNTRY_CODE_TO_REGION_CODE))
def test_validity_plan_as_is_valid_number(
    country_code: int, backwards: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its regions read from nothing, in either order: a later region's number first or last
    monkeypatch.setattr(_phone_valid, "_VALIDITY_STEPS", {})
    rng = random.Random(country_code)
    nsns = _nsns(country_code, rng)
    for nsn in reversed(nsns) if backwards else nsns:
        number = phonenumbers.PhoneNumber(country_code=country_code, national_number=int(nsn))
        if phonenumbers.national_significant_number(number) != nsn:
            continue  # a leading zero: not a number the fast path reads
        expected = phonenumbers.is_valid_number(number)
        assert _phone_valid._is_valid_parts_general(country_code, nsn) == expected, nsn
        assert _phone_valid._is_valid_parts(country_code, nsn) == expected, nsn
