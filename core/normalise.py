"""Value normalisers and ``normalise_record``: a connector's ``RecordDraft`` becomes a clean record.

Every normaliser takes one raw value and returns its canonical form, or raises
``NormalisationError(field, reason)`` with a short reason a person can act on. ``normalise_record``
applies them to a whole draft and never raises: a bad value is left out of the record as a
``DroppedValue`` (the record survives), and a record that cannot be used at all (no source id, no
valid ``updated_at``, no valid email or phone) becomes ``Quarantined`` with a reason.

This module is pure: no I/O, and it must not import boto3 or httpx, directly or indirectly (see
tests/unit/test_core_purity.py). It runs once per record in every sync, so the hot normalisers are
wrapped in ``functools.lru_cache``; the same emails, phones, names and timestamps recur across runs
and across sources, and phonenumbers in particular costs tens of microseconds per call.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Final

import idna
import phonenumbers
import pycountry
from phonenumbers.phonemetadata import REGION_CODE_FOR_NON_GEO_ENTITY, PhoneMetadata
from phonenumbers.phonenumberutil import (
    _MAX_INPUT_STRING_LENGTH,
    _MAX_LENGTH_FOR_NSN,
    _MIN_LENGTH_FOR_NSN,
    COUNTRY_CODE_TO_REGION_CODE,
    SUPPORTED_REGIONS,
    PhoneNumberType,
    _number_type_helper,
    national_significant_number,
)

try:  # phonenumbers >= 9.0.43 caches its compiled patterns here; phonenumberslite 9.0.42 (Lambda) has not
    from phonenumbers.re_util import re_compile
except ImportError:  # pragma: no cover - the Lambda layer's phonenumberslite

    def re_compile(regex: str) -> re.Pattern[str]:
        return re.compile(regex)  # the re module caches compiled patterns itself


from core.errors import NormalisationError
from core.schema import (
    ConsentState,
    DroppedValue,
    Identifier,
    Order,
    OrderStatus,
    Quarantined,
    RecordDraft,
    SourceRecord,
)

__all__ = [
    "NormaliseOptions",
    "count_outcomes",
    "normalise_country",
    "normalise_currency",
    "normalise_email",
    "normalise_money",
    "normalise_name",
    "normalise_phone",
    "normalise_record",
    "normalise_timestamp",
]

_CACHE_SIZE: Final = 65536

#: Inputs longer than this are rejected before any parsing, so a hostile or broken source cannot
#: make us run regexes over megabytes or fill the caches with huge keys.
_MAX_INPUT_LEN: Final = 1024

# --------------------------------------------------------------------------------------------------
# Email
# --------------------------------------------------------------------------------------------------

# RFC 5322 "atext", lower case only because the address is lower-cased before matching.
_ATEXT: Final = "a-z0-9!#$%&'*+/=?^_`{|}~-"
_ATEXT_SET: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+/=?^_`{|}~-")
_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_LABEL_RE: Final = re.compile(_LABEL)

# One regex decides the common case (a plain ASCII address) without touching idna. The TLD must
# contain a letter (the lookahead), so "ann@10.0.0.1" is not taken for a domain.
_EMAIL_RE: Final = re.compile(
    rf"(?P<local>[{_ATEXT}]{{1,64}}(?:\.[{_ATEXT}]+)*)"
    rf"@(?P<domain>(?:{_LABEL}\.)+(?=[a-z0-9-]*[a-z]){_LABEL})"
)


def normalise_email(value: str) -> str:
    """Return the canonical form of an email address: trimmed, lower-cased, domain in ASCII.

    An internationalised domain is converted to its ASCII form (IDNA 2008 with UTS 46 mapping,
    so ``x@Bücher.de`` becomes ``x@xn--bcher-kva.de``). The syntax check is deliberately the
    usual dot-atom one (no quoted local parts, no IP-literal domains): one ``@``, a local part of
    1 to 64 characters without leading, trailing or double dots, a domain of valid labels with at
    least one dot and a non-numeric top-level domain, at most 254 characters in all. Raises
    ``NormalisationError("email", reason)`` on anything else.
    """
    if not isinstance(value, str):
        raise NormalisationError("email", f"not a string ({type(value).__name__})")
    if len(value) > _MAX_INPUT_LEN:
        raise NormalisationError("email", "longer than 254 characters")
    return _normalise_email(value)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _normalise_email(value: str) -> str:
    address = value.strip().lower()
    # Fast path: plain ASCII and no "--" in the domain (which could be an A-label, "xn--", whose
    # Punycode must be checked by idna) is fully decided by the regex.
    if len(address) <= 254 and address.isascii():
        match = _EMAIL_RE.fullmatch(address)
        if match is not None and "--" not in match["domain"]:
            return address
    return _email_slow(address)


def _email_slow(address: str) -> str:
    """Check an address step by step, so that the reason names the first thing that is wrong."""

    def fail(reason: str) -> NormalisationError:
        return NormalisationError("email", reason)

    if not address:
        raise fail("empty")
    if address.count("@") != 1:
        raise fail("must contain exactly one @")
    local, _, domain = address.partition("@")
    if not local:
        raise fail("nothing before the @")
    if len(local) > 64:
        raise fail("part before the @ is longer than 64 characters")
    if local.startswith(".") or local.endswith(".") or ".." in local:
        raise fail("part before the @ has a leading, trailing or double dot")
    # RFC 6531 (SMTPUTF8) allows UTF-8 in the local part: letters and digits of any script count
    # like atext, in NFC so that "garci\u0301a" and "garc\u00eda" are one address.
    local = unicodedata.normalize("NFC", local)
    bad = next(
        (
            c
            for c in local
            if c != "." and c not in _ATEXT_SET and not (ord(c) > 127 and (c.isalpha() or c.isdecimal()))
        ),
        None,
    )
    if bad is not None:
        raise fail(f"character {bad!r} not allowed before the @")
    if not domain:
        raise fail("nothing after the @")
    if not domain.isascii() or "--" in domain:
        try:
            domain = _idna_domain(domain)
        except (idna.IDNAError, UnicodeError) as exc:
            raise fail(f"domain is not a valid internationalised name ({exc})") from None
    labels = domain.split(".")
    if len(labels) < 2:
        raise fail("domain has no dot")
    if any(not label for label in labels):
        raise fail("domain has a leading, trailing or double dot")
    for label in labels:
        if len(label) > 63:
            raise fail("domain label longer than 63 characters")
        if _LABEL_RE.fullmatch(label) is None:
            raise fail(f"domain label {label!r} is not valid")
    if labels[-1].isdigit():
        raise fail("top-level domain is numeric")
    result = f"{local}@{domain}"
    if len(result) > 254:
        raise fail("longer than 254 characters")
    # Belt and braces: whatever the slow path accepts, the fast path must accept too, so that
    # normalising an already-normalised address is a no-op.
    if result.isascii() and _EMAIL_RE.fullmatch(result) is None:
        raise fail("not a valid email address")
    return result


@functools.lru_cache(maxsize=4096)
def _idna_domain(domain: str) -> str:
    # Cached per domain: one internationalised domain is shared by many addresses, each a cache miss
    # of _normalise_email, and idna costs tens of microseconds. Errors are not cached (lru_cache
    # does not keep exceptions), so a bad domain fails the same way every time.
    return idna.encode(domain, uts46=True).decode("ascii")


# --------------------------------------------------------------------------------------------------
# Phone
# --------------------------------------------------------------------------------------------------

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
    3166-1 alpha-2 code; "UK" is accepted for GB). The number must be valid, not merely possible,
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
    parsed = _fast_parse_phone(text, region)
    if parsed is not None:
        number, e164 = parsed
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
    if not _valid_e164(e164, number):
        number_region = phonenumbers.region_code_for_country_code(number.country_code or 0)
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
    """``phonenumbers.parse(text, region)`` and its E.164 form, for plain numbers; else None.

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
    number = phonenumbers.PhoneNumber(country_code=plan.country_code, national_number=int(national))
    return number, f"+{plan.country_code_text}{national}"


