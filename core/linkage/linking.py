"""Decisions and the link graph: which records are one person, and why.

``decide(a, b, model)`` turns one pair into ``link``, ``review`` or ``no_link`` with its reason, from
the two records and the model only (never arrival order, never a merged profile). ``link_records``
runs the whole pure matcher over a set of records:

1. **Shared identifiers.** Records holding one email match key (core.linkage.email_keys) or one
   phone are joined, unless their other evidence conflicts (core.linkage.conflicts): when some
   holders of a value conflict, the value only joins holders that positively agree (same or
   related first name, or the same birth date) and conflict with nothing. The guardrail counts the
   distinct people behind a value, not its records: over the limit, the value joins no one.
2. **Fuzzy links.** Candidate pairs from the blocking keys are decided with the model; links above
   the threshold are edges, pairs between the thresholds are review items.
3. **A cap on fuzzy links per record.** A record keeps its ``max_fuzzy_links_per_record`` best
   fuzzy links (by weight, then key); a link stays only if both its records keep it, so one vague
   record cannot chain strangers together.
4. **Customers are the connected components** of the identifier and fuzzy edges.

Every edge keeps its reason and every refusal is listed, which is what ``explain`` prints. The
result is a function of the set of records: shuffling them changes nothing (a property test checks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

from core.linkage.blocking import candidate_pairs
from core.linkage.comparisons import comparison_named
from core.linkage.conflicts import Conflict, shared_identifier_conflicts, vetoing_conflicts
from core.linkage.fields import LinkageRecord
from core.linkage.model import LinkageModel, probability_from_weight
from core.linkage.scoring import PairScore, score_pair, weigh

__all__ = [
    "DEFAULT_PEOPLE_LIMITS",
    "Decision",
    "Edge",
    "LinkResult",
    "Outcome",
    "Refusal",
    "decide",
    "link_records",
]

Outcome = Literal["link", "review", "no_link"]

#: How many distinct people may share one email or phone before it joins no one: the limits of
#: core.identity, counted in people instead of records (one person in six tools is one person).
DEFAULT_PEOPLE_LIMITS: Final[Mapping[str, int]] = MappingProxyType({"email": 8, "phone": 5})

#: Holders of one value compared pairwise at most (the comparison is quadratic); more than this
#: many records on one value is a shared mailbox or a placeholder, and it joins no one.
MAX_HOLDERS_COMPARED: Final = 64

_first_name = comparison_named("first_name").compare
_dob = comparison_named("date_of_birth").compare
_FIRST_NAME_AGREES: Final = 2  # exact, nickname, Jaro-Winkler >= 0.92
_DOB_AGREES: Final = 0  # the same date of birth


@dataclass(frozen=True, slots=True)
class Decision:
    """The decision on one pair (keys in sorted order), with the score and conflicts behind it."""

    a: str
    b: str
    outcome: Outcome
    reason: str
    score: PairScore | None = None
    conflicts: tuple[Conflict, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """Plain data: what a review item stores and ``explain`` prints."""
        data: dict[str, object] = {
            "records": [self.a, self.b],
            "outcome": self.outcome,
            "reason": self.reason,
        }
        if self.score is not None:
            data["score"] = self.score.as_dict()
        if self.conflicts:
            data["conflicts"] = [{"field": c.field, "reason": c.reason} for c in self.conflicts]
        return data


def decide(a: LinkageRecord, b: LinkageRecord, model: LinkageModel) -> Decision:
    """Link, review or no link for one pair, from the two records and the model alone.

    A vetoed conflict (two different dates of birth) never links: a high score goes to review. An
    email domain that looks like a typo (``gmial.com``) links only if the rest of the evidence
    links without it; otherwise it goes to review, whatever the score.
    """
    if b.key < a.key:
        a, b = b, a
    thresholds = model.thresholds
    weight, review_level = weigh(a, b, model)
    if not review_level and probability_from_weight(weight) < thresholds.review:
        # A clear non-match (most candidate pairs): no per-field reasons are built for it.
        return Decision(a.key, b.key, "no_link", f"score {probability_from_weight(weight):.4f}")
    score = score_pair(a, b, model)
    p = score.probability
    conflicts = vetoing_conflicts(a, b, model.vetoes)
    if conflicts:
        reasons = ", ".join(c.reason for c in conflicts)
        if p >= thresholds.review:
            return Decision(a.key, b.key, "review", f"score {p:.4f} but {reasons}", score, conflicts)
        return Decision(a.key, b.key, "no_link", f"{reasons} (score {p:.4f})", score, conflicts)
    if score.review_fields:
        without = score.weight - sum(f.weight for f in score.fields if f.field in score.review_fields)
        if probability_from_weight(without) >= thresholds.link:
            return Decision(a.key, b.key, "link", f"score {p:.4f}", score)
        fields = ", ".join(score.review_fields)
        return Decision(
            a.key, b.key, "review", f"{fields} looks like a typo of the other (score {p:.4f})", score
        )
    if p >= thresholds.link:
        return Decision(a.key, b.key, "link", f"score {p:.4f}", score)
    if p >= thresholds.review:
        return Decision(a.key, b.key, "review", f"score {p:.4f} between the thresholds", score)
    return Decision(a.key, b.key, "no_link", f"score {p:.4f}", score)


@dataclass(frozen=True, slots=True)
class Edge:
    """A reason two records are one person: a shared identifier, or a fuzzy link and its score."""

    a: str
    b: str
    kind: Literal["identifier", "fuzzy"]
    reason: str
    score: PairScore | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A join that was not made, and why (a guardrail, a conflict, the cap)."""

    a: str
    b: str
    reason: str


