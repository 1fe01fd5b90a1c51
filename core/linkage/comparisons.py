"""Comparison levels per field: how closely two records agree on one thing about a person.

Each comparison maps a pair of records to one of its levels, strongest first (``exact``,
``nickname``, ``jaro_winkler_0.92``, ..., ``different``), or to ``NULL`` when either record lacks the
field: a missing value is no evidence either way. The Fellegi-Sunter model (core.linkage.model)
holds, per level, the probability of that level among true matches (m) and among non-matches (u).

Thresholds and levels follow the record-linkage literature and Splink's defaults: Jaro-Winkler
bands at 0.92 and 0.80 for names, day-month swaps and off-by-one days for dates of birth (the usual
keying errors), one edit for numbers and postcodes, a postcode prefix for a neighbourhood.
Similarities come from rapidfuzz (MIT; C++ kernels, wheels for CPython 3.11 on x86-64 and aarch64).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from rapidfuzz.distance import OSA, JaroWinkler

from core.linkage.email_keys import likely_typo_of, provider_local_part
from core.linkage.fields import LinkageRecord
from core.linkage.nicknames import are_nicknames, is_listed_name, related_names

__all__ = ["COMPARISONS", "NULL", "Comparison", "comparison_named"]

NULL: Final = -1
"""The level of a pair in which either record lacks the field."""

_jw = JaroWinkler.normalized_similarity
_osa = OSA.distance


@dataclass(frozen=True, slots=True)
class Comparison:
    """One field's comparison: its name, its levels (strongest first) and the function choosing one.

    ``tf_level`` is the level (``exact``) whose weight is adjusted by how common the value is, and
    ``tf_value`` reads that value from a record; both ``None`` when the field has no adjustment.
    ``review_level`` is a level that sends a pair to review whatever its score (an email domain
    that looks like a typo).
    """

    name: str
    levels: tuple[str, ...]
    compare: Callable[[LinkageRecord, LinkageRecord], int]
    tf_level: int | None = None
    tf_value: Callable[[LinkageRecord], str | None] | None = None
    review_level: int | None = None


def _first_name(a: LinkageRecord, b: LinkageRecord) -> int:
    x, y = a.first_name, b.first_name
    if x is None or y is None:
        return NULL
    if x == y:
        return 0
    if are_nicknames(x, y):
        return 1
    similarity = _jw(x, y)
    if similarity >= 0.92:
        return 2
    if _names_swapped(x, y, a.last_name, b.last_name):
        return 3  # first and last name swapped between the two tools
    if (len(x) == 1 or len(y) == 1) and x[0] == y[0]:
        return 4  # an initial
    if similarity >= 0.80 or _transposed(x, y) or _nickname_of_a_typo(x, y) or _slip_of_a_name(x, y):
        return 5  # close: Jaro-Winkler reads ``sma`` / ``sam`` as 0.56, but it is one keying slip
    return 6


def _slip_of_a_name(x: str, y: str) -> bool:
    """Whether one short name is a listed name and the other the same with one letter after the first
    mistyped and not a listed name (``roy`` / ``rxy``, ``max`` / ``msx``): Jaro-Winkler reads a slip
    in three letters as below 0.80. Two listed names one letter apart (``tom`` / ``tim``) are two
    names: that is the difference a twins' veto is for."""
    if len(x) != len(y) or x[0] != y[0] or _osa(x, y, score_cutoff=1) > 1:
        return False
    return is_listed_name(x) != is_listed_name(y)


def _nickname_of_a_typo(x: str, y: str) -> bool:
    """Whether one name is a nickname of a mistyped other (``kate`` / ``kathrine``: the list holds
    ``katherine``): a nickname in one tool and a typo in another are two ordinary slips, and without
    this the pair reads as two different first names, which vetoes a link. Only names of the same
    first letter are tried, which spares most pairs the look-up."""
    if x[0] != y[0]:
        return False
    for name, other in ((x, y), (y, x)):
        for related in related_names(name):
            if related[0] == other[0] and _jw(related, other, score_cutoff=0.92) >= 0.92:
                return True
    return False


def _transposed(x: str, y: str) -> bool:
    # Two neighbouring letters swapped (one OSA edit between anagrams): a keying slip, not another name.
    return len(x) == len(y) and sorted(x) == sorted(y) and _osa(x, y, score_cutoff=1) <= 1


def _names_swapped(x: str, y: str, x_other: str | None, y_other: str | None) -> bool:
    """Whether one tool holds as first name what the other holds as last name, and the other way
    round: each cross pair agrees within the typing bands of a name (one exact or at Jaro-Winkler
    >= 0.92, the other at >= 0.80 or one keying slip away), since a swapped name is as often
    mistyped as a name in its place. A mistyped cross pair must keep its first letter: the check runs
    on every pair that differs, and the letter spares it the similarity of two unrelated names."""
    if x_other is None or y_other is None or x[0] != y_other[0] or y[0] != x_other[0]:
        return False
    first = _cross_similarity(x, y_other)
    if first < 0.80:
        return False
    second = _cross_similarity(y, x_other)
    return second >= 0.80 and max(first, second) >= 0.92


