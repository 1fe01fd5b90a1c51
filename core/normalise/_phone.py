"""Phone numbers: ``normalise_phone``, with an exact fast path for plain numbers."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata
from phonenumbers.phonenumberutil import (
    _MAX_INPUT_STRING_LENGTH,
    _MAX_LENGTH_FOR_NSN,
    _MIN_LENGTH_FOR_NSN,
    COUNTRY_CODE_TO_REGION_CODE,
    SUPPORTED_REGIONS,
)

from core.errors import NormalisationError
from core.privacy_caches import remember

from ._limits import _CACHE_SIZE, _MAX_INPUT_LEN

# Validity, in a module of its own; imported here, where the hot path and the tests look it up.
from ._phone_valid import _VALID_E164 as _VALID_E164
from ._phone_valid import _is_valid_number as _is_valid_number
from ._phone_valid import _is_valid_parts as _is_valid_parts
from ._phone_valid import _remember_validity as _remember_validity
from ._phone_valid import _valid_e164 as _valid_e164

_REGION_ALIASES: Final = {"UK": "GB"}

_PARSE_REASONS: Final = {
    phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
    phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
    phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short to be a phone number",
    phonenumbers.NumberParseException.TOO_LONG: "too long to be a phone number",
}


def normalise_phone(value: str, default_region: str = "US") -> str:
    """Return a phone number in E.164 form (``+442079460018``), using phonenumbers.

    A number without an international prefix is read as a number of ``default_region`` (an ISO
    3166-1 alpha-2 code; "UK" is accepted for GB). A number written with "00", the international
    prefix of most of the world, is read as international when the region's own dialling finds no
    valid number in it (a US record's "0044 20 7946 0018"). The number must be valid, not merely possible,
    for the region it belongs to. Extensions are not kept. Raises
    ``NormalisationError("phone", reason)`` naming why: not a phone number, an unknown country
    code, too short or too long, or not a valid number for its region.
    """
    if not isinstance(value, str):
        raise NormalisationError("phone", f"not a string ({type(value).__name__})")
    if len(value) > _MAX_INPUT_LEN:
        raise NormalisationError("phone", "too long to be a phone number")
    if not isinstance(default_region, str):
        raise NormalisationError("phone", "default region is not a string")
    region = default_region.strip().upper()
    return _phone_normaliser(_REGION_ALIASES.get(region, region))(value)


@functools.lru_cache(maxsize=64)
def _region_reader(region: str) -> Callable[[Any], str]:
    """``normalise_phone(value, region)`` as a function of the value alone: the region read once,
    not for every number (a record's phones are read with the same one, or two)."""
    canonical = region.strip().upper()
    normalise = _phone_normaliser(_REGION_ALIASES.get(canonical, canonical))

    def read(value: Any) -> str:
        if type(value) is str and len(value) <= _MAX_INPUT_LEN:
            return normalise(value)
        return normalise_phone(value, region)  # which says what is wrong with it

    return read


def phone_region(value: object) -> str | None:
    """``value`` as a region phone numbers know (an ISO 3166-1 alpha-2 code, upper-cased: ``gb`` is
    ``GB``), or None when it is none (``UK``, ``GBR``, a number): what a configured region must be."""
    if not isinstance(value, str):
        return None
    region = value.strip().upper()
    return region if region in SUPPORTED_REGIONS else None


def _is_phone_region(region: str) -> bool:
    """Whether ``region`` (an ISO 3166-1 alpha-2 code) has phone numbers of its own that a national
    number can be read in."""
    return region in SUPPORTED_REGIONS


@functools.lru_cache(maxsize=64)
def _phone_normaliser(region: str) -> Callable[[str], str]:
    """The cached phone normaliser of one default region.

    A cache per region, so that each entry's key is the raw string itself: a cache keyed on
    ``(value, region)`` keeps a tuple per entry, which the garbage collector counts.
    """

    @functools.lru_cache(maxsize=_CACHE_SIZE)
    def normalise(value: str) -> str:
        return _normalise_phone(value, region)

    return remember(normalise)  # emptied on an erasure (core.privacy_caches)


#: The separators a number may be grouped with besides ASCII's: Unicode spaces (the narrow no-break
#: space CLDR's French grouping uses, the thin and figure spaces of typesetting), line and paragraph
#: separators, controls (a tab from a spreadsheet, a line break) and format characters (bidirectional
#: marks a right-to-left interface inserts, zero-width (non-)joiners). phonenumbers' parser takes a
#: few of them and refuses the rest, and its matcher then reads what follows one alone: "+44<thin
#: space>20 7946 0417" was keyed as the American +1 207-946-0417.
_SEPARATOR_CATEGORIES: Final = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})