@dataclass
class LinkResult:
    """What the matcher decided over a set of records."""

    components: list[tuple[str, ...]] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    reviews: list[Decision] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    pairs_scored: int = 0
    overloaded: dict[str, int] = field(default_factory=dict)
    """Blocking keys and identifier values left out, with how many records (or people) held them."""


class _UnionFind:
    __slots__ = ("parent",)

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _positively_agree(a: LinkageRecord, b: LinkageRecord) -> bool:
    first = _first_name(a, b)
    dob = _dob(a, b)
    return (0 <= first <= _FIRST_NAME_AGREES) or dob == _DOB_AGREES


def _identifier_edges(
    records: Sequence[LinkageRecord],
    people_limits: Mapping[str, int],
    result: LinkResult,
) -> list[tuple[int, int]]:
    holders: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        for email_key in record.email_keys:
            holders.setdefault(f"email#{email_key}", []).append(index)
        for phone in record.phones:
            holders.setdefault(f"phone#{phone}", []).append(index)
    joined: list[tuple[int, int]] = []
    for value in sorted(holders):
        members = sorted(set(holders[value]), key=lambda i: records[i].key)
        if len(members) < 2:
            continue
        kind, _, shown = value.partition("#")
        if len(members) > MAX_HOLDERS_COMPARED:
            result.overloaded[value] = len(members)
            continue
        conflicts: dict[tuple[int, int], tuple[Conflict, ...]] = {}
        for i, x in enumerate(members):
            for y in members[i + 1 :]:
                found = shared_identifier_conflicts(records[x], records[y])
                if found:
                    conflicts[(x, y)] = found
        if not conflicts:
            pairs = [(members[0], other) for other in members[1:]]
        else:
            pairs = [
                (x, y)
                for i, x in enumerate(members)
                for y in members[i + 1 :]
                if (x, y) not in conflicts and _positively_agree(records[x], records[y])
            ]
        people = _count_people(members, pairs)
        limit = people_limits.get(kind)
        if limit is not None and people > limit:
            result.overloaded[value] = people
            result.refused.append(
                Refusal(
                    records[members[0]].key,
                    records[members[-1]].key,
                    f"{kind} {shown} is shared by {people} people",
                )
            )
            continue
        for (x, y), found in conflicts.items():
            reasons = ", ".join(c.reason for c in found)
            result.refused.append(
                Refusal(records[x].key, records[y].key, f"shared {kind} {shown} but {reasons}")
            )
        for x, y in pairs:
            a, b = sorted((records[x].key, records[y].key))
            result.edges.append(Edge(a, b, "identifier", f"shared {kind} {shown}"))
            joined.append((x, y))
    return joined


