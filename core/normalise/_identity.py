"""Identity beyond email and phone: which traits name a person, and whether a record has enough of them.

A record with no email and no phone used to be quarantined ("no usable identifier"). Tools hold
people that way (a CRM lead with a name, a birth date and an address; a FEBRL-style registry), and
the probabilistic matcher (core.linkage) finds them by those traits, so such a record is kept when
it names the person well enough to be told apart from others (``has_other_identity``): a name and
two of both names, a date of birth, a full address (an address line and a postcode or town), a
national id.

The trait names each field is read from live here, in a module without heavy imports, because
normalisation runs on every record of every pull: core.linkage.fields (which brings rapidfuzz and
jellyfish) reads the same table.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Final

__all__ = [
    "EXTERNAL_ID_TRAIT",
    "FIELD_ALIASES",
    "birth_date_slip",
    "has_external_id",
    "has_other_identity",
    "is_possible_birth_date",
    "parse_date_of_birth",
    "plausible_national_id",
    "trait_text",
]

#: For each compared field, the trait names it is read from, first found wins. Traits arrive in
#: snake case (core.normalise), so ``addressLine1`` is ``address_line1`` here.
FIELD_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "first_name": ("first_name", "given_name", "firstname", "forename"),
    "last_name": ("last_name", "surname", "family_name", "lastname"),
    "date_of_birth": ("date_of_birth", "dob", "birth_date", "birthdate", "birthday"),
    "house_number": ("house_number", "street_number", "building_number"),
    "street": ("street", "address_line1", "address_1", "address1", "street_address", "address"),
    "address_line2": ("address_line2", "address_2", "address2"),
    "postal_code": ("postal_code", "postcode", "zip", "zip_code", "postal"),
    "city": ("city", "suburb", "town", "locality"),
    "region": ("region", "state", "province", "county"),
    "national_id": ("national_id",),
    # Read only when neither first nor last name is there (core.linkage.fields): one field holding both.
    "full_name": ("full_name",),
}

#: The trait a connector maps a tool's documented "id of this person in another system" to (Klaviyo's
#: ``external_id``, https://developers.klaviyo.com/en/reference/get_profiles: "A unique identifier
#: used by customers to associate Klaviyo profiles with profiles in an external system"). A
#: person-level record holding it is a person the tool itself keeps apart, so it is kept without
#: email or phone: one profile, identified by its own source id. It is never an identifier: the
#: value names a record of a system profilesync may not read, and the same text in two tools says
#: nothing about one person (exact joins are emails, phones, national ids and source ids only).
EXTERNAL_ID_TRAIT: Final = "external_id"

#: Longer values are not a name or an address: ignored, not truncated.
MAX_FIELD_LEN: Final = 200

_DATE_ISO: Final = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?")
_DATE_COMPACT: Final = re.compile(r"\d{8}")

#: Birth dates before this year are no evidence: nobody alive was born then, so such a date is a
#: default or a slip (the oldest verified living people were born in the 1900s).
_FIRST_BIRTH_YEAR: Final = 1900
#: Defaults that tools write when a birth date is required and unknown: the first day of the
#: earliest year date pickers offer, as commonly seen in CRMs and spreadsheets.
_PLACEHOLDER_BIRTH_DATES: Final = frozenset({"19000101"})
#: The fewest characters a national id has (a US SSN has nine, a Danish CPR ten, FEBRL's seven).
_MIN_NATIONAL_ID: Final = 4


def trait_text(traits: Mapping[str, object], field: str) -> str | None:
    """The first non-blank trait named for ``field`` (``FIELD_ALIASES``), stripped; None if none."""
    for name in FIELD_ALIASES[field]:
        value = traits.get(name)
        if value is None or isinstance(value, bool):
            continue
        text = str(value).strip()
        if text and len(text) <= MAX_FIELD_LEN:
            return text
    return None


def parse_date_of_birth(value: str, today: date | None = None) -> str | None:
    """``YYYYMMDD`` from an ISO date (``1980-03-07``, a time after it is ignored) or 8 digits, when
    it is a birth date a living customer can have; otherwise None.

    Other spellings (``07/03/1980``) are ambiguous between day-first and month-first tools, so they
    are not guessed. A date that cannot be anyone's birth date is no evidence, neither agreement nor
    conflict (``is_possible_birth_date``): a day the calendar lacks (``1900-02-29``, ``1980-13-07``),
    a tool's placeholder (``1900-01-01``), a year before 1900, a day after ``today`` (default: the
    current UTC day). Two namesakes whose tools filled one such default are not one person. The
    record keeps the value as typed: only matching leaves it out, as it does with an absent one.
    """
    digits = _date_digits(value)
    return digits if digits is not None and is_possible_birth_date(digits, today) else None


def birth_date_slip(value: str, today: date | None = None) -> str | None:
    """The digits of a birth date that is no calendar day but one keystroke could have made from a
    real one (``1932-02-39``: a year from 1900 to ``today``'s, not a placeholder); None otherwise,
    and None for a possible date (``parse_date_of_birth`` reads those).

    Such a date is no evidence on its own (two records holding one impossible day are not one
    person), but one keystroke away from another record's real date it is that date mistyped: the
    date-of-birth comparison reads it for that level alone (core.linkage.comparisons)."""
    digits = _date_digits(value)
    if digits is None or is_possible_birth_date(digits, today) or digits in _PLACEHOLDER_BIRTH_DATES:
        return None
    year = int(digits[:4])
    return digits if _FIRST_BIRTH_YEAR <= year <= (today or datetime.now(UTC).date()).year else None


def _date_digits(value: str) -> str | None:
    text = value.strip()
    match = _DATE_ISO.fullmatch(text)
    if match is not None:
        year, month, day = match.groups()
        return f"{year}{int(month):02d}{int(day):02d}"
    return text if _DATE_COMPACT.fullmatch(text) else None


def is_possible_birth_date(digits: str, today: date | None = None) -> bool:
    """Whether ``YYYYMMDD`` is a day someone alive can have been born on (see ``parse_date_of_birth``)."""
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False  # no such day: 29 February 1900, a 13th month, day 0
    if born.year < _FIRST_BIRTH_YEAR or digits in _PLACEHOLDER_BIRTH_DATES:
        return False
    return born <= (today or datetime.now(UTC).date())


#: The letters that show nothing: the Hangul fillers, the only letters (general category Lo) with
#: Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt: U+115F, U+1160,
#: U+3164, U+FFA0), the blank "names" typed where a form insists on one.
_BLANK_LETTERS: Final = frozenset("\u115f\u1160\u3164\uffa0")
#: Symbols that show nothing: the braille pattern blank (So; not White_Space, not default-ignorable).
_BLANK_SYMBOLS: Final = frozenset("\u2800")


def _shows(c: str) -> bool:
    """Whether a character shows something on its own: a letter, number, punctuation or symbol
    (general category L, N, P or S; never a mark, control, format, unassigned or private-use
    character, nor a separator) that is not one of the blank letters or symbols above. The other
    default-ignorable code points are all of the refused categories (Cf, Mn such as U+034F, Cn)."""
    return unicodedata.category(c)[0] in "LNPS" and c not in _BLANK_LETTERS and c not in _BLANK_SYMBOLS


def has_external_id(traits: Mapping[str, object]) -> bool:
    """Whether the traits hold an ``EXTERNAL_ID_TRAIT`` that names something: a character that shows
    something (``_shows``). An id of spaces, format characters (``"\\u200b"``), controls, lone marks,
    Hangul fillers or braille blanks names no record, and kept a profile of nobody."""
    value = traits.get(EXTERNAL_ID_TRAIT)
    if value is None:
        return False
    text = str(value)
    # attack30: what an integration writes when it has no id (``String(undefined)``, ``str(None)``,
    # a form's ``N/A`` or ``-``) shows, and names no record either: an id has a letter or a digit
    return (
        any(_shows(c) for c in text)
        and any(c.isalnum() for c in text)
        and text.strip().casefold() not in _PLACEHOLDER_IDS
    )


#: The texts integrations write for an id they do not have (case-folded): no id.
_PLACEHOLDER_IDS: Final = frozenset(
    {"undefined", "null", "none", "nil", "nan", "n/a", "[object object]", "unknown", "(null)"}
)


def has_other_identity(traits: Mapping[str, str]) -> bool:
    """Whether the traits name a person well enough to keep a record without email or phone.

    Two of: both names (each with a letter), a date of birth someone alive can have
    (``parse_date_of_birth``) or a slip of one (``birth_date_slip``), a full address (an address
    line and a postcode or town), a national id that looks like one (``plausible_national_id``).
    So a first and a last name with a birth date or
    an address; one name, or none, with a birth date and an address (a registry that left the names
    out: a birth date at one address is one person but for twins, whom the matcher keeps apart by
    their first names); a national id with any of them. One name alone is no evidence: a family
    shares a surname.
    """
    first = _letters(trait_text(traits, "first_name"))
    last = _letters(trait_text(traits, "last_name"))
    dob = trait_text(traits, "date_of_birth")
    # Either address line: some tools keep a building or locality in line 2 and leave line 1 empty.
    street = trait_text(traits, "street") or trait_text(traits, "address_line2")
    national_id = trait_text(traits, "national_id")
    evidence = [
        first and last,
        dob is not None and (parse_date_of_birth(dob) is not None or birth_date_slip(dob) is not None),
        street is not None
        and (trait_text(traits, "postal_code") is not None or trait_text(traits, "city") is not None),
        national_id is not None and plausible_national_id(national_id),
    ]
    return sum(1 for found in evidence if found) >= 2


def plausible_national_id(text: str) -> bool:
    """Whether a national id (as typed) looks like one: at least four letters or digits, one of them a
    digit, not one character repeated. ``000000000``, ``n/a`` or ``x`` are what a tool writes when the
    field is required and unknown; read as an id they would join every record that holds them (an
    identifier value), or keep one person's records apart (a veto)."""
    compact = "".join(ch for ch in text.lower() if ch.isalnum())
    return len(compact) >= _MIN_NATIONAL_ID and len(set(compact)) > 1 and any(ch.isdigit() for ch in compact)


def _letters(text: str | None) -> bool:
    # str.isalpha, not the regex [^\W\d_]: that class also takes digits that are not decimal
    # (superscripts, circled numbers: "¹" is \w but not \d), which are no name.
    # A Hangul filler is a letter (Lo) that shows nothing: no name. A modifier letter (Lm: ー, the
    # mark a kana keyboard types for "-", 々, ʻ) is part of a name beside real letters, none alone.
    return text is not None and any(
        ch.isalpha() and ch not in _BLANK_LETTERS and unicodedata.category(ch) != "Lm" for ch in text
    )
