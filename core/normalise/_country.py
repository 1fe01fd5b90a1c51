"""Countries and currencies: ``normalise_country`` (ISO 3166-1 alpha-2) and ``normalise_currency``
(ISO 4217), both looked up in pycountry's data."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Final

import pycountry

from core.errors import NormalisationError

from ._country_translations import _translated_names
from ._limits import _CACHE_SIZE, _MAX_INPUT_LEN

#: Names people use that pycountry does not know under that spelling.
_COUNTRY_ALIASES: Final = {
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "united states of america": "US",
    "america": "US",
    "uae": "AE",
    "russia": "RU",
    "korea": "KR",
    "turkey": "TR",
    "czech republic": "CZ",
    "holland": "NL",
    "ivory coast": "CI",
    "cote divoire": "CI",
    "macedonia": "MK",
    "swaziland": "SZ",
    "burma": "MM",
    "cape verde": "CV",
    "vatican": "VA",
    "vatican city": "VA",
    "brunei": "BN",
    "palestine": "PS",
    "micronesia": "FM",
    "dr congo": "CD",
    "drc": "CD",
    "republic of the congo": "CG",
    "macau": "MO",
    # Kosovo's user-assigned code, which phone numbering (+383), Shopify and Stripe use.
    "xk": "XK",
    "kosovo": "XK",
    # Countries by their own names (endonyms), as people in them write their address; without them a
    # German shop's "Deutschland" was no country, and its customers' phones were read as US numbers.
    "deutschland": "DE",
    "bundesrepublik deutschland": "DE",
    "österreich": "AT",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "svizra": "CH",
    "españa": "ES",
    "italia": "IT",
    "nederland": "NL",
    "belgië": "BE",
    "belgique": "BE",
    "belgien": "BE",
    "lëtzebuerg": "LU",
    "luxemburg": "LU",
    "brasil": "BR",
    "polska": "PL",
    "česko": "CZ",
    "česká republika": "CZ",
    "slovensko": "SK",
    # Also Slovakia's name in Czech; pycountry's Slovak catalogue gives it to Gambia as well, which made
    # it ambiguous among the translated names (_country_translations).
    "slovenská republika": "SK",
    "slovenija": "SI",
    "hrvatska": "HR",
    "srbija": "RS",
    "србија": "RS",
    "magyarország": "HU",
    "българия": "BG",
    "ελλάδα": "GR",
    "ellada": "GR",
    "hellas": "GR",
    "россия": "RU",
    "российская федерация": "RU",
    "rossiya": "RU",
    "україна": "UA",
    "ukraina": "UA",
    "беларусь": "BY",
    "sverige": "SE",
    "norge": "NO",
    "noreg": "NO",
    "danmark": "DK",
    "suomi": "FI",
    "ísland": "IS",
    "éire": "IE",
    "eesti": "EE",
    "latvija": "LV",
    "lietuva": "LT",
    "中国": "CN",
    "中華人民共和國": "CN",
    "中华人民共和国": "CN",
    "zhongguo": "CN",
    "台灣": "TW",
    "台湾": "TW",
    "香港": "HK",
    "日本": "JP",
    "nippon": "JP",
    "nihon": "JP",
    "대한민국": "KR",
    "한국": "KR",
    "韓国": "KR",
    "韩国": "KR",
    "भारत": "IN",
    "bharat": "IN",
    "ประเทศไทย": "TH",
    "ไทย": "TH",
    "pilipinas": "PH",
    "السعودية": "SA",
    "المملكة العربية السعودية": "SA",
    "الإمارات": "AE",
    "الإمارات العربية المتحدة": "AE",
    "مصر": "EG",
    "ישראל": "IL",
    "ایران": "IR",
    "türkiye": "TR",
}
_KEY_DROP: Final = re.compile(r"[.'’]")


def _country_key(text: str) -> str:
    """Fold a country spelling for lookup: no accents, case, dots, apostrophes or extra spaces."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    folded = " ".join(_KEY_DROP.sub("", folded).split())
    return folded.removeprefix("the ")


