"""``core.normalise._fast_parse_phone`` gives exactly what ``phonenumbers.parse`` gives, or nothing.

The fast path reads plain numbers ("+44 20 3000 2098", "(201) 200-0930") without calling parse and
leaves everything else to it. These tests pin it to parse (and ``format_number(..., E164)``) on every
region's example numbers written in several formats and read with several default regions, on
seeded random digit strings and on hypothesis' text: wherever the fast path answers, its number and
E.164 string are parse's, field for field, and it never answers where parse raises. They also pin
``normalise_phone``'s answers (the E.164 string or the error reason) to those it gives with the fast
path switched off, and check the fast path is taken for the population's phones, so that it cannot
silently stop working.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.normalise._phone as normalise_module
from core.errors import NormalisationError
from core.normalise import _fast_parse_phone, _normalise_phone
from core.testing.population import population

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Default regions every text is read with, besides the number's own: NANP and some with national
#: prefixes, IDDs and leading zeros of their own.
REGIONS = ["US", "GB", "DE", "IT", "FR", "BR"]
#: Also regions sharing a calling code, regions whose IDD does not start with 0 (FI 990, TJ 810,
#: CU 119, ...), and ZZ and 001, which are not valid default regions.
MORE_REGIONS = [
    *REGIONS,
    *["CA", "JE", "RU", "KZ", "AR", "MX", "IN", "AU", "JP"],
    *["FI", "AX", "TJ", "CU", "CL", "IS", "PG", "SI", "TD", "KP"],
    *["ZZ", "001"],
]
#: Starts of the digits: leading zeros, the NANP prefix, IDDs of MORE_REGIONS.
STARTS = ["", "", "0", "00", "000", "1", "011", "8", "810", "990", "119", "1100", "1401", "16", "1022"]

FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.RFC3966,
]

SEPARATORS = ["", "", "", " ", "-", ".", "(", ")", "  ", " - "]


def fields(number: phonenumbers.PhoneNumber) -> tuple[object, ...]:
    # PhoneNumber.__eq__ compares italian_leading_zero as a bool; compare every field as it is.
    return (
        number.country_code,
        number.national_number,
        number.extension,
        number.italian_leading_zero,
        number.number_of_leading_zeros,
        number.raw_input,
        number.country_code_source,
        number.preferred_domestic_carrier_code,
    )


def same_as_parse(text: str, region: str) -> bool:
    """Assert the fast path answers as parse + format do, or not at all; True if it answered."""
    fast = _fast_parse_phone(text, region)
    try:
        expected = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        assert fast is None, (text, region)
        return False
    if fast is None:
        return False
    number, e164 = fast
    assert fields(number) == fields(expected), (text, region)
    assert e164 == phonenumbers.format_number(expected, phonenumbers.PhoneNumberFormat.E164)
    # The hot path judges validity from the parts, without the number
    country_code, nsn, _ = normalise_module._fast_phone(text, region) or (0, "", "")
    assert nsn == phonenumbers.national_significant_number(expected), (text, region)
    assert normalise_module._is_valid_parts(country_code, nsn) == phonenumbers.is_valid_number(expected)
    return True


def scatter(rng: random.Random, text: str) -> str:
    """The text's characters with random separators between them (and maybe around them)."""
    return rng.choice(SEPARATORS) + "".join(c + rng.choice(SEPARATORS) for c in text).strip()


def example_numbers() -> Iterator[tuple[phonenumbers.PhoneNumber, str]]:
    """Every region's example number of every type, its invalid example, and the non-geo ones."""
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for number_type in range(12):  # every PhoneNumberType but UNKNOWN
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is not None:
                yield example, region
        invalid = phonenumbers.invalid_example_number(region)
        if invalid is not None:
            yield invalid, region
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            yield example, phonenumbers.REGION_CODE_FOR_NON_GEO_ENTITY


def example_texts() -> Iterator[tuple[str, str]]:
    """(text, default region) pairs: each example number in every format, and scattered."""
    rng = random.Random(20260601)
    for number, own_region in example_numbers():
        texts = [phonenumbers.format_number(number, f) for f in FORMATS]
        e164, national = texts[0], texts[2]
        texts += [scatter(rng, e164), "+ " + scatter(rng, e164[1:]), scatter(rng, national)]
        for region in [*REGIONS, own_region]:
            for text in texts:
                yield text, region


def outcome(text: str, region: str) -> tuple[str, str]:
    try:
        return "ok", _normalise_phone(text, region)
    except NormalisationError as exc:
        return "error", exc.reason


def assert_same_outcomes(pairs: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """normalise gives the same E.164 or reason as it does with the fast path switched off."""
    fast = [outcome(text, region) for text, region in pairs]
    with monkeypatch.context() as patch:
        patch.setattr(normalise_module, "_fast_phone", lambda text, region: None)
        slow = [outcome(text, region) for text, region in pairs]
    for pair, got, expected in zip(pairs, fast, slow, strict=True):
        assert got == expected, pair


def population_phones() -> list[str]:
    phones: list[str] = []
    for _, flat in population(5000, seed=3):
        phone = flat.get("phone")
        if phone is not None:
            phones += phone if isinstance(phone, list) else [phone]
    return phones


# --------------------------------------------------------------------------------------------------
# The fast path is parse
# --------------------------------------------------------------------------------------------------


def test_fast_parse_is_parse_on_every_example_number_in_every_format() -> None:
    """GIVEN every region's example numbers, formatted and scattered, read with several regions
    THEN the fast path gives parse's number and E.164 form wherever it answers, and it answers
    for most of them (E.164 and international forms, national forms without a prefix)."""
    answered = checked = 0
    for text, region in example_texts():
        answered += same_as_parse(text, region)
        checked += 1
    assert checked > 50_000
    assert answered > checked // 4, (answered, checked)


def test_fast_parse_is_parse_on_random_digits() -> None:
    """GIVEN seeded random digit strings, with or without "+", leading zeros, a calling code or a
    region's own calling code, short and long, scattered THEN the fast path is parse."""
    rng = random.Random(7)
    codes = [str(code) for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)]
    answered = 0
    for _ in range(6000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 19)))
        start = rng.choice(STARTS) + rng.choice(["", *codes])
        text = scatter(rng, start + digits) if rng.random() < 0.5 else start + digits
        plus = rng.choice(["", "+", "+ ", "(", "+(", "++"])
        answered += same_as_parse(plus + text, rng.choice(MORE_REGIONS))
    assert answered > 1000, answered


