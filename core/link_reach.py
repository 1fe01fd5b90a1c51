"""What a batch's link graph needs decided: the records its anchors can reach, and caches that keep
a batch from paying again for what earlier batches already prepared. Pure: no I/O here.

A batch's scope (core.link_scope) holds the batch, the customers it touches and every candidate its
blocking keys found: mostly namesakes and neighbours that link to nothing. Scoring every candidate
pair among them, and building the graph over all of them, is what made ingest with fuzzy matching
slow (about 10 candidates per record at 3,000 people, each sharing blocks with the others).

``reachable`` walks from the anchors (the batch's records and those of the customers loaded) along
everything that could join two records: a shared source key, a shared identifier value (every holder
of it), and a candidate pair whose decision is not ``no_link``. Only the pairs touching a reached
record are decided. The graph over the reached records has the same components there as the graph
over the whole scope, because every edge the whole graph could add to a reached record (a link, a
value's holder, the cap's rivals, a conflict inside a component) is between reached records; a
record never reached has no link to any of them. One thing reaches further: a value refused by a
guardrail is taken out of the records holding it and their pairs are decided again without it
(core.linkage.graph), which can turn a ``no_link`` into a link. A graph with a refused value is
therefore built over the whole scope instead (``Scope.graph``).

``DecisionCache`` keeps pair decisions between batches; ``CandidateNodes`` keeps the graph nodes of
candidates read through their ``match`` attribute, so that a stored record seen by many batches is
parsed and prepared once. ``Filing`` is how a scope files its records under their blocking keys and
values: most of those names are held by one record of the scope (a scope of 900 records at 3,000
people files them under 5,000 blocking keys), and a set for each of those cost a tenth of ingest.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from core.linkage import Decision, GraphNode, LinkageModel, decide
from core.linkage.blocking import CHAIN_DENSE, Ranking, block_shape, order_string
from core.privacy_caches import remember

if TYPE_CHECKING:
    from core.identity import IdentityPolicy
    from core.link_index import BlockState
    from core.linkage import LinkageRecord

__all__ = ["BlockFiling", "CandidateNodes", "DecisionCache", "Filing", "Walked", "reachable"]


class DecisionCache:
    """``decide`` on pairs, remembered by the two records' keys together with the prepared records
    themselves (frozen): a pair of candidates that every batch of a neighbourhood reads is scored once
    per process, and a record that changed is scored afresh (its new fields replace the entry). The
    records are compared by identity first (the nodes of stored records are cached, so a hit costs no
    field-by-field comparison), then by value. Bounded: emptied when it holds ``limit`` decisions."""

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self.known: dict[tuple[str, str], tuple[LinkageRecord, LinkageRecord, Decision]] = {}
        self.scored = 0
        """Pairs decided afresh (not from the cache) since the cache was made: what ingest scored."""
        remember(self)  # its records are people's values: emptied on an erasure (core.privacy_caches)

    def cache_clear(self) -> None:
        self.known.clear()

    def decide(
        self, nodes: Sequence[GraphNode], pairs: Iterable[tuple[int, int]], model: LinkageModel
    ) -> dict[tuple[str, str], Decision]:
        """The decisions on index pairs into ``nodes``, by the sorted pair of keys."""
        keyed: list[tuple[str, str]] = []
        for x, y in pairs:
            a, b = nodes[x].key, nodes[y].key
            keyed.append((a, b) if a < b else (b, a))
        return self.decide_keys(keyed, {node.key: node for node in nodes}, model)

    def decide_keys(
        self, pairs: Sequence[tuple[str, str]], nodes: Mapping[str, GraphNode], model: LinkageModel
    ) -> dict[tuple[str, str], Decision]:
        """The decisions on pairs of keys into ``nodes``, each pair sorted (a scope's are)."""
        out: dict[tuple[str, str], Decision] = {}
        todo: list[tuple[tuple[str, str], LinkageRecord, LinkageRecord]] = []
        known = self.known
        for pair in pairs:
            a, b = nodes[pair[0]].record, nodes[pair[1]].record
            found = known.get(pair)
            if found is not None and (found[0] is a or found[0] == a) and (found[1] is b or found[1] == b):
                out[pair] = found[2]
            else:
                todo.append((pair, a, b))
        if todo:
            self.scored += len(todo)
            if len(known) + len(todo) > self.limit:
                known.clear()
            for pair, a, b in todo:
                decision = decide(a, b, model)
                known[pair] = (a, b, decision)
                out[pair] = decision
        return out


class CandidateNodes:
    """Graph nodes of candidates by their source key and ``match`` attribute (and the policy that
    left blocklisted values out of them). Bounded: emptied when it holds ``limit`` nodes."""

    def __init__(self, limit: int = 100_000) -> None:
        self.limit = limit
        self.known: dict[tuple[str, str], tuple[IdentityPolicy, GraphNode]] = {}
        remember(self)  # its nodes are people's values: emptied on an erasure (core.privacy_caches)

    def cache_clear(self) -> None:
        self.known.clear()

    def get(
        self,
        key: str,
        match: str,
        policy: IdentityPolicy,
        make: Callable[[str, str, IdentityPolicy], GraphNode],
    ) -> GraphNode:
        found = self.known.get((key, match))
        if found is not None and found[0] is policy:
            return found[1]
        node = make(key, match, policy)
        self.put(key, match, policy, node)
        return node

    def put(self, key: str, match: str, policy: IdentityPolicy, node: GraphNode) -> None:
        """Keep the node ``make`` would give for the key and match document."""
        if len(self.known) >= self.limit:
            self.known.clear()
        self.known[(key, match)] = (policy, node)


class Filing:
    """Name (a blocking key, an identifier value, a source key) -> the keys of the nodes filed under
    it. A name held by one key is kept as that key alone; a set is made for the second one."""

    __slots__ = ("many", "one")

    def __init__(self) -> None:
        self.one: dict[str, str] = {}
        """Every name held -> one of its keys (the only one when the name is not in ``many``)."""
        self.many: dict[str, set[str]] = {}
        """The names held by two keys or more -> all of them."""

    def add(self, key: str, names: Iterable[str]) -> None:
        one, many = self.one, self.many
        for name in names:
            first = one.setdefault(name, key)
            if first == key:
                continue
            held = many.get(name)
            if held is None:
                many[name] = {first, key}
            else:
                held.add(key)

    def remove(self, key: str, names: Iterable[str]) -> None:
        one, many = self.one, self.many
        for name in names:
            held = many.get(name)
            if held is None:
                if one.get(name) == key:
                    del one[name]
                continue
            held.discard(key)
            if len(held) == 1:
                del many[name]
                one[name] = next(iter(held))
            elif one[name] == key:
                one[name] = next(iter(held))

    def get(self, name: str) -> Collection[str]:
        """The keys filed under ``name`` (none: empty)."""
        held = self.many.get(name)
        if held is not None:
            return held
        first = self.one.get(name)
        return () if first is None else (first,)

    def shared(self) -> Iterable[str]:
        """The names held by two keys or more."""
        return self.many.keys()


class BlockFiling(Filing):
    """Blocking key -> the person nodes a scope files under it, and, for each crowded key read from
    the index with every member's place in its order (``BlockState.orders``), the block's ``Ranking``:
    a node's neighbours in a crowded block are then known from the one item, and only they need
    reading (``needed``). Keys read from an older index (no places kept) and keys not read rank the
    nodes filed under them, as before.

    ``missing``: neighbours a walk wanted that the scope does not hold; the plan reads them and walks
    again (``tried`` keeps it from asking twice for a record filed but not stored)."""

    __slots__ = ("missing", "nodes", "ranks", "stored", "tried")

    def __init__(self, nodes: Mapping[str, GraphNode]) -> None:
        super().__init__()
        self.nodes = nodes
        self.stored: dict[str, Mapping[str, str]] = {}
        """Key read -> each member's place in its order, as the index keeps them."""
        self.ranks: dict[str, Ranking] = {}
        self.missing: set[str] = set()
        self.tried: set[str] = set()

    def note(self, state: BlockState) -> bool:
        """Keep what the index holds of a blocking key read; whether its members meet their
        neighbours only (then the members themselves need not all be read: ``needed``)."""
        key = state.key
        self.ranks.pop(key, None)
        # Only a crowded block is ranked: a smaller one is read whole and pairs every two members.
        if len(state.members) <= block_shape(key).dense or state.overloaded or not state.ranked():
            self.stored.pop(key, None)
            return False
        self.stored[key] = state.orders
        return True

    def add(self, key: str, names: Iterable[str]) -> None:
        super().add(key, names)
        if self.ranks:  # (``_changed`` has nothing to drop without a ranking: most adds)
            self._changed(key, names)

    def remove(self, key: str, names: Iterable[str]) -> None:
        super().remove(key, names)
        self._changed(key, names)

    def _changed(self, key: str, names: Iterable[str]) -> None:
        # A node the index does not list under a ranked key is ranked with its members (a record
        # stored before its rule existed): the ranking is made again.
        if self.ranks:
            stored, ranks = self.stored, self.ranks
            for name in names:
                if name in ranks and key not in stored[name]:
                    del ranks[name]

    def ranking(self, key: str) -> Ranking | None:
        """The key's members in order, when the index kept their places: the index's members and the
        nodes filed under the key that it does not list. None: a key not read with its places, or
        not crowded when read (every member read, and ranked from its fields where needed)."""
        stored = self.stored.get(key)
        if stored is None:
            return None
        ranking = self.ranks.get(key)
        if ranking is None:
            shape = block_shape(key)
            items = [(order, member) for member, order in stored.items()]
            nodes = self.nodes
            items += [(order_string(nodes[k].record, shape), k) for k in self.get(key) if k not in stored]
            ranking = self.ranks[key] = Ranking(items, shape)
        return ranking

    def needed(self, key: str, at: Iterable[tuple[str, str]], skip: Collection[str]) -> list[str]:
        """The members of a ranked key to read for records standing at ``at`` (``(order_string,
        key)``: the batch's records, their previous versions, the customers' records): their
        neighbours, and the neighbours of a gap a batch record leaves or fills, passing over the
        records in ``skip`` (the batch, held already)."""
        ranking = self.ranking(key)
        if ranking is None:
            return []
        count = ranking.shape.window if ranking.windowed else len(ranking)
        return [k for order, member in at for k in ranking.near(order, member, count, skip)]

    def pairs(self, key: str) -> Iterable[tuple[str, str]]:
        """The candidate pairs of a ranked key between nodes the scope holds."""
        ranking = self.ranking(key)
        assert ranking is not None
        nodes = self.nodes
        return [(a, b) for a, b in ranking.pairs() if a in nodes and b in nodes]


Walked = dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]]
"""What ``reachable`` found from each node it walked: its candidate pairs, and the keys they and its
values join it to. A scope keeps it between its rounds (core.link_scope: ``Scope.graph``)."""