@functools.cache
def _country_lookup() -> dict[str, str]:
    """Build the spelling -> alpha-2 dict once, on first use (pycountry loads its data lazily)."""
    lookup: dict[str, str] = {}
    names: list[tuple[str, str]] = []
    for country in pycountry.countries:
        code = str(country.alpha_2)
        lookup[_country_key(code)] = code
        lookup[_country_key(str(country.alpha_3))] = code
        lookup[str(country.numeric)] = code
        lookup[str(int(country.numeric))] = code  # "36" as well as "036"
        for attr in ("name", "official_name", "common_name"):
            name = getattr(country, attr, None)
            if isinstance(name, str):
                names.append((name, code))
                # "Korea, Republic of" is also written "Republic of Korea".
                head, sep, tail = name.partition(", ")
                if sep:
                    names.append((f"{tail} {head}", code))
                # "Holy See (Vatican City State)" is also written "Holy See".
                if "(" in name:
                    names.append((name.partition("(")[0], code))
    # Names never override codes (codes are unambiguous), and aliases never override pycountry.
    for name, code in names:
        lookup.setdefault(_country_key(name), code)
    for alias, code in _COUNTRY_ALIASES.items():
        lookup.setdefault(_country_key(alias), code)
    return lookup


def normalise_country(value: str) -> str:
    """Return the ISO 3166-1 alpha-2 code (upper case) for a country code or English name.

    Accepts alpha-2 ("gb"), alpha-3 ("GBR"), numeric ("826") and English names in any case
    ("United Kingdom", "Côte d'Ivoire" or "cote d'ivoire"), plus common aliases ("UK", "USA",
    "United States of America", "England", "Scotland", "Wales" and a few more), the names
    countries have in their own languages ("Deutschland", "España", "日本", "Россия"), Kosovo's
    user-assigned code XK, and then the names pycountry's catalogues give them in 30 common
    languages ("Italie", "Italien", "Estados Unidos"; ``_country_translations``). The lookup dict
    is built from pycountry once, on first use; the translated names on the first value it does not
    know. A translated name that names two countries is refused, not guessed. Raises
    ``NormalisationError("country", reason)`` for anything else.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise NormalisationError("country", f"not a string ({type(value).__name__})")
    if len(value) > _MAX_INPUT_LEN:
        raise NormalisationError("country", "not a known country")
    return _normalise_country(value)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _normalise_country(value: str) -> str:
    key = _country_key(value)
    if not key:
        raise NormalisationError("country", "empty")
    code = _country_lookup().get(key)
    if code is not None:
        return code
    # Not a code, an English name or an endonym: a name in another language (built on this first miss).
    codes = _translated_names(_country_key).get(key)
    if codes is None:
        raise NormalisationError("country", f"not a known country code or name: {value.strip()[:60]!r}")
    if len(codes) > 1:
        raise NormalisationError(
            "country",
            f"ambiguous: {value.strip()[:60]!r} names {', '.join(sorted(codes))} in different languages;"
            " write the country's ISO code",
        )
    (code,) = codes
    return code


#: ISO 4217 codes that are not money: XXX means "no currency", XTS is reserved for testing.
_NOT_MONEY: Final = frozenset({"XXX", "XTS"})


@functools.cache
def _currency_codes() -> frozenset[str]:
    """The ISO 4217 alpha-3 codes pycountry knows, built once on first use."""
    return frozenset(str(currency.alpha_3) for currency in pycountry.currencies) - _NOT_MONEY


def normalise_currency(value: str) -> str:
    """Return an ISO 4217 alpha-3 currency code in upper case ("gbp" becomes "GBP").

    The code is checked against pycountry's list of current currencies (built into a set once).
    Symbols ("£") and names ("pound") are not guessed at. Raises
    ``NormalisationError("currency", reason)`` for anything else.
    """
    if type(value) is str and len(value) <= 16:  # a few currencies, in a few spellings each
        return _cached_currency(value)
    if not isinstance(value, str):
        raise NormalisationError("currency", f"not a string ({type(value).__name__})")
    return _normalise_currency(value)


@functools.lru_cache(maxsize=1024)
def _cached_currency(value: str) -> str:
    return _normalise_currency(value)


def _normalise_currency(value: str) -> str:
    code = value.strip().upper()
    if not code:
        raise NormalisationError("currency", "empty")
    if code not in _currency_codes():
        raise NormalisationError("currency", f"not an ISO 4217 currency code: {value.strip()[:20]!r}")
    return code
