"""Which review decisions contradict a standing one (core.link_review ``decide`` refuses them).

People's decisions are part of the link graph (core.linkage.graph): an accepted pair is a
must-link edge, a rejected pair a cannot-link constraint that refuses the fuzzy links that would
join its records. Only the edges a person or an identifier makes join a rejected pair: source ids,
shared identifier values and accepted pairs (the *must-links*). So two decisions contradict each
other when the must-links with an accept join the records of a standing reject that the must-links
without it keep apart: no partition honours both. The later of the two is refused, whichever came
first, naming the standing one:

- an accept is refused when, with it, the must-links would join a rejected pair;
- a reject is refused when the must-links join its pair through accepted pairs (not through
  identifiers alone: a shared email joins them whatever a person says, and the reject is stored,
  the records staying one customer).

A decision taken again on the same pair replaces that pair's own (it is not a standing one).
Standing decisions are those on pairs among the records of the two customers concerned, listed by
their records' review partners entries (core.link_review_index), that hold for the records as they
are (``ReviewItem.applies_to``). The holders of the values the scope's records share are read
through the index as ingest reads them, so a value held by more people than its limit (a
switchboard phone) joins nobody here either. Pure over the store's ports.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from core.link_index import LinkIndex, ReviewItem
from core.link_review_index import partners_key, review_pairs
from core.linkage import ReviewState, link_graph
from core.ports import CustomerState, ProfileStore

if TYPE_CHECKING:
    from core.ingest_settings import IngestSettings
    from core.link_scope import Scope

__all__ = ["contradiction"]

Pair = tuple[str, str]
#: How many times the holders of shared values are read (the holders' own shared values, once more).
_HOLDER_ROUNDS = 2


def contradiction(
    store: ProfileStore,
    index: LinkIndex,
    item: ReviewItem,
    verdict: str,
    states: Collection[CustomerState],
    settings: IngestSettings,
) -> str | None:
    """Why deciding ``verdict`` on ``item``'s pair contradicts a standing decision (naming it), or
    None. ``states``: the customers of the pair's two records."""
    from core.link_scope import Scope

    scope = Scope(store, settings)
    for state in {s.customer_id: s for s in states}.values():
        scope.add_customer(state)
    standing = _standing(scope, index, (item.a, item.b))
    _read_holders(scope)
    accepted = {p for p, s in standing.items() if s.status == "accepted"}
    pair = (item.a, item.b)
    if verdict == "accepted":
        joined, before = _must_links(scope, accepted | {pair}), _must_links(scope, accepted)
        for (a, b), other in sorted(standing.items()):
            if other.status == "rejected" and joined[a] == joined[b] and before[a] != before[b]:
                return (
                    f"accepting it would put {a} and {b} in one customer through accepted pairs and "
                    f"shared identifiers, and {_named(other)} rejected them (review pair "
                    f"{other.pair_id}): decide that pair again first, or reject this one"
                )
        return None
    joined = _must_links(scope, accepted)
    if joined[item.a] != joined[item.b] or _together(scope, set(), pair):
        return None  # apart, or joined by identifiers alone (stored; they stay one customer)
    binding = [p for p in sorted(accepted) if not _together(scope, accepted - {p}, pair)]
    named = [standing[p] for p in binding or sorted(p for p in accepted if joined[p[0]] == joined[item.a])]
    return (
        "rejecting it contradicts "
        + "; ".join(f"review pair {s.pair_id} ({s.a} ~ {s.b}), accepted by {_named(s)}" for s in named)
        + f": those accepted pairs keep {item.a} and {item.b} in one customer; decide "
        + ("that pair" if len(named) == 1 else "those pairs")
        + " again first"
    )


def _named(item: ReviewItem) -> str:
    when = f" at {item.decided_at.isoformat()}" if item.decided_at else ""
    return f"{item.decided_by or 'a reviewer'}{when}"


def _standing(scope: Scope, index: LinkIndex, pair: Pair) -> dict[Pair, ReviewItem]:
    """The decisions on pairs among the scope's records (but ``pair``) that hold for them."""
    keys = sorted(scope.nodes)
    entries = index.get_blocks([partners_key(k) for k in keys])
    pairs = sorted(
        p for p in review_pairs(entries, keys) if p != pair and p[0] in scope.nodes and p[1] in scope.nodes
    )
    found = index.get_reviews(pairs) if pairs else {}
    return {
        p: item
        for p, item in found.items()
        if item.status in ("accepted", "rejected") and item.applies_to(scope.evidence(p))
    }


def _read_holders(scope: Scope) -> None:
    """Read the index entries of the values the scope's records share, and add their other holders,
    as ingest does (core.link_plan): a value more people hold than its limit (a switchboard phone)
    or one the index marks overloaded joins nobody, in the check as in the graph ingest builds."""
    for _ in range(_HOLDER_ROUNDS):
        found = scope.read_index(scope.shared_values()) - set(scope.nodes)
        if not found:
            return
        scope.add_candidates(found, {})


def _must_links(scope: Scope, accepted: Collection[Pair]) -> Mapping[str, int]:
    """Record key -> its component when only source ids, identifier values and the ``accepted``
    pairs join (no fuzzy links)."""
    reviews = {p: ReviewState("accepted") for p in accepted}
    result = link_graph(
        list(scope.nodes.values()),
        None,
        people_limits=scope.linkage.limits(scope.policy),
        overloaded_values=frozenset(scope.overloaded_values),
        reviews=reviews,
    )
    return {key: i for i, component in enumerate(result.components) for key in component}


def _together(scope: Scope, accepted: Collection[Pair], pair: Pair) -> bool:
    joined = _must_links(scope, accepted)
    return joined[pair[0]] == joined[pair[1]]
