"""Phone numbers: ``normalise_phone``, with an exact fast path for plain numbers."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import phonenumbers
from phonenumbers.phonemetadata import REGION_CODE_FOR_NON_GEO_ENTITY, PhoneMetadata
from phonenumbers.phonenumberutil import (
    _MAX_INPUT_STRING_LENGTH,
    _MAX_LENGTH_FOR_NSN,
    _MIN_LENGTH_FOR_NSN,
    COUNTRY_CODE_TO_REGION_CODE,
    SUPPORTED_REGIONS,
    country_code_for_valid_region,
    national_significant_number,
)

try:  # phonenumbers >= 9.0.43 caches its compiled patterns here; phonenumberslite 9.0.42 (Lambda) has not
    from phonenumbers.re_util import re_compile
except ImportError:  # pragma: no cover - the Lambda layer's phonenumberslite

    def re_compile(regex: str) -> re.Pattern[str]:
        return re.compile(regex)  # the re module caches compiled patterns itself


from core.errors import NormalisationError

from ._limits import _CACHE_SIZE, _MAX_INPUT_LEN

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

    return normalise


def _normalise_phone(value: str, region: str) -> str:
    text = value.strip()
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


_VALID_E164: dict[str, bool] = {}


def _valid_e164(e164: str, number: phonenumbers.PhoneNumber) -> bool:
    # Validity is the expensive half (it matches the number against every number type of its
    # region); the same number arrives in several formats across tools, so cache it by E.164.
    valid = _VALID_E164.get(e164)
    if valid is None:
        valid = _remember_validity(e164, _is_valid_number(number))
    return valid


def _remember_validity(e164: str, valid: bool) -> bool:
    if len(_VALID_E164) >= _CACHE_SIZE:
        _VALID_E164.clear()
    _VALID_E164[e164] = valid
    return valid


def _is_valid_number(number: phonenumbers.PhoneNumber) -> bool:
    """``phonenumbers.is_valid_number``, without matching the number against its region twice.

    For a calling code shared by several regions (+1: the US, Canada and the Caribbean; +44: GB and
    the Crown dependencies), ``is_valid_number`` finds the region by matching the number against
    each region's number types (``_region_code_for_number_from_list``), then validates it for that
    region (``is_valid_number_for_region``), which matches the same number against the same types
    of the same region again. This is those two functions with the second match skipped when the
    first one decided, and each number-type match done by ``_NumberTypes`` (the patterns compiled
    once), so the answer is the same (tests/unit/test_core_fast_paths.py compares them on every
    region's example numbers and on random digits).
    """
    if COUNTRY_CODE_TO_REGION_CODE.get(number.country_code or 0) is None:
        return bool(phonenumbers.is_valid_number(number))
    return _is_valid_parts(number.country_code or 0, national_significant_number(number))


def _is_valid_parts(country_code: int, nsn: str) -> bool:
    """``_is_valid_number`` of the number with this country code (one phonenumbers knows) and
    national significant number."""
    regions = COUNTRY_CODE_TO_REGION_CODE[country_code]
    if len(regions) == 1:  # region_code_for_number's answer without a match
        return _is_valid_for_region(country_code, nsn, regions[0])
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if re_compile(metadata.leading_digits).match(nsn):
                return _is_valid_for_region(country_code, nsn, region)
        elif _NumberTypes.of(metadata).known(nsn):
            if region != REGION_CODE_FOR_NON_GEO_ENTITY and metadata.country_code == country_code:
                return True  # what is_valid_number_for_region(number, region) would find again
            return _is_valid_for_region(country_code, nsn, region)
    return False  # no region: is_valid_number_for_region(number, None) is False


def _is_valid_for_region(country_code: int, nsn: str, region: str) -> bool:
    """``phonenumbers.is_valid_number_for_region(number, region)`` of the number with this (known)
    country code and national significant number."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    if metadata is None or (
        region != REGION_CODE_FOR_NON_GEO_ENTITY and country_code != country_code_for_valid_region(region)
    ):
        return False
    return _NumberTypes.of(metadata).known(nsn)


#: A number description as ``_NumberTypes`` matches it: the lengths it allows (None: any, as
#: phonenumbers reads an empty list) and its pattern's fullmatch (None: no pattern, never matches).
_Desc = tuple[frozenset[int] | None, Callable[[str], object] | None]


@dataclass(frozen=True, slots=True)
class _NumberTypes:
    """``phonenumberutil._number_type_helper(nsn, metadata) != PhoneNumberType.UNKNOWN`` for one
    metadata, its descriptions read and their patterns compiled once.

    That helper returns UNKNOWN unless the general description matches; then a type as soon as
    premium rate, toll free, shared cost, VoIP, personal number, pager, UAN, voicemail or fixed
    line matches; then mobile, unless the metadata says mobile and fixed line have the same pattern.
    Validity needs only whether some type was found, which is what ``known`` answers, so the types
    are tried in any order: fixed line and mobile first, the types most numbers are (a valid US
    number matched ten patterns, now two).
    """

    general: _Desc | None
    types: tuple[_Desc, ...]

    @classmethod
    def of(cls, metadata: PhoneMetadata) -> _NumberTypes:
        found = _NUMBER_TYPES.get(id(metadata))
        if found is not None and found[0] is metadata:  # the id of this very object, still alive
            return found[1]
        kinds = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan")
        mobile = () if metadata.same_mobile_and_fixed_line_pattern else ("mobile",)
        types = tuple(
            desc
            for name in ("fixed_line", *mobile, *kinds, "voicemail")
            if (desc := _desc(getattr(metadata, name))) is not None
        )
        plan = cls(general=_desc(metadata.general_desc), types=types)
        _NUMBER_TYPES[id(metadata)] = (metadata, plan)
        return plan

    def known(self, nsn: str) -> bool:
        if not _matches(self.general, nsn):
            return False
        return any(_matches(desc, nsn) for desc in self.types)


_NUMBER_TYPES: dict[int, tuple[PhoneMetadata, _NumberTypes]] = {}


def _desc(desc: object) -> _Desc | None:
    """A number description as ``_matches`` reads it; None for no description (never matches)."""
    if desc is None:
        return None
    lengths = getattr(desc, "possible_length", None) or ()
    pattern = getattr(desc, "national_number_pattern", None)
    return (frozenset(lengths) or None, re_compile(pattern).fullmatch if pattern else None)


def _matches(desc: _Desc | None, nsn: str) -> bool:
    """``phonenumberutil._is_number_matching_desc(nsn, desc)``: the length allowed (when lengths are
    listed), then the whole number matched by the pattern (``_match`` without prefix matches)."""
    if desc is None:
        return False
    lengths, fullmatch = desc
    if lengths is not None and len(nsn) not in lengths:
        return False
    return fullmatch is not None and fullmatch(nsn) is not None