def _cross_similarity(x: str, y: str) -> float:
    # Jaro-Winkler, with one keying slip (a letter substituted, dropped or two neighbours swapped)
    # counted at the 0.80 band: Jaro-Winkler reads ``sma`` / ``sam`` as 0.56 and ``ay`` / ``amy`` as
    # 0.65, yet in a swapped name whose other half agrees they are one slip in a short name.
    if x == y:
        return 1.0
    similarity = _jw(x, y, score_cutoff=0.80)
    if similarity >= 0.80:
        return similarity
    return 0.80 if _osa(x, y, score_cutoff=1) <= 1 else 0.0


def _last_name(a: LinkageRecord, b: LinkageRecord) -> int:
    x, y = a.last_name, b.last_name
    if x is None or y is None:
        return NULL
    if x == y:
        return 0
    similarity = _jw(x, y)
    if similarity >= 0.92:
        return 1
    if _names_swapped(x, y, a.first_name, b.first_name):
        return 2
    if similarity >= 0.80:
        return 3
    return 4


def _date_of_birth(a: LinkageRecord, b: LinkageRecord) -> int:
    x, y = a.date_of_birth, b.date_of_birth
    if x is None or y is None:
        # A typed date that is no calendar day (``19320239``) is no evidence, neither agreement nor
        # conflict, unless it is one keystroke from the other's real date: that date mistyped.
        if x is not None and b.date_of_birth_slip is not None and _osa(x, b.date_of_birth_slip) <= 1:
            return 2
        if y is not None and a.date_of_birth_slip is not None and _osa(y, a.date_of_birth_slip) <= 1:
            return 2
        return NULL
    if x == y:
        return 0
    if x[:4] == y[:4] and x[4:6] == y[6:8] and x[6:8] == y[4:6]:
        return 1  # day and month swapped (a day-first and a month-first tool)
    da, db = a.birth_date, b.birth_date
    if da is not None and db is not None and abs((da - db).days) <= 1:
        return 1  # a day apart: a time zone or an off-by-one in an export
    if _osa(x, y, score_cutoff=1) <= 1:
        return 2  # one digit mistyped, or two neighbours swapped
    if x[:4] == y[:4]:
        return 3
    return 4


def _same_line(x: str | None, y: str | None) -> bool:
    # Two address lines (``line_key``: types spelt out, no spaces) that name one street or building:
    # close in letters and with the same numbers (``villa 2`` and ``villa 9`` are two homes).
    if x is None or y is None:
        return False
    return x == y or (_jw(x, y, score_cutoff=0.90) >= 0.90 and _numbers(x) == _numbers(y))


def _crossed_line(x: str | None, y: str | None) -> bool:
    # ``_same_line`` for one tool's line 1 against another's line 2, tried on every pair whose streets
    # differ: a line moved to the other field keeps its first letter, which spares most pairs the
    # similarity.
    return x is not None and y is not None and x[0] == y[0] and _same_line(x, y)


