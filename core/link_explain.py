"""Why a customer's records are one customer under probabilistic identity, as data. Pure over the
store's ports.

``identity_explanation`` rebuilds the link graph the way ingest does (core.link_scope: the
customer's records, the holders of the values they share, read through the index, and people's
review decisions) and returns every edge with its reason (a shared email, a shared phone, a fuzzy
link's score with per-field weights, an accepted review), what was refused (a guardrail, a conflict,
the cap, a rejected review), the pairs waiting for review, and the groups the records form. The
profile API's explain and ``profile show --explain`` (core.governance.explain) take the fuzzy and
review edges as ``Link``s through ``governance_links``; the privacy export includes the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from core.governance.explain import Link
from core.linkage import Edge, LinkResult
from core.ports import CustomerState, ProfileStore
from core.schema import SourceRecord

if TYPE_CHECKING:
    from core.ingest_settings import IngestSettings

__all__ = [
    "GraphLinks",
    "customer_explanation",
    "governance_links",
    "identity_explanation",
    "identity_graph",
]

#: How many of the pairs scored below the review threshold an explanation lists (strongest first).
MAX_NOT_LINKED = 10


def identity_graph(store: ProfileStore, state: CustomerState, settings: IngestSettings) -> LinkResult:
    """The link graph over the customer's records, the holders of the values they share, and the
    candidates filed under their blocking keys (so that a pair decided against them, a rejected
    review or one below the threshold, is shown too)."""
    from core.link_nodes import index_keys
    from core.link_scope import Scope

    scope = Scope(store, settings)
    scope.add_customer(state)
    own = [scope.nodes[key] for key in sorted(state.snapshots)]
    filed = {key for node in own for key in index_keys(node, scope.model) if not key.startswith("id:")}
    scope.add_candidates(scope.read_index(filed | scope.shared_values()) - set(scope.nodes), {})
    scope.add_candidates(scope.read_index(scope.shared_values()) - set(scope.nodes), {})
    return scope.graph()


def identity_explanation(
    store: ProfileStore, state: CustomerState, settings: IngestSettings
) -> dict[str, Any]:
    """The customer's identity graph as plain data (see the module docstring); ``settings.linkage``
    must be set (probabilistic identity)."""
    if settings.linkage is None:
        raise ValueError("identity_explanation needs probabilistic identity (IngestSettings.linkage)")
    from core.link_plan import direct_pairs

    result = identity_graph(store, state, settings)
    own = set(state.snapshots)
    direct = direct_pairs(result)

    def touches(a: str, b: str) -> bool:
        return a in own or b in own

    return {
        "customer_id": state.customer_id,
        "model": settings.linkage.model_name or "default",
        "records": sorted(own),
        "groups": [list(c) for c in result.components if own.intersection(c)],
        "edges": [e.as_dict() for e in result.edges if touches(e.a, e.b)],
        "refused": [r.as_dict() for r in result.refused if touches(r.a, r.b)],
        "reviews": [d.as_dict() for d in result.reviews if touches(d.a, d.b) and (d.a, d.b) not in direct],
        "scores": sorted(
            round(d.score.probability, 4)
            for d in result.decisions
            if d.score is not None and touches(d.a, d.b)
        ),
        "below_threshold": [
            {**d.as_dict(), "kind": "threshold"}
            for d in sorted(
                (
                    d
                    for d in result.decisions
                    if d.outcome == "no_link" and d.score is not None and touches(d.a, d.b)
                ),
                key=lambda d: (-(d.score.probability if d.score else 0.0), d.a, d.b),
            )[:MAX_NOT_LINKED]
        ],
    }


def customer_explanation(
    store: ProfileStore, state: CustomerState, settings: IngestSettings | None
) -> dict[str, Any]:
    """Why the customer's records are one customer, in either identity mode, as one shape:
    ``mode``, ``records``, ``groups``, ``edges`` (each with ``records``, ``kind`` and ``reason``, a
    fuzzy one with its ``score`` and per-field weights), ``refused``, ``reviews`` (pending pairs),
    ``scores`` and ``below_threshold``. Probabilistic: ``identity_explanation``. Exact: the shared
    identifiers of core.governance.explain (used ones are edges; a blocklisted one is refused, and a
    value held by more people than its limit is noted as refused for new matches)."""
    if settings is not None and settings.linkage is not None:
        return {"mode": "probabilistic", **identity_explanation(store, state, settings)}
    from core.governance.explain import explain

    policy = settings.policy if settings is not None else None
    found = explain(state.customer_id, state.snapshots.values(), policy=policy)
    edges: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for join in found.joins:
        kind = "owner" if join.kind == "source" else "identifier"
        entry = {
            "records": list(join.records),
            "kind": kind,
            "reason": join.reason,
            "identifier": join.identifier,
        }
        if not join.used:
            refused.append({**entry, "kind": "blocklist"})
            continue
        edges.append(entry)
        if "more than the limit" in join.reason:
            refused.append({**entry, "kind": "guardrail"})
    return {
        "mode": "exact",
        "customer_id": state.customer_id,
        "model": None,
        "records": sorted(state.snapshots),
        "groups": [list(g) for g in found.groups],
        "edges": edges,
        "refused": refused,
        "reviews": [],
        "scores": [],
        "below_threshold": [],
    }


def governance_links(edges: list[Edge], records: set[str]) -> list[Link]:
    """The fuzzy and review edges among ``records`` as core.governance.explain ``Link``s (their
    reasons are words and scores, never an identifier value)."""
    return [
        Link(e.a, e.b, e.kind, e.reason, e.score.probability if e.score is not None else None)
        for e in edges
        if e.kind in ("fuzzy", "review") and e.a in records and e.b in records
    ]


class GraphLinks:
    """core.governance.explain's ``LinkSource`` under probabilistic identity: the fuzzy links and
    accepted reviews of the customer's link graph, so that the profile API's explain (and ``profile
    show --explain``) shows what joins records that share no email or phone."""

    def __init__(self, store: ProfileStore, settings: IngestSettings) -> None:
        self.store = store
        self.settings = settings

    def links_of(self, customer_id: str, records: Sequence[SourceRecord]) -> list[Link]:
        state = self.store.get_customers([customer_id]).get(customer_id)
        if state is None or self.settings.linkage is None:
            return []
        return governance_links(
            identity_graph(self.store, state, self.settings).edges, {r.key for r in records}
        )
