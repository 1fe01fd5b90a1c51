"""Conflict evidence: what two records say that one person cannot both be.

Two guardrails read it:

- **A shared email or phone does not join records whose other evidence conflicts.** A family inbox
  or a switchboard phone is held by several people; their records give different first names, and
  dates of birth that do not agree. ``shared_identifier_conflicts`` names what conflicts.
- **A fuzzy link never overrides a conflicting exact identifier**, such as two different dates of
  birth: ``vetoing_conflicts`` keeps the conflicts in the model's veto fields, and such a pair goes
  to review instead of being linked.

"Different" means beyond the usual typing slips, so the same person typed twice does not conflict:
first names are not in conflict when they are equal, nicknames of each other (Bob / Robert), an
initial, swapped with the last name, or within Jaro-Winkler 0.80 (Jon / John); dates of birth are
not in conflict when equal, a day apart, day and month swapped, or one digit apart. A field that
either record lacks never conflicts.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib.resources import files
from types import MappingProxyType
from typing import Final

from rapidfuzz.distance import JaroWinkler

from core.linkage.comparisons import comparison_named
from core.linkage.fields import LinkageRecord

__all__ = [
    "CONFLICT_FIELDS",
    "CONFLICT_LEVELS",
    "Conflict",
    "conflict_evidence",
    "shared_identifier_conflicts",
    "vetoing_conflicts",
]


@dataclass(frozen=True, slots=True)
class Conflict:
    """One field on which the two records cannot both describe one person."""

    field: str
    reason: str


# Each conflict is one value whichever pair it is found on (a frozen dataclass: made once, not per
# pair; ingest reads conflicts on tens of thousands of pairs).
_FIRST_NAMES_DIFFER: Final = Conflict("first_name", "different first names")
_BIRTH_DATES_DIFFER: Final = Conflict("date_of_birth", "different dates of birth")
_NATIONAL_IDS_DIFFER: Final = Conflict("national_id", "different national ids")
_LAST_NAMES_DIFFER: Final = Conflict("last_name", "different last names")

_jw = JaroWinkler.normalized_similarity
_first_name = comparison_named("first_name").compare
_date_of_birth = comparison_named("date_of_birth").compare
_national_id = comparison_named("national_id").compare
_last_name = comparison_named("last_name").compare

# The level from which each field's comparison says "not the same value" (see the comparisons).
_FIRST_NAME_DIFFERENT: Final = comparison_named("first_name").levels.index("different")
_DOB_SAME_YEAR: Final = comparison_named("date_of_birth").levels.index("same_year")
_NATIONAL_ID_DIFFERENT: Final = comparison_named("national_id").levels.index("different")
_LAST_NAME_DIFFERENT: Final = comparison_named("last_name").levels.index("different")
#: Dates of birth that agree: equal, day and month swapped or a day apart, one digit apart.
_DOB_AGREEING: Final = frozenset(range(_DOB_SAME_YEAR))

#: The fields conflict evidence looks at.
CONFLICT_FIELDS: Final = ("first_name", "date_of_birth", "national_id")

#: Per conflict field, the levels of its comparison that are a conflict: what training measures
#: among a sample's matches to judge whether the field is reliable enough to veto on.
CONFLICT_LEVELS: Final[Mapping[str, frozenset[int]]] = MappingProxyType(
    {
        "first_name": frozenset({_FIRST_NAME_DIFFERENT}),
        "date_of_birth": frozenset(range(_DOB_SAME_YEAR, len(comparison_named("date_of_birth").levels))),
        "national_id": frozenset({_NATIONAL_ID_DIFFERENT}),
    }
)


def _script_names_differ(a: LinkageRecord, b: LinkageRecord) -> bool:
    """Two first names written in a script other than Latin (``first_name_script``), neither record
    holding a Latin one, that differ beyond a slip (Jaro-Winkler under 0.80, as for Latin names):
    ``Анна`` and ``Мария`` on one inbox are two sisters. Names in two scripts (``Анна``, ``美咲``)
    cannot be compared, and a Latin name against a native one (``Dmitry``, ``Дмитрий``) may be one
    person's two spellings: neither is evidence."""
    x, y = a.first_name_script, b.first_name_script
    if x is None or y is None or x == y or a.first_name is not None or b.first_name is not None:
        return False
    if _scripts(x) != _scripts(y):
        return False
    if "CJK" in _scripts(x):
        # One Chinese given name is written in simplified characters by a mainland tool and in
        # traditional ones by a Taiwanese or Hong Kong one (伟 / 偉). Two traditional characters of
        # one simplified form (發, 髮: 发) are two characters: a character matches the other's only as
        # its own simplified or traditional form.
        table = _simplified()
        if len(x) == len(y):
            y = "".join(
                p if table.get(ord(p)) == q or table.get(ord(q)) == p else q
                for p, q in zip(x, y, strict=True)
            )
        else:  # of two lengths, a character of one matches one of the other's in its own other form
            # (attack30: translating both to simplified made 髮 and 發華 one name again)
            y = "".join(
                next((p for p in x if table.get(ord(p)) == q or table.get(ord(q)) == p), q) for q in y
            )
    return _jw(x, y) < _SCRIPT_NAME_SLIP


