"""Names as people and tools write them: titles before a name, a business's name in a one-field
name (Stripe's ``name``: "full name or business name"). docs/identity.md, "Names as tools write them".
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources
from typing import Final

from core.linkage.nicknames import is_listed_name

__all__ = [
    "BUSINESS_WORDS",
    "HONORIFICS",
    "SHORT_LEGAL_FORMS",
    "TITLES_ONLY_DOTTED",
    "fold",
    "is_given_name",
    "is_title",
    "name_letters",
    "split_full_name",
]

_NOT_ALNUM: Final = re.compile(r"[^a-z0-9]+")
_NAME_DROP: Final = re.compile(r"[^a-z]+")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Lower case, no accents, each run of other characters one space: ``Zoë O'Neil`` -> ``zoe o neil``."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return _NOT_ALNUM.sub(" ", ascii_text).strip()


@lru_cache(maxsize=65536)
def name_letters(text: str) -> str:
    # Letters only: apostrophes, hyphens and spaces inside a name vary between tools.
    return _NAME_DROP.sub("", fold(text.replace("'", "").replace("’", "")))


#: Words written before a name that are no part of it: honorifics and academic titles, several
#: languages, folded (``_name``): ``Dr. Klaus Becker`` is Klaus, ``Prof. Dr.`` and ``Herr`` too. Words
#: that are also first names or surnames (``Don``, ``Pan``) are left out.
HONORIFICS: Final = frozenset(
    {
        *("mr", "mrs", "ms", "miss", "mx", "mister", "dr", "prof", "professor", "doctor"),
        *("sir", "dame", "rev", "revd", "herr", "frau", "fraulein", "dipl", "ing", "mag"),
        *("mme", "mlle", "madame", "monsieur", "sr", "sra", "srta", "sig", "sigra", "signor"),
        *("signora", "dott", "dottssa", "avv", "dhr", "mevr"),
    }
)

#: Abbreviated titles that are first names too (``Sig. Rossi`` is Signor Rossi, ``Sig Hansen`` is
#: Sigurd; ``Ing.`` an engineer, ``Ing`` a Scandinavian name): a title only when written with its dot.
TITLES_ONLY_DOTTED: Final = frozenset({"sig", "ing", "mag"})


def is_title(part: str) -> bool:
    """Whether a word as written is a title before a name (``HONORIFICS``; those also first names,
    ``TITLES_ONLY_DOTTED``, only with their dot)."""
    word = name_letters(part)
    return word in HONORIFICS and (word not in TITLES_ONLY_DOTTED or part.rstrip(",").endswith("."))


#: Words that make a one-field name a business's (Stripe's ``name``: "full name or business name"),
#: folded: legal forms no person's name is spelt as, and trading words. Such a name names nobody's
#: first name.
BUSINESS_WORDS: Final = frozenset(
    {
        *("gmbh", "mbh", "llc", "ltd", "inc", "plc", "corp", "corporation", "limited"),
        *("incorporated", "sarl", "srl", "spzoo", "llp", "pty", "kft", "gbr", "ohg"),
        *("company", "consulting", "consultants", "services", "solutions", "holding", "holdings"),
        *("praxis", "kanzlei", "agentur", "agency", "stiftung", "foundation", "verein"),
    }
)

#: Short legal forms, a business's only when written last and in capitals or with dots (``Becker
#: AG``, ``Silva S.A.``): folded they are also names (``Sá``, ``Ag``).
SHORT_LEGAL_FORMS: Final = frozenset(
    {"AG", "KG", "OG", "UG", "EV", "SA", "SAS", "SL", "SPA", "BV", "NV", "AB", "AS", "OY", "APS", "SRO", "CO"}
)


@cache
def _given_names() -> frozenset[str]:
    """Popular first names of 106 countries, folded (``data/forenames.txt``; ``data/README.md``)."""
    text = resources.files("core.linkage").joinpath("data/forenames.txt").read_text(encoding="utf-8")
    return frozenset(text.split())


def is_given_name(word: str) -> bool:
    """Whether a folded word is a listed first name: a popular one of some country
    (``data/forenames.txt``) or one with nicknames (``data/nicknames.csv``). A name missing from
    both may still be a name."""
    return word in _given_names() or is_listed_name(word)


#: The short legal forms that are also surnames once folded (``Sá``, ``Ås``): only these can be a
#: person's last word in a name written all in capitals. ``PETER HANSEN KG``, ``JAN DE VRIES BV`` and
#: ``MARIO ROSSI SPA`` name firms (no one's surname is Kg, Bv or Spa).
_FORMS_ALSO_SURNAMES: Final = frozenset({"SA", "AS"})


def _capitals_naming_a_person(text: str, parts: list[str]) -> bool:
    """A name written all in capitals (a CRM import's ``CARLOS SA``), its short legal form without
    dots and also a surname (``_FORMS_ALSO_SURNAMES``), whose first word (past titles) is a listed
    first name: capitals tell nothing there, and ``Sá`` is a surname. ``ACME SA`` and ``Fjordtech
    AS`` stay a business's, and so does ``PETER HANSEN KG``."""
    if parts[-1] not in _FORMS_ALSO_SURNAMES or len(parts) < 2 or any(ch.islower() for ch in text):
        return False
    words = [part for part in parts[:-1] if name_letters(part)]
    while len(words) > 1 and is_title(words[0]):
        words.pop(0)
    return bool(words) and is_given_name(name_letters(words[0]))


def split_full_name(text: str | None) -> tuple[str | None, str | None]:
    """First and last name from one name field (Stripe's ``name``): its first and last word. A single
    word is a first name only when nothing else is known, so it is left as first name alone; middle
    names are dropped (tools that keep two fields rarely keep them)."""
    if text is None:
        return None, None
    if "&" in text or "+" in text:
        return None, None  # ``Kovač & Becker OG``: a firm, or two people
    parts = text.split()
    if (
        parts
        and parts[-1].replace(".", "").upper() in SHORT_LEGAL_FORMS
        and ("." in parts[-1] or parts[-1].isupper())
        and not _capitals_naming_a_person(text, parts)
    ):
        return None, None  # ``Becker AG``, ``Silva S.A.``
    named = [(w, part) for w, part in ((name_letters(part), part) for part in parts) if w]
    words = [w for w, _ in named]
    if any(w in BUSINESS_WORDS for w in words):
        return None, None  # a business's name names no person's first name
    titled = False
    while len(words) > 1 and is_title(named[len(named) - len(words)][1]):
        words.pop(0)  # ``Dr. Klaus Becker``, ``Prof. Dr. Klaus Becker``, ``Herr Klaus Becker``
        titled = True
    if not words:
        return None, None
    if titled and len(words) == 1:
        return None, words[0]  # ``Dr. Becker``: a title before a surname
    if len(words) == 1:
        return words[0], None
    return words[0], words[-1]
