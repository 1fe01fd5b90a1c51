"""Names and other traits: ``normalise_name``, and the traits of a record (snake_case names,
scalar values, names and countries normalised)."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from core.errors import NormalisationError

from ._country import normalise_country
from ._limits import _CACHE_SIZE, _MAX_INPUT_LEN, MAX_TRAIT_CHARS, MAX_TRAIT_NAME_CHARS, MAX_TRAITS_BYTES
from ._values import _Collector, _is_blank, _plain, _reason, _short, _surrogate

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


#: What integrations write into a name field they have no value for (attack30: JavaScript's
#: ``String(undefined)``, ``String(null)``, ``String({})``; Python's ``str(None)``, ``str(nan)``; SQL's
#: NULL), as they write it: letter case counts, so the people named Null or Nan keep their names.
_PLACEHOLDER_NAMES: Final = frozenset(
    {
        "undefined",
        "null",
        "NULL",
        "None",
        "none",
        "nan",
        "NaN",
        "[object Object]",
        "(null)",
        "nil",
        "N/A",
        "n/a",
    }
)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _normalise_name(value: str) -> str:
    name = " ".join(value.split())
    if not name:
        raise NormalisationError("name", "empty")
    if not any(c.isalpha() for c in name):
        raise NormalisationError("name", "has no letters")
    if name in _PLACEHOLDER_NAMES:
        raise NormalisationError("name", f"{name!r} is what an integration writes for no value")
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


_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD: Final = re.compile(r"[^a-z0-9]+")


@functools.lru_cache(maxsize=4096)
def _snake_case(key: str) -> str:
    """``"First Name"``, ``"firstName"`` and ``"first-name"`` all become ``"first_name"``."""
    return _NON_WORD.sub("_", _CAMEL_BOUNDARY.sub("_", key.strip()).lower()).strip("_")


def _scalar_text(value: object) -> str:
    """The text form of a scalar trait value, whitespace collapsed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if len(value) > 2 * MAX_TRAIT_CHARS:  # refused before any work on a huge string
            raise NormalisationError("trait", f"longer than {MAX_TRAIT_CHARS} characters")
        if (bad := _surrogate(value)) is not None:
            raise NormalisationError("trait", f"invalid Unicode (a lone surrogate, {bad})")
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


def _traits(traits: object, collector: _Collector) -> dict[str, str]:
    result: dict[str, str] = {}
    if type(traits) is not dict and not isinstance(traits, Mapping):  # the ABC's check costs 0.4 us
        if not _is_blank(traits):
            collector.drop("traits", traits, "traits must be a mapping of name to value")
        return result
    for raw_key, value in traits.items():
        # Text names and values (nearly all) are read once per distinct pair: names and countries
        # recur across people, and a person's traits across their records.
        text_pair = type(value) is str and type(raw_key) is str
        trait = _text_trait(raw_key, value) if text_pair else _trait(raw_key, value)
        if trait is _BLANK:
            continue
        key, field, text, reason, shown = trait
        if not key:  # a name that cannot be one
            collector.drop(field, shown, reason)
        elif key in result:
            collector.drop(field, value, f"duplicate trait: {_short(raw_key, 40)!r} is also {key!r}")
        elif reason:
            collector.drop(field, shown, reason)
        elif text:
            result[key] = text
    return _within_budget(result, collector)


#: What ``_trait`` says of one name and value: ``(key, field, text, "", None)`` for a value read;
#: ``(key, field, "", reason, value)`` for one refused (a duplicate of an earlier name is refused
#: first, by ``_traits``); ``("", "traits", "", reason, shown)`` for a name that cannot be one;
#: ``_BLANK`` for a blank value (left out, not dropped). A refusal is ``_Collector.drop``'s
#: arguments: ``field, shown, reason``.
_Trait = tuple[str, str, str, str, object]
_BLANK: Final[_Trait] = ("", "", "", "", None)


def _trait(raw_key: object, value: object) -> _Trait:
    """One trait, read on its own: the part of ``_traits`` that depends on nothing else."""
    if _is_blank(value):
        return _BLANK
    name = raw_key if isinstance(raw_key, str) else _short(raw_key)
    if len(name) > MAX_TRAIT_NAME_CHARS:
        return "", "traits", "", f"a trait name may have {MAX_TRAIT_NAME_CHARS} characters at most", name
    if (bad := _surrogate(name)) is not None:
        # (snake_case would fold it into "_" and keep the value under a name the source never had)
        return "", "traits", "", f"trait name holds invalid Unicode (a lone surrogate, {bad})", name
    key = _snake_case(name)
    if not key:
        return "", "traits", "", f"trait name {_short(raw_key, 40)!r} is empty after snake_case", value
    field = f"traits.{key}"
    try:
        text = _scalar_text(value)
        if key in ("first_name", "last_name"):
            text = normalise_name(text)
        elif key == "country":
            text = normalise_country(text)
        if len(text) > MAX_TRAIT_CHARS:
            raise NormalisationError("trait", f"longer than {MAX_TRAIT_CHARS} characters")
    except Exception as exc:
        return key, field, "", _reason(exc), value
    return key, field, text, "", None


#: ``_trait`` of a text name and value, kept: only for exact ``str`` (a cache compares keys with
#: ``==``, and ``True == 1``).
_text_trait: Final = functools.lru_cache(maxsize=_CACHE_SIZE)(_trait)


def _within_budget(traits: dict[str, str], collector: _Collector) -> dict[str, str]:
    """The traits, the largest left out until names and values together fit ``MAX_TRAITS_BYTES``
    (a record is stored in one item; the known traits are short, so they stay)."""
    if 4 * (sum(map(len, traits)) + sum(map(len, traits.values()))) <= MAX_TRAITS_BYTES:
        return traits  # a character is at most 4 bytes of UTF-8: nearly every record, at once
    sizes = {
        key: len(key) + (len(text) if text.isascii() else len(text.encode())) for key, text in traits.items()
    }
    total = sum(sizes.values())
    if total <= MAX_TRAITS_BYTES:
        return traits
    for key in sorted(sizes, key=lambda k: (-sizes[k], k)):
        collector.drop(
            f"traits.{key}",
            traits.pop(key),
            f"the traits of one record may hold {MAX_TRAITS_BYTES // 1024} KB together; "
            "this one, the largest, was left out",
        )
        total -= sizes[key]
        if total <= MAX_TRAITS_BYTES:
            break
    return traits
