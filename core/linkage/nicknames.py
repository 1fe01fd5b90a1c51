"""First names that are nicknames of each other (``robert`` / ``bob``), from a vendored, licensed list.

The list is ``data/nicknames.csv`` (carltonnorthern/nicknames, Apache-2.0; see ``data/README.md``).
It is read once, on first use, into a set of unordered pairs of folded names.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources

__all__ = ["are_nicknames", "is_listed_name", "nickname_pairs", "related_names"]


@cache
def nickname_pairs() -> frozenset[tuple[str, str]]:
    """Every related pair of names, stored in both orders, letters only (``mary-jane`` -> ``maryjane``)."""
    text = resources.files("core.linkage").joinpath("data/nicknames.csv").read_text(encoding="utf-8")
    pairs: set[tuple[str, str]] = set()
    for row in csv.DictReader(text.splitlines()):
        if row.get("relationship") != "has_nickname":
            continue
        a = "".join(ch for ch in (row.get("name1") or "").lower() if ch.isalpha())
        b = "".join(ch for ch in (row.get("name2") or "").lower() if ch.isalpha())
        if a and b and a != b:
            pairs.add((a, b))
            pairs.add((b, a))
    return frozenset(pairs)


def are_nicknames(a: str, b: str) -> bool:
    """True when one of the two (folded) first names is listed as a nickname of the other."""
    return (a, b) in nickname_pairs()


@cache
def _related() -> dict[str, tuple[str, ...]]:
    related: dict[str, set[str]] = {}
    for a, b in nickname_pairs():
        related.setdefault(a, set()).add(b)
    return {name: tuple(sorted(others)) for name, others in related.items()}


def related_names(name: str) -> tuple[str, ...]:
    """The names listed as nicknames of ``name`` or as what it is a nickname of (``kate`` ->
    ``katherine``, ``catherine``, ...), sorted; empty when the list does not know it."""
    return _related().get(name, ())


def is_listed_name(name: str) -> bool:
    """Whether the (folded) first name is in the list, as a name or a nickname. The list holds the
    names that have nicknames (about 2,000), so a name missing from it may still be a name."""
    return name in _related()
