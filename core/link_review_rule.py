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
Standing decisions are those on pairs among the records the decision concerns, listed by their
records' review partners entries (core.link_review_index), that hold for the records as they are
(``ReviewItem.applies_to``). The records concerned are those of the two customers of the pair and
of the customers the must-links with the decision join to it (``_gather``): a shared value a
conflict kept from a third customer may join it once an accept changes which joins the conflicts
refuse. The holders of the values are read through the index as ingest reads them, so a value held
by more people than its limit (a switchboard phone) joins nobody here either. Pure over the store's
ports.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
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
#: Rounds of "read the holders of the scope's values, load the customers the decision would join".
_ROUNDS = 4
#: Reads of customers racing a writer before the check gives up.
_LOAD_ATTEMPTS = 4


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
    pair = (item.a, item.b)
    if item.a not in scope.nodes or item.b not in scope.nodes:
        return None  # a record of the pair went as it was decided (an erasure): decide refuses it
    standing = _gather(scope, index, pair, verdict, settings.sleep)
    accepted = {p for p, s in standing.items() if s.status == "accepted"}
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


def _gather(
    scope: Scope, index: LinkIndex, pair: Pair, verdict: str, sleep: Callable[[float], None]
) -> dict[Pair, ReviewItem]:
    """Read what the decision can join, and the decisions standing there. Each round reads the holders
    of every value the loaded customers' records hold (and of those the scope's records share), as
    ingest reads them (core.link_plan: a value more people hold than its limit, or one the index
    marks overloaded, joins nobody, in the check as in the graph), then loads the customers of the
    holders the must-links (with an accept, with it) join to the pair: a third customer holding a
    value that a conflict kept apart may be joined once the accept changes which joins the conflicts
    refuse, and its records' decisions stand too. Up to ``_ROUNDS`` rounds (docs/identity.md,
    Limits: a contradiction further away is not seen)."""
    standing: dict[Pair, ReviewItem] = {}
    read: set[str] = set()  # customers read: one merged away is followed once, never read again
    for _ in range(_ROUNDS):
        values = {
            f"id:{v}"
            for key, node in scope.nodes.items()
            if scope.home.get(key) in scope.loaded
            for v in node.values
            if not v.startswith("source#")
        }
        found = scope.read_index(values | scope.shared_values()) - set(scope.nodes)
        unmatched = scope.add_candidates(found, {})
        standing = _standing(scope, index, pair)
        accepted = {p for p, s in standing.items() if s.status == "accepted"}
        joined = _must_links(scope, accepted | {pair} if verdict == "accepted" else accepted)
        reach = {scope.home[k] for k, part in joined.items() if part == joined[pair[0]] and k in scope.home}
        todo = (reach | unmatched) - scope.loaded - read
        if not todo:
            break
        loaded = _load(scope.store, todo, sleep)
        read |= todo | set(loaded)
        for state in loaded.values():
            if not state.merged_into:
                scope.add_customer(state)
    return standing


def _load(store: ProfileStore, ids: set[str], sleep: Callable[[float], None]) -> dict[str, CustomerState]:
    """The customers ``ids`` and those they were merged into, read again while a read races a
    writer (a customer referenced before its items are written: ConflictError), a few times with a
    pause, then the ConflictError is raised (core.link_review says nothing was decided)."""
    from core.errors import ConflictError
    from core.ingest_plan import _load_customers

    for attempt in range(_LOAD_ATTEMPTS):
        try:
            return _load_customers(store, ids)
        except ConflictError:
            if attempt + 1 == _LOAD_ATTEMPTS:
                raise
            sleep(min(1.0, 0.05 * 2**attempt))
    raise AssertionError("unreachable")


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
