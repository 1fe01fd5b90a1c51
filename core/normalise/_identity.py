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
from collections.abc import Mapping
from typing import Final

__all__ = ["FIELD_ALIASES", "has_other_identity", "parse_date_of_birth", "trait_text"]

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

#: Longer values are not a name or an address: ignored, not truncated.
MAX_FIELD_LEN: Final = 200

_DATE_ISO: Final = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?")
_DATE_COMPACT: Final = re.compile(r"\d{8}")


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


def parse_date_of_birth(value: str) -> str | None:
    """``YYYYMMDD`` from an ISO date (``1980-03-07``, a time after it is ignored) or 8 digits.

    Other spellings (``07/03/1980``) are ambiguous between day-first and month-first tools, so they
    are not guessed: such a record is compared without its date of birth. A date whose digits are
    not a real day (a typo) is kept, because the comparison levels still see its year and digits.
    """
    text = value.strip()
    match = _DATE_ISO.fullmatch(text)
    if match is not None:
        year, month, day = match.groups()
        digits = f"{year}{int(month):02d}{int(day):02d}"
    elif _DATE_COMPACT.fullmatch(text):
        digits = text
    else:
        return None
    return digits if 1800 <= int(digits[:4]) <= 2200 else None


def has_other_identity(traits: Mapping[str, str]) -> bool:
    """Whether the traits name a person well enough to keep a record without email or phone.

    A name (a first or last name with a letter) and two of: a date of birth that can be read
    (``parse_date_of_birth``), a full address (an address line and a postcode or town), both names, a
    national id. So a first and a last name with a birth date or an address, or one name with a
    birth date and an address (a registry that left the first name out), or a national id and a name.
    """
    first = _letters(trait_text(traits, "first_name"))
    last = _letters(trait_text(traits, "last_name"))
    if not first and not last:
        return False
    dob = trait_text(traits, "date_of_birth")
    # Either address line: some tools keep a building or locality in line 2 and leave line 1 empty.
    street = trait_text(traits, "street") or trait_text(traits, "address_line2")
    evidence = [
        first and last,
        dob is not None and parse_date_of_birth(dob) is not None,
        street is not None
        and (trait_text(traits, "postal_code") is not None or trait_text(traits, "city") is not None),
        trait_text(traits, "national_id") is not None,
    ]
    return sum(1 for found in evidence if found) >= 2


def _letters(text: str | None) -> bool:
    # str.isalpha, not the regex [^\W\d_]: that class also takes digits that are not decimal
    # (superscripts, circled numbers: "¹" is \w but not \d), which are no name.
    return text is not None and any(ch.isalpha() for ch in text)
