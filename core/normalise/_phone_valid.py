"""Phone numbers' validity: ``phonenumbers.is_valid_number``, its patterns compiled once and each
answer kept by E.164 form (``core.normalise._phone`` reads the numbers)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import phonenumbers
from phonenumbers.phonemetadata import REGION_CODE_FOR_NON_GEO_ENTITY, PhoneMetadata
from phonenumbers.phonenumberutil import (
    COUNTRY_CODE_TO_REGION_CODE,
    country_code_for_valid_region,
    national_significant_number,
)

try:  # phonenumbers >= 9.0.43 caches its compiled patterns here; phonenumberslite 9.0.42 (Lambda) has not
    from phonenumbers.re_util import re_compile
except ImportError:  # pragma: no cover - the Lambda layer's phonenumberslite

    def re_compile(regex: str) -> re.Pattern[str]:
        return re.compile(regex)  # the re module caches compiled patterns itself


from ._limits import _CACHE_SIZE

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
    national significant number: ``_is_valid_parts_general``'s steps, each region's read once
    (``_step``), on first use: a calling code's later regions are loaded only when a number gets
    that far (the first +1 number would otherwise load 25 regions' metadata, 0.2 s)."""
    steps = _VALIDITY_STEPS.get(country_code)
    if steps is None:
        steps = _VALIDITY_STEPS[country_code] = [None] * len(COUNTRY_CODE_TO_REGION_CODE[country_code])
    for index, step in enumerate(steps):
        if step is None:
            step = steps[index] = _step(country_code, index)
        leading, types, decided, then = step
        if leading is not None:
            if leading(nsn) is not None:
                return then is not None and then.known(nsn)
        elif types is not None and types.known(nsn):
            return decided or (then is not None and then.known(nsn))
    return False


#: A region of a calling code as ``_is_valid_parts`` reads it: the match of its leading digits (or
#: None), else its number types (None: a region without metadata, skipped); whether a match of
#: those types decides validity; and the number types the number is then validated with
#: (``_is_valid_for_region``), None for never valid.
_Step = tuple[Callable[[str], object] | None, "_NumberTypes | None", bool, "_NumberTypes | None"]

#: Per calling code, its regions' steps in phonenumbers' order, each None until first read.
_VALIDITY_STEPS: dict[int, list[_Step | None]] = {}
#: The leading digits of a calling code of one region: it is that region's number, whatever the digits.
_ALWAYS: Final = re.compile("").match


def _step(country_code: int, index: int) -> _Step:
    """The ``index``-th region of ``country_code`` as a ``_Step`` (the loop of
    ``_is_valid_parts_general``, one region)."""
    regions = COUNTRY_CODE_TO_REGION_CODE[country_code]
    region = regions[index]
    if len(regions) == 1:
        return (_ALWAYS, None, False, _types_for_region(country_code, region))
    metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
    if metadata is None:
        return (None, None, False, None)
    then = _types_for_region(country_code, region)
    if metadata.leading_digits is not None:
        return (re_compile(metadata.leading_digits).match, None, False, then)
    decided = region != REGION_CODE_FOR_NON_GEO_ENTITY and metadata.country_code == country_code
    return (None, _NumberTypes.of(metadata), decided, then)


def _types_for_region(country_code: int, region: str) -> _NumberTypes | None:
    """The number types ``_is_valid_for_region(country_code, nsn, region)`` matches a number
    against, or None where it is False whatever the number."""
    metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, region.upper())
    if metadata is None or (
        region != REGION_CODE_FOR_NON_GEO_ENTITY and country_code != country_code_for_valid_region(region)
    ):
        return None
    return _NumberTypes.of(metadata)


def _is_valid_parts_general(country_code: int, nsn: str) -> bool:
    """``_is_valid_parts`` step by step, as ``phonenumbers.is_valid_number`` goes (kept for the tests,
    which compare the two)."""
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
    types = _types_for_region(country_code, region)
    return types is not None and types.known(nsn)


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
        # phonenumberutil._is_number_matching_desc(nsn, desc) of the general description, then of
        # each type: the length allowed (when lengths are listed), then the whole number matched
        general = self.general
        if general is None:
            return False
        lengths, fullmatch = general
        if (lengths is not None and len(nsn) not in lengths) or fullmatch is None or fullmatch(nsn) is None:
            return False
        for lengths, fullmatch in self.types:
            if lengths is not None and len(nsn) not in lengths:
                continue
            if fullmatch is not None and fullmatch(nsn) is not None:
                return True
        return False


_NUMBER_TYPES: dict[int, tuple[PhoneMetadata, _NumberTypes]] = {}


def _desc(desc: object) -> _Desc | None:
    """A number description as ``_NumberTypes.known`` reads it; None for no description (never matches)."""
    if desc is None:
        return None
    lengths = getattr(desc, "possible_length", None) or ()
    pattern = getattr(desc, "national_number_pattern", None)
    return (frozenset(lengths) or None, re_compile(pattern).fullmatch if pattern else None)