def fold_phone_separators(value: str) -> str:
    """``value`` with every Unicode space, line separator, control and format character an ASCII
    space, so that a number is read the same however its groups are separated. Only what is read:
    a record keeps the phone its tool sent."""
    if value.isprintable():  # ASCII space and visible characters only: the common case, in C
        return value
    return "".join(" " if unicodedata.category(c) in _SEPARATOR_CATEGORIES else c for c in value)


def _normalise_phone(value: str, region: str) -> str:
    text = fold_phone_separators(value).strip()
    if not text:
        raise NormalisationError("phone", "empty")
    try:
        return _read_phone(text, region)
    except NormalisationError:
        # "00" is the international prefix of most of the world (ITU-T E.164's recommendation), and
        # people write it whatever their region dials: "0044 20 7946 0018" in a US or an Australian
        # record, "0079..." in a Russian one (their IDDs are 011, 0011, 810). Read as "+" when the
        # region's own reading found no valid number.
        if not text.startswith("00") or text.startswith("000"):
            raise
        try:
            return _read_phone("+" + text[2:], region)
        except NormalisationError:
            pass
        raise


def _read_phone(text: str, region: str) -> str:
    fast = _fast_phone(text, region)
    if fast is not None:  # a plain number: validity from its parts, no PhoneNumber built
        country_code, nsn, e164 = fast
        valid = _VALID_E164.get(e164)
        if valid is None:
            valid = _remember_validity(e164, _is_valid_parts(country_code, nsn))
    else:
        try:
            number = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException as exc:
            reason = _PARSE_REASONS.get(exc.error_type, "not a phone number")
            if exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE and not (
                text.startswith(("+", "00"))
            ):
                reason = f"no country code, and {region!r} is not a known default region"
            raise NormalisationError("phone", reason) from None
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        country_code = number.country_code or 0
        valid = _valid_e164(e164, number)
    if not valid:
        number_region = phonenumbers.region_code_for_country_code(country_code)
        where = number_region if number_region != phonenumbers.UNKNOWN_REGION else region
        raise NormalisationError("phone", f"not a valid number for region {where}")
    return e164


# ASCII digits and separators parse skips, after at most one leading "+" (no letters, no other
# punctuation, no extension or RFC 3966 syntax). Not \s or \d: parse reads tabs and non-ASCII
# digits its own way.
_PLAIN_PHONE: Final = re.compile(r"\+?[0-9 ().-]*")
_PLAIN_PHONE_PUNCTUATION: Final = str.maketrans("", "", "+ ().-")
_CALLING_CODES: Final = frozenset(str(code) for code in COUNTRY_CODE_TO_REGION_CODE)


@dataclass(frozen=True, slots=True)
class _DialPlan:
    """What parse reads from one metadata: its calling code, IDD and national prefix patterns."""

    country_code: int
    country_code_text: str
    international_prefix: re.Pattern[str] | None
    national_prefix: re.Pattern[str] | None

    @classmethod
    def of(cls, metadata: PhoneMetadata | None) -> _DialPlan | None:
        if metadata is None or metadata.country_code is None:
            return None  # parse asserts or fails here; leave it to parse
        idd = metadata.international_prefix
        prefix = metadata.national_prefix_for_parsing
        return cls(
            country_code=metadata.country_code,
            country_code_text=str(metadata.country_code),
            international_prefix=re.compile(idd) if idd is not None else None,
            national_prefix=re.compile(prefix) if prefix else None,
        )


