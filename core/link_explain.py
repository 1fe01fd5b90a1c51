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

from typing import TYPE_CHECKING, Any

from core.governance.explain import Link
from core.linkage import Edge, LinkResult
from core.ports import CustomerState, ProfileStore

if TYPE_CHECKING:
    from core.pipeline import IngestSettings

__all__ = ["governance_links", "identity_explanation", "identity_graph"]


def identity_graph(store: ProfileStore, state: CustomerState, settings: IngestSettings) -> LinkResult:
    """The link graph over the customer's records and the holders of the values they share."""
    from core.link_scope import Scope

    scope = Scope(store, settings)
    scope.add_customer(state)
    scope.add_candidates(scope.read_index(scope.shared_values()) - set(scope.nodes), {})
    return scope.graph()


def identity_explanation(
    store: ProfileStore, state: CustomerState, settings: IngestSettings
) -> dict[str, Any]:
    """The customer's identity graph as plain data (see the module docstring); ``settings.linkage``
    must be set (probabilistic identity)."""
    if settings.linkage is None:
        raise ValueError("identity_explanation needs probabilistic identity (IngestSettings.linkage)")
    result = identity_graph(store, state, settings)
    own = set(state.snapshots)

    def touches(a: str, b: str) -> bool:
        return a in own or b in own

    return {
        "customer_id": state.customer_id,
        "model": settings.linkage.model_name or "default",
        "records": sorted(own),
        "groups": [list(c) for c in result.components if own.intersection(c)],
        "edges": [e.as_dict() for e in result.edges if touches(e.a, e.b)],
        "refused": [r.as_dict() for r in result.refused if touches(r.a, r.b)],
        "reviews": [d.as_dict() for d in result.reviews if touches(d.a, d.b)],
        "scores": sorted(
            round(d.score.probability, 4)
            for d in result.decisions
            if d.score is not None and touches(d.a, d.b)
        ),
    }


def governance_links(edges: list[Edge], records: set[str]) -> list[Link]:
    """The fuzzy and review edges among ``records`` as core.governance.explain ``Link``s (their
    reasons are words and scores, never an identifier value)."""
    return [
        Link(e.a, e.b, e.kind, e.reason, e.score.probability if e.score is not None else None)
        for e in edges
        if e.kind in ("fuzzy", "review") and e.a in records and e.b in records
    ]
