"""How many people surely hold a value: the count that decides whether a trained model keeps it.

``identity train`` keeps a first name, last name or town in the model file only when at least
``tf_min_people`` people hold it (core.linkage.training, step 4): the file is deployed with every
function and no erasure reaches it, so it must name nobody. Counting people by exact identifiers
(core.linkage.training's ``_people``) is not enough: a register's duplicates differ by a keystroke in
the birth date, the phone or the street, and each would count as another person (attack22: FEBRL3's
model kept 46 last names and 136 towns fewer than five people hold, some held by one person alone).

So the records holding a value are tied when they share a *strong* piece of other evidence (a birth
date, a postcode, a national id, an email or phone key) or two pieces of two fields, weak ones
included (the other name, a house number, a street, a town, a birth year, a postcode's first three
characters, a name's letters in any order, which a transposition keeps); of two coarse ones (a name,
a street, a town) only a full name or a street of a town: a sample of few names and towns holds
other such pairs by the dozen, and the union would chain them. A name alone ties nobody: five Ann
Lees born in five years are five people; nor does a street (every town has a High Street). Counting
a name, the other name makes a full name with it: one full name ties its records when they tell the
same birth or none, wherever they place her (one person on five channels is one holder, her old and
new towns too).
Strangers who share such pieces are counted once too, so the count errs low: a value is kept only
when that many people surely hold it. The share the model weighs a value by is still counted in
people (``_people``); this count only decides whether the value is kept.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Final

from core.linkage.fields import LinkageRecord

__all__ = ["distinct_holders", "union"]

#: Pieces that tie two holders of a value only together with another piece.
_WEAK: Final = frozenset(
    {
        "first_name",
        "last_name",
        "house",
        "street",
        "city",
        "year",
        "area",
        "first_letters",
        "last_letters",
        "first_initial",
    }
)
#: Weak pieces of few values (a name, a street, a town): two of them tie holders only when they make
#: a full name or a street of a town; in a sample of few names and towns any other such pair is held
#: by strangers by the dozen, and the union would chain them all into one.
_COARSE: Final = frozenset({"first_name", "last_name", "street", "city"})
_COARSE_PAIRS: Final = (frozenset({"first_name", "last_name"}), frozenset({"street", "city"}))


def union(ties: Sequence[Sequence[tuple[str, ...]]]) -> list[int]:
    """Each item's group (an index): items sharing any of their ties are one (a union-find)."""
    parent = list(range(len(ties)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_of: dict[tuple[str, ...], int] = {}
    for i, tied in enumerate(ties):
        for tie in tied:
            j = first_of.setdefault(tie, i)
            if j != i:
                parent[root(i)] = root(j)
    return [root(i) for i in range(len(ties))]


def _evidence(record: LinkageRecord) -> list[tuple[str, str]]:
    """Each piece of a record's identity as (the field it comes from, its value)."""
    first = record.first_name or record.first_name_script
    pieces = [("email", k) for k in record.email_keys] + [("phone", p) for p in record.phones]
    for field, value in (
        ("first_name", first),
        ("first_letters", "".join(sorted(first)) if first else None),
        ("first_initial", first[:1] if first else None),
        ("last_name", record.last_name),
        ("last_letters", "".join(sorted(record.last_name)) if record.last_name else None),
        ("born", record.date_of_birth or record.date_of_birth_slip),
        ("year", record.birth_year),
        ("postcode", record.postal_code),
        ("area", record.postal_code[:3] if record.postal_code else None),
        ("street", record.street_key),
        ("house", record.house_number),
        ("city", record.city),
        ("id", record.national_id),
    ):
        if value:
            pieces.append((field, value))
    return pieces


#: Pieces read from one field (a name and its letters, a birth date and its year): two of them
#: shared are one piece of evidence, not two.
_SOURCE: Final = {
    "first_letters": "first_name",
    "last_letters": "last_name",
    "year": "born",
    "area": "postcode",
}


def _ties(pieces: list[tuple[str, str]]) -> list[tuple[str, ...]]:
    """What ties a record to another holder of the value: a strong piece shared, or two pieces of
    two fields (of two coarse ones, a full name or a street of a town)."""
    strong: list[tuple[str, ...]] = [p for p in pieces if p[0] not in _WEAK]
    return strong + [a + b for i, a in enumerate(pieces) for b in pieces[i + 1 :] if _pairs(a[0], b[0])]


def _pairs(a: str, b: str) -> bool:
    """Whether two pieces of these fields, shared, tie two holders."""
    if "first_initial" in (a, b):  # a surname with the first name's initial: a full name, no more
        # (attack30: one person's Ingrid, Ingrid Marie, I., Inga in one village were five holders)
        other = b if a == "first_initial" else a
        return _SOURCE.get(other, other) == "last_name"
    a, b = _SOURCE.get(a, a), _SOURCE.get(b, b)
    if a == b:
        return False
    return not (a in _COARSE and b in _COARSE) or frozenset({a, b}) in _COARSE_PAIRS


#: The pieces that come from each field a model counts values of (none of them ties its holders:
#: every record counted holds the value, and its letters).
_OWN: Final = {
    "first_name": frozenset({"first_name", "first_letters", "first_initial"}),
    "last_name": frozenset({"last_name", "last_letters"}),
    "city": frozenset({"city"}),
}


def distinct_holders(
    records: Sequence[LinkageRecord],
    field: str,
    value_of: Callable[[LinkageRecord], str | None],
    values: set[str],
) -> Counter[str]:
    """For each of ``values`` of ``field``, how many people surely hold it (the module's rule)."""
    own = _OWN.get(field, frozenset({field}))
    groups: dict[str, list[LinkageRecord]] = {}
    for record in records:
        value = value_of(record)
        if value in values:
            groups.setdefault(value, []).append(record)
    other = _OTHER_NAME.get(field)
    counts: Counter[str] = Counter()
    for value, holding in groups.items():
        evidence = [_ties([p for p in _evidence(r) if p[0] not in own]) for r in holding]
        if other is not None:
            evidence = [ties + _full_name_ties(r, other) for ties, r in zip(evidence, holding, strict=True)]
        counts[value] = len(set(union(evidence)))
    return counts


#: The other name of a name counted: with the counted one, a full name.
_OTHER_NAME: Final = {"first_name": "last_name", "last_name": "first_name"}


def _full_name_ties(record: LinkageRecord, other: str) -> list[tuple[str, ...]]:
    """Counting a name, every holder holds it, so the other name completes a full name: one full name
    ties its records when they tell the same birth, or none (attack23: one person reached on five
    channels, her full name and her town in each, no birth date, counted as five people and put her
    names in the model). The place is not part of the tie (revA29: her channels in her old town, her
    new one, her office's and none were four holders again): records of one full name in two towns
    are not surely two people. A birth told differently keeps strangers of one name apart, so a
    sample of few names and towns (a birth date each) does not chain.

    Counting a surname, the first name ties by its initial (attack30: one person whose tools keep
    ``Ingrid``, ``Ingrid Marie``, ``I.``, ``Ingrid M.`` and ``Inga`` was five holders): the matcher
    itself takes an initial for the name it starts, so no tie of whole first names can hold her;
    strangers of one surname and one initial with no birth told are counted once, which errs low."""
    if other == "last_name":
        name = record.last_name
    else:
        first = record.first_name or record.first_name_script
        name = first[:1] if first else None
    if not name:
        return []
    born = record.date_of_birth or record.date_of_birth_slip or record.birth_year or ""
    return [("full", name, born)]