@lru_cache(maxsize=65536)
def _numbers(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _address(a: LinkageRecord, b: LinkageRecord) -> int:
    """The street line, read from whichever line each tool put it in: some tools keep a building or
    a unit in line 1 and the street in line 2, so a's street found in b's line 2 (or the reverse) is
    the same street."""
    x, y = a.street_key, b.street_key
    straight = _same_line(x, y)
    if not straight and not (_crossed_line(x, b.line2_key) or _crossed_line(a.line2_key, y)):
        if x is None or y is None:
            return NULL
        return 3
    nx, ny = a.house_number, b.house_number
    if nx is not None and nx == ny:
        return 0 if straight and x == y else 1
    if nx is not None and ny is not None and straight and x == y and _osa(nx, ny, score_cutoff=1) <= 1:
        return 1
    return 2


def _exact_or_close(x: str | None, y: str | None) -> int:
    # Exact, Jaro-Winkler >= 0.90, different: for free text such as a town or an address line.
    if x is None or y is None:
        return NULL
    if x == y:
        return 0
    return 1 if _jw(x, y) >= 0.90 else 2


def _address_line2(a: LinkageRecord, b: LinkageRecord) -> int:
    level = _exact_or_close(a.line2_key, b.line2_key)
    if level in (0, NULL):
        return level
    # Lines swapped between the tools: line 2 of each is the other's street (see ``_address``).
    if _crossed_line(a.line2_key, b.street_key) and _crossed_line(a.street_key, b.line2_key):
        return 1
    return level


def _postal_code(a: LinkageRecord, b: LinkageRecord) -> int:
    x, y = a.postal_code, b.postal_code
    if x is None or y is None:
        return NULL
    if x == y:
        return 0
    if _osa(x, y, score_cutoff=1) <= 1:
        return 1
    if _postcode_area(x) == _postcode_area(y):
        return 2
    return 3


def _postcode_area(code: str) -> str:
    # The part that names an area: a UK/Canadian outward code (all but the last three characters
    # of ``sw1a1aa``), or the first three digits of a numeric postcode (a US ZIP's sectional centre).
    if not code.isdigit() and len(code) >= 5:
        return code[:-3]
    return code[:3]


def _city(a: LinkageRecord, b: LinkageRecord) -> int:
    return _exact_or_close(a.city, b.city)


def _region(a: LinkageRecord, b: LinkageRecord) -> int:
    x, y = a.region, b.region
    if x is None or y is None:
        return NULL
    return 0 if x == y else 1


def _email(a: LinkageRecord, b: LinkageRecord) -> int:
    if not a.email_keys or not b.email_keys:
        return NULL
    for key in a.email_keys:  # a record holds one or two: a loop, not a set for every pair
        if key in b.email_keys:
            return 0
    best = 4
    for x in a.email_keys:
        lx, dx, typo_x = _email_parts(x)
        for y in b.email_keys:
            ly, dy, typo_y = _email_parts(y)
            # The known provider's domain when one of the two is a likely typo of the other (x's
            # first), each domain's likely meaning read once per address.
            intended = dy if typo_x == dy else dx if typo_y == dx else None
            if intended is not None and provider_local_part(lx, intended) == provider_local_part(
                ly, intended
            ):
                return 1  # ann.lee@gmial.com and annlee@gmail.com: read both as Gmail would
            if lx == ly:
                best = min(best, 2)
            elif dx == dy and _osa(lx, ly, score_cutoff=1) <= 1 and _letters(lx) != _letters(ly):
                # A slip in the letters of a name; ``ann.lee85`` and ``ann.lee86`` are two people.
                best = min(best, 3)
    return best


@lru_cache(maxsize=65536)
def _email_parts(key: str) -> tuple[str, str, str | None]:
    """An email key's user name, domain, and the provider its domain is likely a typo of: read once
    per address, not per pair (a record meets a few candidates with other addresses each batch)."""
    local, _, domain = key.rpartition("@")
    return local, domain, likely_typo_of(domain)


def _letters(text: str) -> str:
    return "".join(ch for ch in text if not ch.isdigit())


def _phone(a: LinkageRecord, b: LinkageRecord) -> int:
    if not a.phones or not b.phones:
        return NULL
    for phone in a.phones:
        if phone in b.phones:
            return 0
    for x in a.phones:
        for y in b.phones:
            if len(x) == len(y) and _osa(x, y, score_cutoff=1) <= 1:
                return 1
    return 2


def _national_id(a: LinkageRecord, b: LinkageRecord) -> int:
    x, y = a.national_id, b.national_id
    if x is None or y is None:
        return NULL
    if x == y:
        return 0
    return 1 if _osa(x, y, score_cutoff=1) <= 1 else 2


COMPARISONS: Final[tuple[Comparison, ...]] = (
    Comparison(
        "first_name",
        (
            "exact",
            "nickname",
            "jaro_winkler_0.92",
            "swapped_with_last_name",
            "initial",
            "jaro_winkler_0.80",
            "different",
        ),
        _first_name,
        tf_level=0,
        tf_value=lambda r: r.first_name,
    ),
    Comparison(
        "last_name",
        ("exact", "jaro_winkler_0.92", "swapped_with_first_name", "jaro_winkler_0.80", "different"),
        _last_name,
        tf_level=0,
        tf_value=lambda r: r.last_name,
    ),
    Comparison(
        "date_of_birth",
        ("exact", "day_month_swapped_or_a_day_apart", "one_edit", "same_year", "different"),
        _date_of_birth,
    ),
    Comparison(
        "address",
        ("house_number_and_street", "street_and_house_number_close", "street_only", "different"),
        _address,
    ),
    Comparison("address_line2", ("exact", "jaro_winkler_0.90", "different"), _address_line2),
    Comparison("postal_code", ("exact", "one_edit", "same_area", "different"), _postal_code),
    Comparison(
        "city", ("exact", "jaro_winkler_0.90", "different"), _city, tf_level=0, tf_value=lambda r: r.city
    ),
    Comparison("region", ("exact", "different"), _region),
    Comparison(
        "email",
        ("same_mailbox", "domain_typo", "same_user_name", "user_name_one_edit", "different"),
        _email,
        review_level=1,
    ),
    Comparison("phone", ("exact", "one_edit", "different"), _phone),
    Comparison("national_id", ("exact", "one_edit", "different"), _national_id),
)

_BY_NAME: Final[Mapping[str, Comparison]] = {c.name: c for c in COMPARISONS}


def comparison_named(name: str) -> Comparison:
    """The comparison called ``name``; ``KeyError`` names the ones that exist."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no comparison {name!r}; known: {', '.join(_BY_NAME)}") from None