def _count_people(members: list[int], pairs: list[tuple[int, int]]) -> int:
    roots = {m: m for m in members}

    def find(node: int) -> int:
        while roots[node] != node:
            node = roots[node]
        return node

    for x, y in pairs:
        rx, ry = find(x), find(y)
        if rx != ry:
            roots[max(rx, ry)] = min(rx, ry)
    return len({find(m) for m in members})


def link_records(
    records: Sequence[LinkageRecord],
    model: LinkageModel,
    people_limits: Mapping[str, int] = DEFAULT_PEOPLE_LIMITS,
) -> LinkResult:
    """Run the pure matcher over ``records`` (unique keys): identifiers, blocking, scoring, components."""
    keys = [r.key for r in records]
    if len(set(keys)) != len(keys):
        raise ValueError("link_records: record keys must be unique (keep the latest version of each record)")
    # Work in key order, so that nothing below can depend on the order the records came in.
    ordered = sorted(records, key=lambda r: r.key)
    result = LinkResult()
    identifier_pairs = _identifier_edges(ordered, people_limits, result)
    already = {(min(x, y), max(x, y)) for x, y in identifier_pairs}

    candidates = candidate_pairs(ordered, model.max_block_size)
    result.overloaded.update(candidates.overloaded)
    links: list[Decision] = []
    for x, y in sorted(candidates.pairs - already):
        decision = decide(ordered[x], ordered[y], model)
        result.pairs_scored += 1
        if decision.outcome == "link":
            links.append(decision)
        elif decision.outcome == "review":
            result.reviews.append(decision)

    kept = _cap_fuzzy_links(links, model.max_fuzzy_links_per_record, result)
    index = {key: i for i, key in enumerate(r.key for r in ordered)}
    uf = _UnionFind(len(ordered))
    for x, y in identifier_pairs:
        uf.union(x, y)
    for decision in kept:
        uf.union(index[decision.a], index[decision.b])
        result.edges.append(Edge(decision.a, decision.b, "fuzzy", decision.reason, decision.score))
    groups: dict[int, list[str]] = {}
    for i, record in enumerate(ordered):
        groups.setdefault(uf.find(i), []).append(record.key)
    result.components = sorted(tuple(group) for group in groups.values())
    result.edges.sort(key=lambda e: (e.a, e.b, e.kind))
    result.reviews.sort(key=lambda d: (d.a, d.b))
    result.refused.sort(key=lambda r: (r.a, r.b, r.reason))
    return result


def _cap_fuzzy_links(links: list[Decision], cap: int, result: LinkResult) -> list[Decision]:
    def strength(d: Decision) -> tuple[float, str, str]:
        weight = d.score.weight if d.score is not None else 0.0
        return (-weight, d.a, d.b)

    by_record: dict[str, list[Decision]] = {}
    for decision in links:
        by_record.setdefault(decision.a, []).append(decision)
        by_record.setdefault(decision.b, []).append(decision)
    dropped: set[tuple[str, str]] = set()
    for record_key, own in by_record.items():
        if len(own) > cap:
            for decision in sorted(own, key=strength)[cap:]:
                if (decision.a, decision.b) not in dropped:
                    dropped.add((decision.a, decision.b))
                    result.refused.append(
                        Refusal(decision.a, decision.b, f"{record_key} has more than {cap} fuzzy links")
                    )
    return [d for d in links if (d.a, d.b) not in dropped]