def reachable(
    anchors: Iterable[str],
    nodes: Mapping[str, GraphNode],
    blocks: Filing,
    limit: int,
    overloaded: Collection[str],
    holders: Filing,
    decide: Callable[[list[tuple[str, str]]], Mapping[tuple[str, str], Decision]],
    walked: Walked | None = None,
    note: Callable[[Iterable[tuple[str, str]]], object] | None = None,
) -> set[str]:
    """The keys of the nodes the anchors reach through shared source keys and identifier values
    (``holders``: each value and source key -> the nodes holding it) and candidate pairs not decided
    ``no_link`` (see the module docstring).

    ``blocks``: each blocking key -> the person nodes filed under it, of which those with at most
    ``limit`` members and not listed in ``overloaded`` (by the index) make candidates (all pairs, or
    in a dense block a node's neighbours: core.linkage.blocking.block_pairs); ``decide``
    decides pairs of keys (sorted) and returns them by the same pairs. Every candidate pair with a
    reached node is decided, so the pairs among the reached nodes are all decided
    when this returns. Work is in proportion to what is reached, not to the scope.

    ``walked``: what an earlier walk over the same filings found from each node, used in place of
    walking it again (its pairs are given to ``note``, not decided again), and where this walk
    keeps what it finds. The caller drops the entries a change of the filings or of ``overloaded``
    makes wrong: those of every node holding a name whose holders changed."""
    reached = {key for key in anchors if key in nodes}
    frontier = sorted(reached)
    filing = blocks if isinstance(blocks, BlockFiling) else BlockFiling(nodes)
    kept_orders, missing, ranks = filing.stored, filing.missing, filing.ranks
    dense: dict[str, Ranking] = {}  # a dense block's members in order
    # A name only one node holds (most blocking keys of a scope) joins it to nothing: only the
    # names held by two nodes or more are looked at.
    shared_blocks, shared_values = blocks.many, holders.many

    while frontier:
        pairs: set[tuple[str, str]] = set()
        found: list[str] = []
        fresh: list[tuple[str, list[tuple[str, str]], list[str]]] = []
        for u in frontier:
            if walked is not None:
                known = walked.get(u)
                if known is not None:
                    if note is not None:
                        note(known[0])
                    found.extend(known[1])
                    continue
            node = nodes[u]
            held_by: list[str] = []
            for names in (node.values, node.links):
                for shared in names:
                    held = shared_values.get(shared)
                    if held is not None:
                        held_by.extend(held)
            found.extend(held_by)
            if not node.person:
                fresh.append((u, [], held_by))
                continue
            # u's candidates over all its keys, each once (a person's records share most of their
            # keys: pairing per key made the same pair up to nine times).
            others: set[str] = set()
            for key in node.blocking_keys():
                if key in kept_orders:
                    # ``filing.ranking(key)``, a ranking it keeps read inline (no call for most keys);
                    # never None for a key whose places are kept.
                    ranking = ranks.get(key)
                    if ranking is None:
                        ranking = filing.ranking(key)
                    assert ranking is not None
                    # A key read with its members' places: u's neighbours in the whole block, those
                    # the scope lacks noted for the plan to read (``BlockFiling.missing``).
                    if len(ranking) > limit or key in overloaded:
                        continue
                    for mate in ranking.neighbours(u):
                        if mate in nodes:
                            others.add(mate)
                        else:
                            missing.add(mate)
                    continue
                mates = shared_blocks.get(key)
                if mates is None or len(mates) > limit or key in overloaded:
                    continue
                if len(mates) > CHAIN_DENSE:  # a smaller block is every pair in any shape
                    # u's neighbours in the block's order (``block_pairs``'s, for u alone: a walk
                    # meets one or two of a dense block's members, not all of them).
                    shaped = dense.get(key)
                    if shaped is None:
                        shape = block_shape(key)
                        if len(mates) <= shape.dense:
                            others.update(mates)
                            continue
                        ranked = ((order_string(nodes[k].record, shape), k) for k in mates)
                        shaped = dense[key] = Ranking(ranked, shape)
                    others.update(shaped.neighbours(u))
                    continue
                others.update(mates)
            others.discard(u)
            own = [(u, w) if u < w else (w, u) for w in others]
            pairs.update(own)
            fresh.append((u, own, held_by))
        ordered = list(pairs)  # in any order: each decision depends on its pair alone
        decided = decide(ordered)
        if walked is None:
            found.extend(key for pair in ordered if decided[pair].outcome != "no_link" for key in pair)
        else:
            for u, own, held_by in fresh:
                linked = [key for pair in own if decided[pair].outcome != "no_link" for key in pair]
                found.extend(linked)
                walked[u] = (tuple(own), tuple(held_by + linked))
        frontier = sorted(set(found) - reached)
        reached.update(frontier)
    return reached