@functools.cache
def _simplified() -> dict[int, str]:
    """Traditional Han characters to their simplified form, for ``str.translate``: the characters of
    OpenCC's ``TSCharacters.txt`` with exactly one simplified form (core/linkage/data/README.md). A
    character with several (乾: 干 or 乾, as in names) is left as written: two names that differ in it
    stay two names, rather than one person made of two."""
    text = files("core.linkage").joinpath("data", "han_simplified.txt").read_text(encoding="utf-8")
    return {ord(line[0]): line[2] for line in text.splitlines()}


#: The Jaro-Winkler similarity under which two first names differ beyond a slip (``jaro_winkler_0.80``).
_SCRIPT_NAME_SLIP: Final = 0.80


def _scripts(text: str) -> frozenset[str]:
    """The scripts of a name's letters, by the first word of each letter's Unicode name (``CYRILLIC``,
    ``GREEK``, ``CJK``, ``HIRAGANA``, ``HANGUL``, ...)."""
    return frozenset(unicodedata.name(ch, "?").split(" ")[0] for ch in text)


def conflict_evidence(a: LinkageRecord, b: LinkageRecord) -> tuple[Conflict, ...]:
    """Every field on which the two records conflict (empty when nothing does). Symmetric."""
    found: list[Conflict] = []
    if _first_name(a, b) >= _FIRST_NAME_DIFFERENT or _script_names_differ(a, b):
        found.append(_FIRST_NAMES_DIFFER)
    if _date_of_birth(a, b) >= _DOB_SAME_YEAR:
        found.append(_BIRTH_DATES_DIFFER)
    if _national_id(a, b) >= _NATIONAL_ID_DIFFERENT:
        found.append(_NATIONAL_IDS_DIFFER)
    return tuple(found)


def shared_identifier_conflicts(a: LinkageRecord, b: LinkageRecord) -> tuple[Conflict, ...]:
    """The evidence that two holders of one email, phone or national id are different people (empty:
    no evidence).

    Different first names while the dates of birth do not agree (they differ, or either is
    unknown); a different national id then adds to the reason. The birth date rescues a first name
    that is not in the nickname table (``Kate`` / ``Catherine`` born on one day); a different birth
    date alone is no conflict here, since one person's tools disagree on birth dates more often than
    a family shares an address with one first name (a default ``1900-01-01``, a typo, a replaced
    value). A different national id alone is no conflict either, for the same reason (a value
    replaced or typed into the wrong field: FEBRL's duplicates carry one in 25): the score weighs it
    (negatively), and a model that trusts its national ids vetoes on them (``vetoes``). A family or
    the colleagues behind a switchboard give different first names; that is the conflict.

    Different last names and different dates of birth, both known, conflict too: colleagues on one
    switchboard may share a first name (Ann Lee and Ann Wu), one person's tools rarely disagree on
    both (a married name, or a mistyped birth date, alone is still her).
    """
    found = conflict_evidence(a, b)
    fields = {c.field for c in found}
    if "first_name" in fields and _date_of_birth(a, b) not in _DOB_AGREEING:
        return found
    if "date_of_birth" in fields and _last_name(a, b) >= _LAST_NAME_DIFFERENT:
        # One first name, but another surname and another birth date: two colleagues called Ann on
        # one switchboard. Either alone is one person's tools disagreeing (a married name, a typo).
        return (_LAST_NAMES_DIFFER, *found)
    return ()


def vetoing_conflicts(a: LinkageRecord, b: LinkageRecord, vetoes: Collection[str]) -> tuple[Conflict, ...]:
    """The conflicts, among the model's veto fields, that stop a fuzzy link between the two."""
    return tuple(c for c in conflict_evidence(a, b) if c.field in vetoes)
