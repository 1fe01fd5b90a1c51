"""Country names in other languages (exonyms: ``Italie``, ``Italien``, ``Estados Unidos``), read
from pycountry's own ``iso3166-1`` gettext catalogues (``pycountry.LOCALES_DIR``).

A form in a shop's language gets the customer's country in that language: a French form says
``Italie``, a German one ``Italien``. Such a name was no country, the trait was dropped, and the
customer's national phone was read in the default region (an Italian ``320 555 7788`` became an
American's ``+1 320-555-7788``, and two people one profile).

The table is built on the first name the main lookup (codes, English names, endonyms) does not know,
so a container whose records carry codes or English names never pays for it: about 0.2 s of CPU for
the languages below (``python -m core.normalise._country_translations`` prints the figure).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from typing import Final

import pycountry

#: The languages read: the most used on the web and in online shops (Europe's, the Americas' via
#: es/pt, and East Asia's, Arabic, Hebrew, Turkish, Indonesian, Thai). Vietnamese is left out on
#: purpose: folded without its accents its names collide with codes (``Mỹ`` -> ``my``, Malaysia's
#: code; ``Ý`` -> ``y``).
LANGUAGES: Final = (
    "de", "fr", "es", "it", "pt", "pt_BR", "nl", "pl", "sv", "da",
    "nb_NO", "fi", "cs", "sk", "ro", "hu", "el", "tr", "ru", "uk",
    "ja", "zh_CN", "zh_TW", "ko", "ar", "he", "id", "th", "ca", "hr",
)  # fmt: skip
_DOMAIN: Final = "iso3166-1"
#: Folded Latin names shorter than this are refused: one and two letters are the code space (a
#: Vietnamese ``Úc`` folds to ``uc``), and a code that is no country must not become one by accident.
_MIN_LATIN_KEY: Final = 3


def _english_names() -> list[tuple[str, str]]:
    """(English name, alpha-2) for every name pycountry translates: name, official and common name."""
    out: list[tuple[str, str]] = []
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            name = getattr(country, attr, None)
            if isinstance(name, str):
                out.append((name, str(country.alpha_2)))
    return out


def _spellings(name: str) -> Iterable[str]:
    """A name and the forms it is also written in, as the English names are read:
    ``Corée, République de`` is also ``République de Corée``; ``X (Y)`` is also ``X``."""
    yield name
    head, sep, tail = name.partition(", ")
    if sep:
        yield f"{tail} {head}"
    if "(" in name:
        yield name.partition("(")[0]


@functools.cache
def _translated_names(fold: Callable[[str], str]) -> dict[str, frozenset[str]]:
    """Folded translated name -> the alpha-2 codes it names in the languages read.

    A name naming more than one country (in two languages, or by a catalogue's error: one names
    Gambia ``República de Zambia``) maps to all of them, so the caller refuses it rather than guess.
    """
    import gettext  # only when a name is missed: a cold start that never needs it does not load it

    english = _english_names()
    spelled: set[tuple[str, str]] = set()
    for language in LANGUAGES:
        catalogue = gettext.translation(_DOMAIN, pycountry.LOCALES_DIR, languages=[language], fallback=True)
        for name, code in english:
            translated = catalogue.gettext(name)
            if translated != name:
                spelled.add((translated, code))
    found: dict[str, set[str]] = {}
    for translated, code in spelled:
        for spelling in _spellings(translated):
            key = fold(spelling)
            if len(key) < _MIN_LATIN_KEY and key.isascii():
                continue
            found.setdefault(key, set()).add(code)
    return {key: frozenset(codes) for key, codes in found.items()}


def _measure() -> None:  # pragma: no cover - a figure for the docs
    from core.normalise._country import _country_key

    start = time.process_time()
    table = _translated_names(_country_key)
    spent = time.process_time() - start
    ambiguous = sum(1 for codes in table.values() if len(codes) > 1)
    print(f"{len(LANGUAGES)} languages, {len(table)} names ({ambiguous} ambiguous), {spent:.3f} s CPU")


if __name__ == "__main__":  # pragma: no cover
    _measure()