# Filled on first use: loading every region's metadata up front would slow the cold start.
_PLANS_BY_CALLING_CODE: dict[str, _DialPlan | None] = {}
_PLANS_BY_REGION: dict[str, _DialPlan | None] = {}


def _plan_for_calling_code(code: str) -> _DialPlan | None:
    """The plan of a known calling code (a key of ``_CALLING_CODES``): its main region's."""
    try:
        return _PLANS_BY_CALLING_CODE[code]
    except KeyError:
        country_code = int(code)
        number_region = phonenumbers.region_code_for_country_code(country_code)
        metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, number_region)
        plan = _PLANS_BY_CALLING_CODE[code] = _DialPlan.of(metadata)
        return plan


def _plan_for_region(region: str) -> _DialPlan | None:
    """The plan of a default region, or None if parse does not know it as one."""
    try:
        return _PLANS_BY_REGION[region]
    except KeyError:
        if region not in SUPPORTED_REGIONS:
            return None  # parse raises INVALID_COUNTRY_CODE; not kept, regions are caller input
        plan = _PLANS_BY_REGION[region] = _DialPlan.of(PhoneMetadata.metadata_for_region(region))
        return plan


def _fast_parse_phone(text: str, region: str) -> tuple[phonenumbers.PhoneNumber, str] | None:
    """``phonenumbers.parse(text, region)`` and its E.164 form, for plain numbers; else None: the
    number ``_fast_phone`` reads, built."""
    parts = _fast_phone(text, region)
    if parts is None:
        return None
    country_code, nsn, e164 = parts
    return phonenumbers.PhoneNumber(country_code=country_code, national_number=int(nsn)), e164


def _fast_phone(text: str, region: str) -> tuple[int, str, str] | None:
    """``(country code, national significant number, E.164 form)`` of ``phonenumbers.parse(text,
    region)``, for plain numbers; else None. No ``PhoneNumber`` is built (a microsecond and a half):
    the national number has no leading zero, so its text is its national significant number.

    None means "ask parse": any input this is not certain about, including every input parse
    rejects. ``text`` is stripped and non-empty. The steps are parse's for such input (see
    tests/unit/test_phone_fast_parse.py, which compares the two on every region's example numbers
    in several formats and on random digits):

    - only ASCII digits and " ().-" after an optional "+": no RFC 3966 context, no extension, no
      letters, and what parse strips from the start and the end holds no digit; with three digits
      or more the text is viable, and what parse normalises it to is its digits;
    - with "+": the calling code is the first of the digits' 1, 2 or 3 first digits that is a known
      code (a leading 0 is none: parse retries without the "+"), and the region plays no part;
    - without "+": the region must be known, its IDD must not start the digits, nor its own calling
      code (parse then tries the number with it stripped);
    - the national number must not start with the national prefix (parse may strip it), nor with
      0 (an Italian leading zero), and have 2 to 17 digits (else parse raises).
    """
    if len(text) > _MAX_INPUT_STRING_LENGTH or _PLAIN_PHONE.fullmatch(text) is None:
        return None
    digits = text.translate(_PLAIN_PHONE_PUNCTUATION)
    if len(digits) <= _MIN_LENGTH_FOR_NSN:
        return None  # parse's viability and "too short after the +" rules: leave them to it
    if text[0] == "+":
        for size in (1, 2, 3):
            if digits[:size] in _CALLING_CODES:
                break
        else:
            return None  # parse raises, or retries without the "+"
        plan = _plan_for_calling_code(digits[:size])
        national = digits[size:]
    else:
        plan = _plan_for_region(region)
        if plan is None or digits.startswith(plan.country_code_text):
            return None
        if plan.international_prefix is not None and plan.international_prefix.match(digits):
            return None
        national = digits
    if (
        plan is None
        or not _MIN_LENGTH_FOR_NSN <= len(national) <= _MAX_LENGTH_FOR_NSN
        or national[0] == "0"
        or (plan.national_prefix is not None and plan.national_prefix.match(national))
    ):
        return None
    return plan.country_code, national, f"+{plan.country_code_text}{national}"