@pytest.mark.parametrize(
    ("text", "region"),
    [
        ("+44 20 3000 0678", "US"),
        ("+44" + " " * 237 + "2030000678", "US"),  # 250 characters: parse reads it
        ("+44" + " " * 238 + "2030000678", "US"),  # 251 characters: parse says too long
        ("201" + " " * 240 + "2000930", "US"),
        ("201" + " " * 241 + "2000930", "US"),
        ("+44 20300006781234567", "US"),  # 17 national digits
        ("+44 203000067812345678", "US"),  # 18: too long
        ("+0044 20 3000 0678", "GB"),  # no calling code starts with 0: parse retries without "+"
        ("+999 123456", "US"),  # no calling code
        ("+1 1 201 200 0930", "US"),  # national prefix after the calling code
        ("+39 06 6982 0000", "US"),  # Italian leading zero
        ("+39 3 12 34 56 78", "IT"),
        ("+7 8 495 123 45 67", "RU"),
        ("+44", "US"),
        ("+441", "US"),
        ("+4412", "US"),
        ("0044 20 3000 0678", "GB"),  # IDD
        ("011 44 20 3000 0678", "US"),
        ("990 44 20 3000 0678", "FI"),  # IDDs that do not start with 0
        ("810 44 20 3000 0678", "TJ"),
        ("119 1 201 200 0930", "CU"),
        ("1 201 200 0930", "US"),  # the region's own calling code
        ("44 20 3000 0678", "GB"),
        ("020 3000 0678", "GB"),  # national prefix
        ("(201) 200-0930", "US"),
        ("(201) 200-0930", "CA"),
        ("(201) 200-0930", "ZZ"),  # not a default region
        ("(201) 200-0930", "001"),
        ("+1 (201) 200-0930", "ZZ"),
        ("201.200.0930.", "US"),
        ("12", "US"),
        ("123", "US"),
        ("1-2", "US"),
        ("(", "US"),
        ("+", "US"),
        ("+()", "US"),
        ("+1 201\t200 0930", "US"),  # a tab: not a separator parse skips the same way
        ("+44\u00a020 3000 0678", "US"),
        ("\uff0b44 20 3000 0678", "US"),  # full-width plus
        ("+４４ 20 3000 0678", "US"),  # full-width digits
        ("(２０１) ２００-０９３０", "US"),
        ("(201) 200-093\u0660", "US"),  # an Arabic-Indic zero
        ("+1 800 FLOWERS", "US"),
        ("+1 201 200 0930 x12", "US"),
        ("+1 201 200 0930;ext=12", "US"),
        ("tel:+1-201-200-0930", "US"),
        ("(201) 200-0930 / x2", "US"),
    ],
)
def test_fast_parse_is_parse_on_edge_cases(text: str, region: str) -> None:
    """GIVEN inputs at each of the fast path's conditions THEN it is parse (or leaves it to it)."""
    same_as_parse(text, region)


@SETTINGS
@given(
    text=st.text(alphabet="+0123456789 ()-.", min_size=1, max_size=30),
    region=st.sampled_from(MORE_REGIONS),
)
def test_fast_parse_is_parse_on_any_plain_text(text: str, region: str) -> None:
    """GIVEN any text of the fast path's characters THEN the fast path is parse."""
    same_as_parse(text.strip() or "0", region)


# --------------------------------------------------------------------------------------------------
# normalise answers as before
# --------------------------------------------------------------------------------------------------


def test_normalise_phone_answers_as_without_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN example numbers in several formats and random digits THEN normalise gives the same
    E.164 string or error reason as it gives with the fast path switched off."""
    rng = random.Random(11)
    pairs = [pair for pair in example_texts() if rng.random() < 0.1]
    for _ in range(1000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 18)))
        pairs.append((rng.choice(["", "+", "0", "+1", "+44"]) + digits, rng.choice(MORE_REGIONS)))
    assert_same_outcomes(pairs, monkeypatch)


def test_population_phones_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN the bench population's phones WHEN normalised THEN phonenumbers.parse is called only for
    the deliberately malformed ones (fewer than three digits), and the answers are unchanged."""
    phones = population_phones()
    assert len(phones) > 5000
    calls: list[str] = []
    real_parse = phonenumbers.parse

    def counting_parse(number: str, region: str | None = None) -> phonenumbers.PhoneNumber:
        calls.append(number)
        return real_parse(number, region)

    with monkeypatch.context() as patch:
        patch.setattr(normalise_module.phonenumbers, "parse", counting_parse)
        for phone in phones:
            outcome(phone, "US")
    assert all(sum(c.isdigit() for c in call) < 3 for call in calls), sorted(set(calls))[:5]
    assert len(calls) < len(phones) // 50
    assert_same_outcomes(sorted({(phone, "US") for phone in phones}), monkeypatch)
