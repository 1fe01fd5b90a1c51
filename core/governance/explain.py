"""Why a customer's records are one customer: the identity graph of one customer, with reasons. Pure.

Records are the nodes. An exact join is an email or phone that several of the customer's records
hold (``Join``): it joins them unless the guardrails refuse it (a blocklisted value); or an owner's
source id that a child object (an order, a charge) holds, which joins it to its owner. Other edges
come from elsewhere as ``Link``s: fuzzy links scored from two records (the probabilistic matching
of core.linkage, once its link graph is stored), an order joining its owner by the vendor's owner
id, a reviewer's decision. ``explain`` takes them as an argument, so adding a kind of edge is
passing more links, not changing this module: see ``LinkSource``.

``groups`` are the connected components of the records under the edges that are used: one group
when the records still join up; several when an update removed what joined them and the customer
waits to be split (core.split.split_customer).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from core.identity import IdentityPolicy
from core.schema import Identifier, SourceRecord


@dataclass(frozen=True, slots=True)
class Link:
    """An edge between two source records of a customer that is not a shared email or phone."""

    a: str
    b: str
    kind: str
    """``fuzzy``, ``owner`` (a child object and its owner), ``review`` (a reviewer's decision), ..."""
    reason: str
    """Words only: ``names and birth dates agree``; never an identifier value."""
    score: float | None = None
    identifier: str | None = None
    """The identifier key the link rests on, if any (an owner id as ``source#...``)."""


class LinkSource(Protocol):
    """Where links other than shared emails and phones come from (the linkage engine's graph)."""

    def links_of(self, customer_id: str, records: Sequence[SourceRecord]) -> Sequence[Link]: ...


@dataclass(frozen=True, slots=True)
class RecordNode:
    key: str
    source: str
    object_type: str
    source_id: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Join:
    """One email or phone held by several of the customer's records."""

    identifier: str
    records: tuple[str, ...]
    used: bool
    reason: str

    @property
    def kind(self) -> str:
        return self.identifier.partition("#")[0]


@dataclass(frozen=True, slots=True)
class Explanation:
    customer_id: str
    records: tuple[RecordNode, ...]
    joins: tuple[Join, ...]
    links: tuple[Link, ...]
    groups: tuple[tuple[str, ...], ...]
    """Connected components of ``records`` under the used joins and the links, largest first."""

    @property
    def connected(self) -> bool:
        return len(self.groups) <= 1


def explain(
    customer_id: str,
    records: Iterable[SourceRecord],
    *,
    policy: IdentityPolicy | None = None,
    links: Sequence[Link] = (),
) -> Explanation:
    """The identity graph of one customer's records: exact joins with reasons, extra links, groups."""
    policy = policy or IdentityPolicy()
    ordered = sorted(records, key=lambda r: r.key)
    keys = [r.key for r in ordered]
    people = {r.key for r in ordered if r.level == "person"}
    holders: dict[str, list[str]] = {}
    identifiers: dict[str, Identifier] = {}
    for record in ordered:
        for ident in record.identifiers:
            # A child object (an order, a charge) holds its owner's source id: that is how it joins.
            holders.setdefault(ident.key, []).append(record.key)
            identifiers[ident.key] = ident
    joins: list[Join] = []
    for key in sorted(holders):
        held_by = holders[key]
        if len(held_by) < 2:
            continue
        ident = identifiers[key]
        if ident.kind == "source":
            joins.append(
                Join(key, tuple(held_by), used=True, reason="owner id: a child object joins its owner")
            )
            continue
        blocked = policy.is_blocked(ident)
        limit = policy.limit_for(ident.kind)
        holding_people = sum(1 for k in held_by if k in people)  # only people count towards a limit
        if blocked:
            reason = f"shared {ident.kind}, but blocklisted: not used to match"
        elif limit is not None and holding_people > limit:
            reason = (
                f"shared {ident.kind}, held by {holding_people} person records (more than the limit of "
                f"{limit}): joins what it already joined, matches nothing new"
            )
        else:
            reason = f"shared {ident.kind}"
        joins.append(Join(key, tuple(held_by), used=not blocked, reason=reason))
    known = set(keys)
    kept_links = tuple(
        sorted(
            (link for link in links if link.a in known and link.b in known),
            key=lambda link: (link.kind, link.a, link.b),
        )
    )
    groups = _components(keys, [j.records for j in joins if j.used] + [(lk.a, lk.b) for lk in kept_links])
    nodes = tuple(RecordNode(r.key, r.source, r.object_type, r.source_id, r.updated_at) for r in ordered)
    return Explanation(customer_id, nodes, tuple(joins), kept_links, groups)


def _components(keys: Sequence[str], edges: Iterable[Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    parent = {k: k for k in keys}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for members in edges:
        first = members[0]
        for other in members[1:]:
            a, b = find(first), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = {}
    for k in keys:
        groups.setdefault(find(k), []).append(k)
    return tuple(sorted((tuple(g) for g in groups.values()), key=lambda g: (-len(g), g)))


__all__ = ["Explanation", "Join", "Link", "LinkSource", "RecordNode", "explain"]