_VALID_E164: dict[str, bool] = {}


def _valid_e164(e164: str, number: phonenumbers.PhoneNumber) -> bool:
    # Validity is the expensive half (it matches the number against every number type of its
    # region); the same number arrives in several formats across tools, so cache it by E.164.
    valid = _VALID_E164.get(e164)
    if valid is None:
        if len(_VALID_E164) >= _CACHE_SIZE:
            _VALID_E164.clear()
        valid = _VALID_E164[e164] = _is_valid_number(number)
    return valid


def _is_valid_number(number: phonenumbers.PhoneNumber) -> bool:
    """``phonenumbers.is_valid_number``, without matching the number against its region twice.

    For a calling code shared by several regions (+1: the US, Canada and the Caribbean; +44: GB and
    the Crown dependencies), ``is_valid_number`` finds the region by matching the number against
    each region's number types (``_region_code_for_number_from_list``), then validates it for that
    region (``is_valid_number_for_region``), which matches the same number against the same types
    of the same region again. This is those two functions with the second match skipped when the
    first one decided, so the answer is the same (tests/unit/test_core_fast_paths.py compares
    them on every region's example numbers and on random digits).
    """
    regions = COUNTRY_CODE_TO_REGION_CODE.get(number.country_code or 0)  # None: is_valid_number
    if regions is None or len(regions) == 1:
        return bool(phonenumbers.is_valid_number(number))
    nsn = national_significant_number(number)
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region.upper(), None)
        if metadata is None:
            continue
        if metadata.leading_digits is not None:
            if re_compile(metadata.leading_digits).match(nsn):
                return bool(phonenumbers.is_valid_number_for_region(number, region))
        elif _number_type_helper(nsn, metadata) != PhoneNumberType.UNKNOWN:
            if region != REGION_CODE_FOR_NON_GEO_ENTITY and metadata.country_code == number.country_code:
                return True  # what is_valid_number_for_region(number, region) would find again
            return bool(phonenumbers.is_valid_number_for_region(number, region))
    return False  # no region: is_valid_number_for_region(number, None) is False


