"""Shared identifier values in the link graph (core.linkage.graph): which holders of one email,
phone or national id a value joins, from the set of its holders alone, and when it joins no one
(more people than its kind's limit, or more holders than are compared).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from core.linkage.conflicts import Conflict, shared_identifier_conflicts
from core.linkage.fields import LinkageRecord
from core.linkage.graph_groups import _Groups, _positively_agree, _reasons
from core.linkage.graph_nodes import GraphNode
from core.linkage.linking import LinkResult, Refusal

__all__ = ["DEFAULT_PEOPLE_LIMITS", "MAX_HOLDERS_COMPARED"]

#: How many distinct people may share one value before it joins no one: the limits of
#: core.identity (email 8, phone 5), counted in people instead of records (one person in six tools is
#: one person). A national id is one person's, but its holders conflict when they are not (names and
#: birth dates), so it takes the email's limit: the limit is for junk values held by many.
DEFAULT_PEOPLE_LIMITS: Final[Mapping[str, int]] = MappingProxyType({"email": 8, "phone": 5, "national_id": 8})

#: Holders of one value compared pairwise at most (the comparison is quadratic); more people-level
#: records than this on one value is a shared mailbox or a placeholder, and it joins no one. The
#: store's index of a value stops listing holders at this size (core.link_index).
MAX_HOLDERS_COMPARED: Final = 64


@dataclass
class _Value:
    """The outcome for one identifier value: the pairs it joins, or why it joins no one."""

    pairs: list[tuple[int, int]]
    people: int
    refused: str = ""
    complete: bool = False
    """Any two holders may be joined (no two conflict): ``pairs`` lists a star, not every pair."""


def _value_conflicts(kind: str, a: LinkageRecord, b: LinkageRecord) -> tuple[Conflict, ...]:
    """Why two holders of one value are not one person. A national id is issued to one person, so
    its holders conflict only on the stated rule, different first names *and* different dates of
    birth (a first name replaced or swapped with the surname, and no birth date, is still them; so
    is a surname changed with the birth date); an email or a phone is shared by families and
    colleagues, so there an unknown birth date does not rescue different first names, and one first
    name does not rescue another surname and birth date (``shared_identifier_conflicts``)."""
    found = shared_identifier_conflicts(a, b)
    if kind == "national_id" and not {"first_name", "date_of_birth"} <= {c.field for c in found}:
        return ()
    return found


def _value_pairs(
    value: str,
    members: list[int],
    nodes: Sequence[GraphNode],
    limit: int | None,
    overloaded: bool,
    result: LinkResult,
) -> _Value:
    kind, _, shown = value.partition("#")
    persons = [m for m in members if nodes[m].person]
    if overloaded or len(persons) > MAX_HOLDERS_COMPARED:
        result.overloaded[value] = len(persons)
        return _Value([], len(persons), f"{kind} {shown} is held by more than {MAX_HOLDERS_COMPARED} records")
    records = {m: nodes[m].record for m in members}
    if len(members) == 2 and (limit is None or limit >= 2):
        # Two holders (most shared values: one person in two tools) are at most two people, within
        # any limit: they are joined unless they conflict.
        x, y = members
        found = _value_conflicts(kind, records[x], records[y])
        if not found:
            return _Value(
                [(x, y)],
                1 if len(persons) == 2 and _positively_agree(records[x], records[y]) else len(persons),
                complete=True,
            )
        result.refused.append(
            Refusal(
                records[x].key, records[y].key, f"shared {kind} {shown} but {_reasons(found)}", "conflict"
            )
        )
        return _Value([], len(persons))
    conflicts: dict[tuple[int, int], tuple[Conflict, ...]] = {}
    for i, x in enumerate(members):
        for y in members[i + 1 :]:
            found = _value_conflicts(kind, records[x], records[y])
            if found:
                conflicts[(x, y)] = found
    # The people behind the value: groups of holders that positively agree and conflict with nothing.
    groups = _Groups([records[m] for m in members])
    position = {m: i for i, m in enumerate(members)}
    agreeing: list[tuple[int, int]] = []
    for i, x in enumerate(members):
        for y in members[i + 1 :]:
            if (x, y) in conflicts or not _positively_agree(records[x], records[y]):
                continue
            if groups.find(position[x]) != groups.find(position[y]) and groups.conflict(
                position[x], position[y], ()
            ):
                continue  # it would bridge two holders that conflict
            groups.union(position[x], position[y])
            agreeing.append((x, y))
    people = len({groups.find(position[m]) for m in persons})
    if limit is not None and people > limit:
        result.overloaded[value] = people
        return _Value([], people, f"{kind} {shown} is shared by {people} people, more than {limit}")
    for (x, y), found in conflicts.items():
        result.refused.append(
            Refusal(
                records[x].key, records[y].key, f"shared {kind} {shown} but {_reasons(found)}", "conflict"
            )
        )
    if not conflicts:
        return _Value([(members[0], other) for other in members[1:]], people, complete=True)
    return _Value(agreeing, people)
