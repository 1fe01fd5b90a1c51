"""The fields a record is compared on, prepared once: folded names, a date of birth, an address.

Matching compares what a person typed in several tools, so the values are prepared for comparison,
not for display: accents folded (``Müller`` and ``Muller`` agree), case, punctuation and spaces in
names dropped (``O'Neil`` / ``oneil``, ``Mary-Jane`` / ``Mary Jane``), street types abbreviated the
way postal services do (``Street`` / ``St``), the house number split from the street when a tool
keeps them in one line. The stored record is never changed: a ``LinkageRecord`` is a view of it.

``linkage_record`` builds one from a record key and flat traits (what ``profilesync resolve`` reads
and what a ``SourceRecord`` holds), taking the usual names of each field (``surname``, ``dob``,
``postcode``, ``suburb``, ...). ``from_source_record`` does the same for a normalised record.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Final

import jellyfish

from core.linkage.email_keys import email_match_key
from core.linkage.names import fold, is_title, split_full_name
from core.linkage.names import name_letters as _name
from core.linkage.slots import slot_maker
from core.normalise._identity import (
    FIELD_ALIASES,
    MAX_FIELD_LEN,
    birth_date_slip,
    parse_date_of_birth,
    plausible_national_id,
)
from core.privacy_caches import remember

if TYPE_CHECKING:
    from core.schema import SourceRecord

__all__ = [
    "FIELD_ALIASES",
    "LinkageRecord",
    "fold",
    "from_source_record",
    "line_key",
    "linkage_record",
    "parse_date_of_birth",
]


# USPS Publication 28 (C1) and Royal Mail abbreviations for the street types that appear in
# customer data; both spellings of a street then agree exactly.
_STREET_TYPES: Final[Mapping[str, str]] = {
    "street": "st",
    "str": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "crescent": "cres",
    "close": "cl",
    "terrace": "tce",
    "parade": "pde",
    "highway": "hwy",
    "circuit": "cct",
    "square": "sq",
    "grove": "gr",
    "gardens": "gdns",
    "way": "way",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
}

# The full word of each street type, from either spelling: an address line's comparison key spells
# every type out and drops the spaces, so ``Rumker Pl``, ``rumker place`` and ``rumkerplace`` (a tool
# that lost the space) read alike.
_STREET_TYPE_WORDS: Final[Mapping[str, str]] = {
    **{full: full for full in _STREET_TYPES},
    **{short: full for full, short in reversed(list(_STREET_TYPES.items()))},  # the first full word wins
    "str": "street",
    "av": "avenue",
}

_HOUSE_AND_STREET: Final = re.compile(r"^\s*(\d+[a-z]?)(?:\s*[-/,]\s*\d+[a-z]?)?[\s,]+(.+)$")
_HOUSE_NUMBER: Final = re.compile(r"\d+[a-z]?")


@lru_cache(maxsize=65536)
def _first_name_key(text: str) -> str | None:
    """A first-name field as compared (``_name``), less a title typed before it (``Dr. Klaus``)."""
    words = text.split()
    while len(words) > 1 and is_title(words[0]):
        words = words[1:]
    return _name(" ".join(words) if len(words) > 1 else words[0] if words else text) or None


@lru_cache(maxsize=65536)
def script_name(text: str) -> str | None:
    """A name's letters as written when they are not Latin (``Анна`` -> ``анна``, ``美咲``), else
    ``None``: NFKC, case-folded, every character that is not a letter dropped, and the accents of
    Greek and Cyrillic letters too, as ``fold`` drops Latin ones (Greek capitals drop the tonos:
    ``ΗΡΑ`` is ``Ήρα``; ``Алена`` is ``Алёна``). Kana keep their voicing marks (``が`` is not ``か``)."""
    letters = "".join(
        _unaccented(ch) for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalpha()
    )
    if not letters or _name(letters):
        return None  # nothing, or Latin letters (``_name`` reads them)
    return letters


def _unaccented(letter: str) -> str:
    """A Greek or Cyrillic letter without its accent (its canonical decomposition's base), else itself."""
    if letter.isascii() or not unicodedata.name(letter, "").startswith(("GREEK", "CYRILLIC")):
        return letter
    return unicodedata.normalize("NFD", letter)[0]


@lru_cache(maxsize=65536)
def _street(text: str) -> str:
    return " ".join(_STREET_TYPES.get(word, word) for word in fold(text).split())


@lru_cache(maxsize=65536)
def line_key(text: str) -> str:
    """An address line as compared: folded, street types spelt out, no spaces (``27 Park Ln`` ->
    ``27parklane``). Tools differ in abbreviations and in spacing, not in the address."""
    return "".join(_STREET_TYPE_WORDS.get(word, word) for word in fold(text).split())


@lru_cache(maxsize=65536)
def _phonetic(name: str) -> str:
    # NYSIIS keeps more of a name than Soundex (``TANPSAN`` for Thompson) and, unlike Metaphone,
    # was built for surnames; jellyfish's is the reference implementation's.
    return jellyfish.nysiis(name) if name else ""


@dataclass(frozen=True, slots=True)
class LinkageRecord:
    """One record as the matcher sees it: the source key and its prepared fields (``None`` = absent)."""

    key: str
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: str | None = None
    """``YYYYMMDD``, a day someone alive can have been born on (``parse_date_of_birth``)."""
    date_of_birth_slip: str | None = None
    """The digits of a typed birth date that is no calendar day (``birth_date_slip``): compared only
    as one keystroke from the other record's real date."""
    house_number: str | None = None
    street: str | None = None
    address_line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    region: str | None = None
    national_id: str | None = None
    emails: tuple[str, ...] = ()
    email_keys: tuple[str, ...] = ()
    """Provider-aware match keys of ``emails`` (core.linkage.email_keys), sorted, deduplicated."""
    phones: tuple[str, ...] = ()
    street_key: str | None = None
    """``street`` as compared (``line_key``): street types spelt out, no spaces."""
    line2_key: str | None = None
    """``address_line2`` as compared (``line_key``)."""
    first_name_script: str | None = None
    """A first name written in a script other than Latin (Cyrillic, Greek, CJK, ...), as written
    (NFKC, case-folded, letters only), kept only when ``first_name`` is absent: ``first_name`` holds
    Latin letters alone, so ``Анна`` and ``Мария`` give no first name there. Two such names in one
    script are conflict evidence (core.linkage.conflicts); a name in another script never is."""

    @property
    def birth_year(self) -> str | None:
        return self.date_of_birth[:4] if self.date_of_birth else None

    @property
    def birth_date(self) -> date | None:
        """The date of birth as a real date, or ``None`` when absent or impossible."""
        return _real_date(self.date_of_birth) if self.date_of_birth else None

    @property
    def first_phonetic(self) -> str:
        return _phonetic(self.first_name) if self.first_name else ""

    @property
    def last_phonetic(self) -> str:
        return _phonetic(self.last_name) if self.last_name else ""


_make_record: Final = slot_maker(LinkageRecord)
"""``LinkageRecord(...)`` with every field given, without the frozen ``__init__`` (core.linkage.slots)."""


@lru_cache(maxsize=65536)
def _real_date(digits: str) -> date | None:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def linkage_record(
    key: str,
    traits: Mapping[str, object],
    emails: Iterable[str] = (),
    phones: Iterable[str] = (),
) -> LinkageRecord:
    """Prepare one record for matching from its key, flat traits, emails and (E.164) phones.

    Values that are blank, too long or cannot be read (a date of birth in an ambiguous spelling)
    count as absent: a comparison with an absent value gives no evidence either way.
    """

    text = _trait_texts(traits).get
    # Each field read inline (a closure called seven times a record cost a tenth of preparing it).
    raw = text("first_name")
    first_name = _first_name_key(raw) if raw is not None else None
    first_script = script_name(raw) if first_name is None and raw is not None else None
    raw = text("last_name")
    last_name = (_name(raw) or None) if raw is not None else None
    if first_name is None and last_name is None:
        full = text("full_name")
        first_name, last_name = split_full_name(full)
        if first_name is None and first_script is None and full is not None:
            first_script = script_name(full.split()[0]) if full.split() else None
    street_raw, house = text("street"), text("house_number")
    house_number, street, street_key = (
        _address(street_raw, house) if street_raw is not None or house is not None else _NO_ADDRESS
    )
    dob_raw = text("date_of_birth")
    date_of_birth, date_of_birth_slip = _birth_date(dob_raw, _today()) if dob_raw else (None, None)
    email_list, email_keys = _emails(tuple(emails))
    raw = text("address_line2")
    address_line2 = (fold(raw) or None) if raw is not None else None
    raw = text("postal_code")
    postal_code = _compact(fold(raw) or None) if raw is not None else None
    raw = text("city")
    city = (fold(raw) or None) if raw is not None else None
    raw = text("region")
    region = (fold(raw) or None) if raw is not None else None
    raw = text("national_id")
    national_id = _national_id(_compact(fold(raw) or None)) if raw is not None else None
    return _make_record(
        key=key,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        date_of_birth_slip=date_of_birth_slip,
        house_number=house_number,
        street=street,
        address_line2=address_line2,
        postal_code=postal_code,
        city=city,
        region=region,
        national_id=national_id,
        emails=email_list,
        email_keys=email_keys,
        phones=tuple(sorted({p.strip() for p in phones if p and p.strip()})),
        street_key=street_key,
        line2_key=line_key(address_line2) or None if address_line2 else None,
        first_name_script=first_script,
    )


_NO_ADDRESS: Final[tuple[None, None, None]] = (None, None, None)


def _address_fields(street_raw: str | None, house: str | None) -> tuple[str | None, str | None, str | None]:
    """The house number, the street and its comparison key (``line_key``) of a street line and a
    house number as typed: the number split from the line when a tool keeps them in one."""
    house_number = None
    if house is not None:
        found = _HOUSE_NUMBER.search(fold(house).replace(" ", ""))
        house_number = found.group(0) if found else None
    street = None
    if street_raw is not None:
        folded = fold(street_raw)
        split = _HOUSE_AND_STREET.match(folded)
        if split is not None and house_number is None:
            house_number, folded = split.group(1), split.group(2)
        elif split is not None and split.group(1) == house_number:
            folded = split.group(2)
        street = _street(folded) or None
    return house_number, street, line_key(street) or None if street else None


_address: Final = remember(lru_cache(maxsize=65536)(_address_fields))
"""``_address_fields`` once per spelling of a street and house number (addresses repeat across a
population's records and every version of a record): people's values, so emptied on an erasure
(core.privacy_caches)."""


def _email_fields(emails: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A record's emails as compared (stripped, lower case, each once, in order) and their match
    keys (sorted, each once)."""
    listed = tuple(dict.fromkeys(e.strip().lower() for e in emails if e and e.strip()))
    return listed, tuple(sorted({email_match_key(e) for e in listed}))


_emails: Final = remember(lru_cache(maxsize=65536)(_email_fields))
"""``_email_fields`` once per record's emails (a record's next version, or the same inbox in
another tool): people's values, so emptied on an erasure (core.privacy_caches)."""


#: Each trait name ``FIELD_ALIASES`` reads, with its field and its place among that field's names.
_ALIAS_OF: Final[Mapping[str, tuple[str, int]]] = {
    alias: (field, rank) for field, aliases in FIELD_ALIASES.items() for rank, alias in enumerate(aliases)
}


def _trait_texts(traits: Mapping[str, object]) -> dict[str, str]:
    """``trait_text`` of every field at once: one pass over the traits (a record holds a few) instead
    of a look-up of every alias of every field; the first alias with a text wins, as there."""
    found: dict[str, tuple[int, str]] = {}
    for name, value in traits.items():
        alias = _ALIAS_OF.get(name)
        if alias is None:
            continue
        field, rank = alias
        held = found.get(field)
        if held is not None and held[0] < rank:
            continue
        # ``trait_text``'s reading of one value, inline (a call per trait cost a tenth of preparing
        # a record): not None, not a boolean, stripped, not blank, not too long.
        if value is None or value is True or value is False:
            continue
        text = (value if type(value) is str else str(value)).strip()
        if text and len(text) <= MAX_FIELD_LEN:
            found[field] = (rank, text)
    return {field: text for field, (_, text) in found.items()}


def _today() -> date:
    return datetime.now(UTC).date()


@lru_cache(maxsize=16384)
def _birth_date(raw: str, today: date) -> tuple[str | None, str | None]:
    # The date as compared and, for an impossible day, its digits as typed (kept per day: what is
    # possible depends on today).
    return parse_date_of_birth(raw, today), birth_date_slip(raw, today)


def _compact(value: str | None) -> str | None:
    # Postcodes and id numbers are written with and without spaces (``SW1A 1AA``).
    return value.replace(" ", "") or None if value else None


def _national_id(value: str | None) -> str | None:
    # Only an id that looks like one is evidence (an identifier value, a veto): not a placeholder.
    return value if value is not None and plausible_national_id(value) else None


def from_source_record(record: SourceRecord) -> LinkageRecord:
    """The ``LinkageRecord`` of a normalised record: its traits, emails and E.164 phones."""
    emails = [ident.value for ident in record.identifiers if ident.kind == "email"]
    phones = [ident.value for ident in record.identifiers if ident.kind == "phone"]
    return linkage_record(record.key, record.traits, emails, phones)