# --------------------------------------------------------------------------------------------------
# Name
# --------------------------------------------------------------------------------------------------

# Lower-case particles, kept lower-case when they are not the first word ("Van der Berg").
_PARTICLES: Final = frozenset(
    {"van", "der", "den", "de", "del", "della", "di", "da", "das", "dos", "du", "la", "le", "von"}
)
# "Mac" is also the start of many names that are not Mac-names (Macy, Machado, Mackie, Macedo,
# Macron), so the rule is light: a name of seven letters or more whose fourth letter is a consonant
# other than c, h, k or y, plus the common Mac-names that continue with a vowel.
_MAC_VOWEL_NAMES: Final = frozenset(
    {
        "macalister",
        "macallister",
        "macarthur",
        "macaskill",
        "macaulay",
        "macauley",
        "maceachern",
        "macewan",
        "macewen",
        "macinnes",
        "macintosh",
        "macintyre",
        "macisaac",
        "macivor",
    }
)
_APOSTROPHES: Final = re.compile(r"(['’])")


def normalise_name(value: str) -> str:
    """Return a person's name with whitespace collapsed and, if it was shouted or flat, name-cased.

    Only a name written ALL CAPS or all lower case (ignoring characters without case) is
    re-cased, word by word and around hyphens and apostrophes ("ANN-MARIE O'NEIL" becomes
    "Ann-Marie O'Neil"), with light Mc/Mac handling ("mcdonald" becomes "McDonald") and particles
    such as van/der/de/la/von kept lower-case when they are not the first word. A name in mixed
    case is kept exactly as the person wrote it ("DeShawn", "van Gogh"). Raises
    ``NormalisationError("name", reason)`` if nothing is left after trimming or there are no
    letters.
    """
    if not isinstance(value, str):
        raise NormalisationError("name", f"not a string ({type(value).__name__})")
    if len(value) > _MAX_INPUT_LEN:
        raise NormalisationError("name", "longer than 1024 characters")
    return _normalise_name(value)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _normalise_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise NormalisationError("name", "empty")
    if not any(c.isalpha() for c in name):
        raise NormalisationError("name", "has no letters")
    if not (name.isupper() or name.islower()):
        return name
    words = name.split(" ")
    cased = [_case_word(word, first=i == 0) for i, word in enumerate(words)]
    return " ".join(cased)


def _case_word(word: str, *, first: bool) -> str:
    lower = word.lower()
    if not first and lower in _PARTICLES:
        return lower
    return "-".join(_case_hyphen_part(part) for part in word.split("-"))


def _case_hyphen_part(part: str) -> str:
    # Split around apostrophes, keeping them: "o'neil" -> ["o", "'", "neil"] -> "O'Neil".
    return "".join(
        piece if _APOSTROPHES.fullmatch(piece) else _case_piece(piece) for piece in _APOSTROPHES.split(part)
    )


def _case_piece(piece: str) -> str:
    lower = piece.lower()
    if len(lower) > 2 and lower.startswith("mc") and lower[2].isalpha():
        return "Mc" + lower[2].title() + lower[3:]
    if lower.startswith("mac") and (
        lower in _MAC_VOWEL_NAMES or (len(lower) >= 7 and lower[3].isalpha() and lower[3] not in "aeiouyhkc")
    ):
        return "Mac" + lower[3].title() + lower[4:]
    # Title-case the first letter (not upper-case: "ǆ" -> "ǅ", "ﬁ" -> "Fi"), so that a second pass
    # sees a mixed-case name and leaves it alone. A piece that starts with a digit ("3rd") is not
    # capitalised.
    for i, char in enumerate(lower):
        if char.isalpha():
            return lower[:i] + char.title() + lower[i + 1 :]
        if char.isdigit():
            break
    return lower


