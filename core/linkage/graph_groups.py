"""What keeps records apart in the link graph (core.linkage.graph): the conflicts between two
records, the positive agreement of two holders of one value, and ``_Groups``, the union-find that
keeps each group's evidence so that a join is refused when it would put two conflicting records
into one component.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from operator import attrgetter
from typing import Final

from core.linkage.comparisons import comparison_named
from core.linkage.conflicts import Conflict, conflict_evidence
from core.linkage.fields import LinkageRecord

_first_name = comparison_named("first_name").compare
_dob = comparison_named("date_of_birth").compare
_FIRST_NAME_AGREES: Final = 2  # exact, nickname, Jaro-Winkler >= 0.92
_DOB_AGREES: Final = 0  # the same date of birth
_STRICT: Final = frozenset({"first_name", "date_of_birth"})
_record_key: Final = attrgetter("key")


def _positively_agree(a: LinkageRecord, b: LinkageRecord) -> bool:
    first = _first_name(a, b)
    return (0 <= first <= _FIRST_NAME_AGREES) or _dob(a, b) == _DOB_AGREES


def _records_conflict(a: LinkageRecord, b: LinkageRecord, vetoes: Collection[str]) -> tuple[Conflict, ...]:
    """What keeps two records out of one component: a vetoed field (two birth dates) or the shared
    identifier conflict."""
    evidence = conflict_evidence(a, b)
    if not evidence:
        return ()
    vetoed = tuple(c for c in evidence if c.field in vetoes)
    # The strict rule (different first names *and* birth dates, which is what
    # ``_value_conflicts("national_id", a, b)`` finds): the scores already weighed what the records
    # say; an unknown birth date rescuing nobody is for a shared inbox (``_value_conflicts``). Read
    # from the one evidence, the vetoed conflicts first (tests/unit/linkage/test_fast_paths.py
    # checks it against the two calls it stands for).
    if {c.field for c in evidence} >= _STRICT:
        return vetoed + tuple(c for c in evidence if c.field not in vetoes)
    return vetoed


class _Groups:
    """Union-find over node indexes that keeps, per group, the distinct evidence conflicts are read
    from (first name, date of birth, national id) with one record holding each."""

    __slots__ = ("evidence", "parent")

    def __init__(self, records: Sequence[LinkageRecord]) -> None:
        self.parent = list(range(len(records)))
        self.evidence: list[dict[tuple[str | None, str | None, str | None], LinkageRecord]] = [
            {(r.first_name, r.date_of_birth, r.national_id): r}
            if (r.first_name or r.date_of_birth or r.national_id)
            else {}
            for r in records
        ]

    def find(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        keep, gone = min(ra, rb), max(ra, rb)
        self.parent[gone] = keep
        merged = self.evidence[keep]
        for signature, record in self.evidence[gone].items():
            merged.setdefault(signature, record)
        self.evidence[gone] = {}

    def conflict(
        self, a: int, b: int, vetoes: Collection[str]
    ) -> tuple[LinkageRecord, LinkageRecord, tuple[Conflict, ...]] | None:
        """The first conflicting pair across the groups of ``a`` and ``b`` (in key order), if any."""
        held = self.evidence[self.find(a)]
        left = sorted(held.values(), key=_record_key) if len(held) > 1 else held.values()
        held = self.evidence[self.find(b)]
        right = sorted(held.values(), key=_record_key) if len(held) > 1 else held.values()
        for x in left:
            for y in right:
                found = _records_conflict(x, y, vetoes)
                if found:
                    first, second = (x, y) if x.key < y.key else (y, x)
                    return first, second, found
        return None


def _reasons(conflicts: Iterable[Conflict]) -> str:
    return ", ".join(c.reason for c in conflicts)