# --------------------------------------------------------------------------------------------------
# Country and currency
# --------------------------------------------------------------------------------------------------

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
    "United States of America", "England", "Scotland", "Wales" and a few more). The lookup dict
    is built from pycountry once, on first use. Raises ``NormalisationError("country", reason)``
    for anything else.
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
    if code is None:
        raise NormalisationError("country", f"not a known country code or name: {value.strip()[:60]!r}")
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


# --------------------------------------------------------------------------------------------------
# Money
# --------------------------------------------------------------------------------------------------

#: ISO 4217 minor units where they are not 2.
_MINOR_UNITS: Final = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"), 0),
    **dict.fromkeys(("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
_QUANTUM: Final = {places: Decimal(1).scaleb(-places) for places in (0, 2, 3, 4)}

# An exponent is allowed ("1e3", as str() writes some floats) but kept short: Decimal() itself
# refuses exponents beyond its limits.
_PLAIN_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?")
# "1,299" or "1,299,000.50": commas every three digits.
_GROUPED_BY_THREE: Final = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
# "1,00,000.00" (Indian grouping) and the like: any digit groups, then a decimal point.
_GROUPED_WITH_DOT: Final = re.compile(r"[+-]?\d+(?:,\d+)+\.\d+")


def _parse_amount(amount: object) -> Decimal:
    # A str is none of the other types, so testing it first (most amounts are strings) changes nothing.
    if isinstance(amount, str):
        number = _parse_amount_text(amount)
    elif isinstance(amount, bool):
        raise NormalisationError("amount", "a boolean is not an amount")
    elif isinstance(amount, Decimal):
        number = amount
    elif isinstance(amount, int):
        number = Decimal(amount)
    elif isinstance(amount, float):
        # str() first: Decimal(19.9) is 19.899999999999998578914528479799628257751464843750.
        number = Decimal(str(amount))
    else:
        raise NormalisationError("amount", f"not a number ({type(amount).__name__})")
    if not number.is_finite():
        raise NormalisationError("amount", "not a finite number")
    return number


def _parse_amount_text(amount: str) -> Decimal:
    text = amount.strip()
    if len(text) > 64:
        raise NormalisationError("amount", "too long to be an amount")
    if "," in text:
        # Only remove commas that are clearly thousands separators: "19,90" might be 19.90
        # or 1990, so it is refused rather than guessed.
        if not (_GROUPED_BY_THREE.fullmatch(text) or _GROUPED_WITH_DOT.fullmatch(text)):
            raise NormalisationError("amount", f"ambiguous use of commas in {text!r}")
        text = text.replace(",", "")
    if not _PLAIN_NUMBER.fullmatch(text):
        raise NormalisationError("amount", f"not a number: {text[:30]!r}")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only what Decimal reads
        raise NormalisationError("amount", f"not a number: {text[:30]!r}") from None


def normalise_money(amount: str | int | float | Decimal, currency: str) -> tuple[Decimal, str]:
    """Return ``(amount, currency)`` with the amount a Decimal in the currency's minor units.

    The amount is never taken through float arithmetic: a float is converted via ``str()``
    first. It is rounded half-even to the currency's minor units (0 for JPY, KRW, VND, CLP, ISK,
    UGX, XAF, XOF...; 3 for BHD, KWD, OMR, JOD, TND, IQD, LYD; 2 for most). Strings may carry
    thousands separators ("1,299.00", "1,299"); a comma that could be a decimal comma ("19,90")
    is refused rather than guessed. NaN, infinities, booleans and non-numeric strings raise
    ``NormalisationError("amount", reason)``; an unknown currency raises
    ``NormalisationError("currency", reason)``.
    """
    code = normalise_currency(currency)
    number = _parse_amount(amount)
    try:
        result = number.quantize(_QUANTUM[_MINOR_UNITS.get(code, 2)], rounding=ROUND_HALF_EVEN)
    except InvalidOperation:
        # quantize() refuses when the result needs more digits than the context's precision.
        raise NormalisationError("amount", "too large") from None
    if result.is_zero() and result.is_signed():
        result = abs(result)  # "-0.00" -> "0.00"
    return result, code


# --------------------------------------------------------------------------------------------------
# Timestamp
# --------------------------------------------------------------------------------------------------

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: Numbers above this are epoch milliseconds (HubSpot), below it seconds: 1e11 seconds is the year
#: 5138, and 1e11 milliseconds is 1973.
_MS_THRESHOLD: Final = 1e11
_MIN_YEAR: Final = 1970
_MAX_YEAR: Final = 2100
# Digit strings long enough to be epoch seconds or ms; shorter ones ("20260105") are ISO dates.
_EPOCH_STRING: Final = re.compile(r"-?\d{9,}(?:\.\d+)?")


def normalise_timestamp(value: str | int | float | Decimal | datetime) -> datetime:
    """Return an aware datetime in UTC.

    Strings are ISO 8601 ("2026-01-05T10:00:00Z", offsets such as "+01:00", a space instead of
    "T"), RFC 2822 ("Mon, 05 Jan 2026 10:00:00 GMT") or digit strings of epoch time. Naive strings
    and datetimes are taken as UTC. Numbers are Unix epoch seconds, or milliseconds when above
    1e11 (HubSpot sends milliseconds). Booleans, NaN and years before 1970 or after 2100 raise
    ``NormalisationError("timestamp", reason)``.
    """
    if type(value) is str and len(value) <= 64:  # nearly every call: the str branch below, first
        return _parse_timestamp(value)
    if isinstance(value, bool):
        raise NormalisationError("timestamp", "a boolean is not a timestamp")
    if isinstance(value, datetime):
        return _to_utc(value)
    if isinstance(value, date):
        return _check_year(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if isinstance(value, int | float | Decimal):
        return _from_epoch(value)
    if isinstance(value, str):
        if len(value) > 64:
            raise NormalisationError("timestamp", "too long to be a timestamp")
        return _parse_timestamp(value)
    if value is None:
        raise NormalisationError("timestamp", "missing")
    raise NormalisationError("timestamp", f"not a timestamp ({type(value).__name__})")


def _from_epoch(value: int | float | Decimal) -> datetime:
    if (isinstance(value, float) and not math.isfinite(value)) or (
        isinstance(value, Decimal) and not value.is_finite()  # math.isfinite refuses sNaN
    ):
        raise NormalisationError("timestamp", "not a finite number")
    # Integers stay integers (timedelta keeps whole milliseconds exact, where value / 1000 would
    # round); a fraction goes through float, which is exact enough for microseconds.
    number: int | float = value if isinstance(value, int) else float(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        number = int(value)
    try:
        if abs(number) > _MS_THRESHOLD:
            moment = _EPOCH + timedelta(milliseconds=number)
        else:
            moment = _EPOCH + timedelta(seconds=number)
    except (OverflowError, ValueError):
        raise NormalisationError("timestamp", f"year out of range {_MIN_YEAR}..{_MAX_YEAR}") from None
    return _check_year(moment)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _parse_timestamp(value: str) -> datetime:
    text = value.strip()
    if not text:
        raise NormalisationError("timestamp", "empty")
    if _EPOCH_STRING.fullmatch(text):
        return _from_epoch(Decimal(text))
    try:
        # fromisoformat wants an upper-case "T" and "Z"; upper-casing changes nothing else in ISO.
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        moment = _parse_rfc2822(text)
    return _to_utc(moment)


def _parse_rfc2822(text: str) -> datetime:
    """Parse an RFC 2822 date ("Mon, 05 Jan 2026 10:00:00 GMT"), as some APIs and CSVs send."""
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise NormalisationError("timestamp", f"not an ISO 8601 timestamp: {text[:40]!r}") from None
    # email.utils reads any year below 100 as a two-digit year, so "0001" would become 2001; a
    # "0001-01-01" placeholder must be refused, not moved to a plausible date.
    long_numbers = [token for token in text.replace(",", " ").split() if token.isdigit() and len(token) > 2]
    if long_numbers and str(moment.year) not in long_numbers:
        raise NormalisationError("timestamp", f"year out of range {_MIN_YEAR}..{_MAX_YEAR}")
    return moment


def _to_utc(moment: datetime) -> datetime:
    """Naive means UTC; aware is converted. Then the year must be in range."""
    try:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # an offset took year 1 or 9999 out of datetime's range
        raise NormalisationError("timestamp", f"year out of range {_MIN_YEAR}..{_MAX_YEAR}") from None
    return _check_year(moment)


def _check_year(moment: datetime) -> datetime:
    if not _MIN_YEAR <= moment.year <= _MAX_YEAR:
        raise NormalisationError("timestamp", f"year {moment.year} out of range {_MIN_YEAR}..{_MAX_YEAR}")
    return moment


# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NormaliseOptions:
    """How ``normalise_record`` reads values that are ambiguous without context.

    ``default_region`` is the ISO 3166-1 alpha-2 region a phone number without an international
    prefix is read in (a connector for a UK shop sets "GB").
    """

    default_region: str = "US"


_DEFAULT_OPTIONS: Final = NormaliseOptions()

_ORDER_STATUSES: Final[dict[str, OrderStatus]] = {
    **dict.fromkeys(
        ("paid", "fulfilled", "succeeded", "success", "complete", "completed", "captured", "settled"),
        "paid",
    ),
    **dict.fromkeys(
        ("pending", "processing", "open", "unpaid", "authorized", "authorised", "on_hold", "on-hold"),
        "pending",
    ),
    **dict.fromkeys(("refunded", "returned"), "refunded"),
    **dict.fromkeys(("cancelled", "canceled", "voided", "void", "failed", "declined"), "cancelled"),
}

_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD: Final = re.compile(r"[^a-z0-9]+")
_SHORT: Final = 200


@functools.lru_cache(maxsize=4096)
def _snake_case(key: str) -> str:
    """``"First Name"``, ``"firstName"`` and ``"first-name"`` all become ``"first_name"``."""
    return _NON_WORD.sub("_", _CAMEL_BOUNDARY.sub("_", key.strip()).lower()).strip("_")


def _short(value: object, limit: int = _SHORT) -> str:
    """A bounded, never-raising text form of any value, for ``DroppedValue.value`` and reasons."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:
        text = f"<unprintable {type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reason(exc: Exception) -> str:
    """The reason to record for a normaliser's exception; unexpected ones are named, not hidden."""
    if isinstance(exc, NormalisationError):
        return exc.reason
    return f"unexpected error: {type(exc).__name__}: {_short(str(exc), 120)}"


def _jsonable(value: object, depth: int = 0) -> Any:
    """Convert any value to JSON-able data without raising (for ``Quarantined.raw``)."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        # json can write any int, but Python refuses str() of ints beyond 4300 digits.
        return value if value.bit_length() <= 64 else _short(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if depth >= 20:
        return _short(value)
    if isinstance(value, Mapping):
        try:
            return {
                _short(k) if not isinstance(k, str) else k: _jsonable(v, depth + 1) for k, v in value.items()
            }
        except Exception:
            return _short(value)
    if isinstance(value, list | tuple | set | frozenset):
        try:
            return [_jsonable(v, depth + 1) for v in value]
        except Exception:
            return _short(value)
    return _short(value)


def _raw_of(draft: RecordDraft) -> dict[str, Any]:
    try:
        raw = getattr(draft, "raw", None)
        if isinstance(raw, Mapping):
            converted = _jsonable(raw)
        else:
            converted = _jsonable(
                {name: getattr(draft, name, None) for name in RecordDraft.model_fields if name != "raw"}
            )
        return converted if isinstance(converted, dict) else {"value": converted}
    except Exception:  # pragma: no cover - _jsonable does not raise; this is the last guard
        return {}


def _plain(text: str) -> str:
    """``text`` as an exact ``str``, as pydantic's validation would make it.

    Records are assembled without validation (every value is normalised here already), so the one
    thing validation did that matters is done here: a ``str`` subclass, which only a foreign
    ``__str__`` or ``isoformat`` can hand back, becomes a plain string with the same characters.
    """
    return text if type(text) is str else str.__str__(text)


def _text_id(value: object) -> str:
    """A source or source id as text: strings trimmed, ints via str(), anything else empty."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return _plain(str(value))
    return ""


def _scalar_text(value: object) -> str:
    """The text form of a scalar trait value, whitespace collapsed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, float) and not math.isfinite(value):
        raise NormalisationError("trait", "not a finite number")
    if isinstance(value, Decimal) and not value.is_finite():
        raise NormalisationError("trait", "not a finite number")
    if isinstance(value, int | float | Decimal):
        return _plain(str(value))
    if isinstance(value, datetime | date):
        return _plain(value.isoformat())
    if isinstance(value, dict | list | tuple | set | frozenset):
        raise NormalisationError("trait", f"a {type(value).__name__} is not allowed in a trait, only scalars")
    raise NormalisationError("trait", f"unsupported type {type(value).__name__}")


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Collector:
    """Accumulates dropped values for one record."""

    def __init__(self) -> None:
        self.dropped: list[DroppedValue] = []

    def drop(self, field: str, value: object, reason: str) -> None:
        self.dropped.append(DroppedValue(field=field, value=_short(value), reason=reason))


def _identifiers(
    values: object, kind: str, normalise: Callable[[Any], str], collector: _Collector
) -> list[str]:
    """Normalise a list of emails or phones, dropping bad ones and duplicates (order kept)."""
    found: dict[str, None] = {}
    items = values if isinstance(values, list | tuple) else [values]
    for raw in items:
        if _is_blank(raw):
            continue
        try:
            text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
            found.setdefault(normalise(text), None)
        except Exception as exc:
            collector.drop(kind, raw, _reason(exc))
    return list(found)


def _traits(traits: object, collector: _Collector) -> dict[str, str]:
    result: dict[str, str] = {}
    if not isinstance(traits, Mapping):
        if not _is_blank(traits):
            collector.drop("traits", traits, "traits must be a mapping of name to value")
        return result
    for raw_key, value in traits.items():
        key = _snake_case(raw_key) if isinstance(raw_key, str) else _snake_case(_short(raw_key))
        field = f"traits.{key}"
        if _is_blank(value):
            continue
        if not key:
            collector.drop("traits", value, f"trait name {_short(raw_key, 40)!r} is empty after snake_case")
            continue
        if key in result:
            collector.drop(field, value, f"duplicate trait: {_short(raw_key, 40)!r} is also {key!r}")
            continue
        try:
            text = _scalar_text(value)
            if key in ("first_name", "last_name"):
                text = normalise_name(text)
            elif key == "country":
                text = normalise_country(text)
        except Exception as exc:
            collector.drop(field, value, _reason(exc))
            continue
        if text:
            result[key] = text
    return result


def _consent(consent: object, updated_at: datetime, collector: _Collector) -> dict[str, ConsentState]:
    result: dict[str, ConsentState] = {}
    if not isinstance(consent, Mapping):
        if not _is_blank(consent):
            collector.drop("consent", consent, "consent must be a mapping of channel to decision")
        return result
    for raw_channel, value in consent.items():
        channel = (raw_channel if isinstance(raw_channel, str) else _short(raw_channel)).strip().lower()
        field = f"consent.{channel}"
        if not channel:
            collector.drop("consent", value, "empty channel name")
            continue
        try:
            if isinstance(value, bool):
                state = ConsentState.assemble(granted=value, changed_at=updated_at)
            elif isinstance(value, Mapping):
                granted = value.get("granted")
                if not isinstance(granted, bool):
                    raise NormalisationError(field, "granted must be true or false")
                changed: Any = value.get("changed_at")
                changed_at = updated_at if _is_blank(changed) else normalise_timestamp(changed)
                state = ConsentState.assemble(granted=granted, changed_at=changed_at)
            else:
                raise NormalisationError(field, "must be true/false or {granted, changed_at}")
        except Exception as exc:
            collector.drop(field, value, _reason(exc))
            continue
        result[channel] = state
    return result


def _order(raw: object) -> Order:
    def fail(reason: str) -> NormalisationError:
        return NormalisationError("order", reason)

    if not isinstance(raw, Mapping):
        raise fail(f"an order must be a mapping, not {type(raw).__name__}")
    order_id = _text_id(raw.get("id"))
    if not order_id:
        raise fail("missing id")
    for name in ("total", "currency", "created_at"):
        if _is_blank(raw.get(name)):
            raise fail(f"missing {name}")
    try:
        total, currency = normalise_money(raw["total"], raw["currency"])
        created_at = normalise_timestamp(raw["created_at"])
    except NormalisationError as exc:
        # Say which part of the order was wrong: "total: not a number".
        part = {"amount": "total", "timestamp": "created_at"}.get(exc.field, exc.field)
        raise fail(f"{part}: {exc.reason}") from None
    status_raw = raw.get("status")
    status: OrderStatus = "paid"
    if not _is_blank(status_raw):
        if not isinstance(status_raw, str):
            raise fail("status must be a string")
        key = status_raw.strip().lower().replace(" ", "_")
        found = _ORDER_STATUSES.get(key)
        if found is None:
            raise fail(f"unknown status {_short(status_raw, 40)!r}")
        status = found
    return Order.assemble(id=order_id, total=total, currency=currency, created_at=created_at, status=status)


def _orders(orders: object, collector: _Collector) -> tuple[Order, ...]:
    result: dict[str, Order] = {}
    if not isinstance(orders, list | tuple):
        if not _is_blank(orders):
            collector.drop("orders", orders, "orders must be a list")
        return ()
    for i, raw in enumerate(orders):
        field = f"orders[{i}]"
        try:
            order = _order(raw)
        except Exception as exc:
            collector.drop(field, raw, _reason(exc))
            continue
        if order.id in result:
            collector.drop(field, raw, f"duplicate order id {order.id!r}; the first one is kept")
            continue
        result[order.id] = order
    return tuple(result.values())


def normalise_record(
    draft: RecordDraft, options: NormaliseOptions = _DEFAULT_OPTIONS
) -> SourceRecord | Quarantined:
    """Normalise a connector's draft into a ``SourceRecord``, or quarantine it with a reason.

    Each value goes through its normaliser; a value that fails is left out and listed in
    ``dropped`` with the reason, and the record goes on. The record itself is quarantined only if
    it has no source or source id, no valid ``updated_at``, or no valid email and no valid phone
    (the reason then lists what was dropped). Identifiers are the emails, the E.164 phones and
    the record's own ``source:object_type:source_id``, deduplicated and sorted. ``None`` and blank
    values are treated as absent, not dropped. This function never raises: whatever the draft
    holds, the result is exactly one of the two types.
    """
    source = source_id = ""
    try:
        source = _text_id(getattr(draft, "source", None))
        source_id = _text_id(getattr(draft, "source_id", None))
        return _normalise_record(draft, options, source, source_id)
    except Exception as exc:  # the last guard: a bug here must quarantine, not stop a sync
        return Quarantined(
            source=source,
            source_id=source_id,
            reason=f"unexpected error while normalising: {type(exc).__name__}: {_short(str(exc), 120)}",
            raw=_raw_of(draft),
        )


def _normalise_record(
    draft: RecordDraft, options: NormaliseOptions, source: str, source_id: str
) -> SourceRecord | Quarantined:
    def quarantine(reason: str) -> Quarantined:
        return Quarantined(source=source, source_id=source_id, reason=reason, raw=_raw_of(draft))

    if not source:
        return quarantine("missing source")
    if not source_id:
        return quarantine("missing source id")
    object_type = _text_id(draft.object_type) or "contact"

    try:
        raw_updated_at: Any = draft.updated_at  # the draft field is Any: anything may arrive
        updated_at = normalise_timestamp(raw_updated_at)
    except Exception as exc:
        return quarantine(f"updated_at missing or invalid: {_reason(exc)}")

    collector = _Collector()
    region = options.default_region
    emails = _identifiers(draft.emails, "email", normalise_email, collector)
    phones = _identifiers(draft.phones, "phone", lambda v: normalise_phone(v, region), collector)
    if not emails and not phones:
        reason = "no usable identifier (no valid email or phone)"
        if collector.dropped:
            details = ", ".join(
                f"{d.field} {_short(d.value, 60)!r}: {d.reason}"
                for d in collector.dropped
                if d.field in ("email", "phone")
            )
            reason = f"{reason}; dropped: {details}"
        return quarantine(reason)

    traits = _traits(draft.traits, collector)
    consent = _consent(draft.consent, updated_at, collector)
    orders = _orders(draft.orders, collector)

    # Every value below is normalised to its field's exact type, so the models are assembled, not
    # validated a second time (tests/unit/test_performance_equivalence.py checks both agree).
    identifiers = [_email_identifier(email) for email in emails]
    identifiers += [_phone_identifier(phone) for phone in phones]
    identifiers.append(Identifier.assemble(kind="source", value=f"{source}:{object_type}:{source_id}"))
    identifiers.sort(key=lambda ident: (ident.kind, ident.value))

    return SourceRecord.assemble(
        source=source,
        object_type=object_type,
        source_id=source_id,
        updated_at=updated_at,
        identifiers=tuple(identifiers),
        traits=traits,
        consent=consent,
        orders=orders,
        dropped=tuple(collector.dropped),
    )


# One frozen Identifier per email or phone, shared by the records that carry it (a person's records
# in several tools): fewer objects to build and for the garbage collector to walk. One cache per kind,
# so that the key is the value itself (a cache keyed on several arguments keeps a tuple per entry).


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _email_identifier(value: str) -> Identifier:
    return Identifier.assemble(kind="email", value=value)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _phone_identifier(value: str) -> Identifier:
    return Identifier.assemble(kind="phone", value=value)


def count_outcomes(results: Iterable[SourceRecord | Quarantined]) -> tuple[int, int]:
    """Return ``(normalised, quarantined)``: how many results are records and how many are not."""
    normalised = quarantined = 0
    for result in results:
        if isinstance(result, Quarantined):
            quarantined += 1
        else:
            normalised += 1
    return normalised, quarantined
