"""What a batch does to the pairs of *other* records in a dense block or a chain, for ingest's plan
(core.link_plan) over a scope (core.link_scope.Scope).

A dense key pairs a record with its neighbours only, and a crowding rule's key is a chain
(core.linkage.blocking: ``block_shape``), so a batch record entering a block, leaving it or moving in
its order makes and unmakes pairs of records outside the batch (``shifted_pairs``). A pair a block
unmakes may still be paired by another key the two records share (a chain of a street parts them,
the postcode and house number key holds them both): ``unpaired`` keeps only the pairs no key pairs
any more, over those keys read whole (``shared_keys``), so that a pending review item leaves the
queue only when one batch of every record would not list it.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable, Mapping, Sequence

from core.link_scope import Scope
from core.linkage import GraphNode
from core.linkage.blocking import Ranking, block_shape, order_string, ranked_pairs

Pair = tuple[str, str]

__all__ = ["neighbours_to_read", "shared_keys", "shifted_pairs", "unpaired", "window_shifts"]


def neighbours_to_read(scope: Scope, before: Mapping[str, GraphNode], keys: Iterable[str]) -> set[str]:
    """The members of the crowded blocks among ``keys`` (read, ranked as the index keeps them) that
    the scope must hold: the ones next to where each record of the scope filed under a block stands
    (the batch's records, the customers' records), and next to where each batch record's previous
    version stood (``before``). Those are every neighbour the walk will pair them with, and both
    records of every pair the batch makes or unmakes there (``shifted_pairs``): a pair of other
    records changes only with a batch record between them, within the window. A record a batch
    adds reads its few neighbours, not the whole block."""
    blocks, nodes, batch = scope.blocks, scope.nodes, scope.batch
    stored = blocks.stored
    left: dict[str, list[tuple[str, str]]] = {}  # a ranked key -> where the batch's records stood
    for k, node in before.items():
        if node.person:
            for key in node.blocking_keys():
                ranking = blocks.ranking(key) if key in stored else None
                if ranking is not None:
                    left.setdefault(key, []).append((order_string(node.record, ranking.shape), k))
    out: set[str] = set()
    for key in keys:
        ranking = blocks.ranking(key) if key in stored else None
        if ranking is None:
            continue  # read whole (its members were returned), or not read
        items, position, filed = ranking.items, ranking.position, blocks.get(key)
        stood = left.get(key, [])
        entering = sum(1 for k in filed if k in batch)
        if len(ranking) - entering + len(stood) <= ranking.shape.dense:
            # Every pair before the batch, neighbours only now: pairs of any two members change.
            out.update(ranking.keys)
            continue
        out.update(blocks.needed(key, [items[position[k]] for k in filed] + stood, batch))
    return out - nodes.keys()


def shifted_pairs(scope: Scope, before: Mapping[str, GraphNode]) -> tuple[set[Pair], set[Pair]]:
    """The candidate pairs of other records that the batch's records make or unmake in a dense
    block (core.linkage.blocking: its records meet their neighbours only), as (added, removed):
    a record entering a dense block (or moving in its order) parts two neighbours that were
    paired; one leaving it pairs two that were not. ``before``: the batch records' previous
    nodes (a record gone, retired or erased, is in ``batch`` with no node). Call after the batch's
    blocking keys are read, and the records next to where its records stand, and stood, in them
    (``BlockFiling.needed``): both records of every pair returned are in the scope."""
    model = scope.model
    if model is None:
        return set(), set()
    batch, nodes, blocks = scope.batch, scope.nodes, scope.blocks
    touched = {k for key in batch if key in nodes and nodes[key].person for k in nodes[key].blocking_keys()}
    touched |= {k for node in before.values() if node.person for k in node.blocking_keys()}
    added: set[Pair] = set()
    removed: set[Pair] = set()
    leavers: dict[str, dict[str, GraphNode]] = {}  # block -> the batch's previous versions in it
    for k, node in before.items():
        if node.person:
            for block in node.blocking_keys():
                leavers.setdefault(block, {})[k] = node
    limit = model.max_block_size
    stored, shared, overloaded = blocks.stored, blocks.many, scope.overloaded_blocks
    # In any order: each block adds to the two sets on its own.
    for block in touched:
        # Most of a batch's blocks (nine in ten) hold its record alone in the scope, are not ranked
        # and had no previous version in them: at most one member, which pairs with none (every
        # shape pairs all of up to two members), passed over before anything is looked up.
        if block not in shared and block not in stored and block not in leavers:
            continue
        if block in overloaded:
            continue
        shape = block_shape(block)
        left = leavers.get(block, {})
        # Most of the others hold a few records, every pair both ways, and are passed over
        # without ranking them (a bound on their size: the index's members and the scope's).
        if len(stored.get(block, ())) + len(blocks.get(block)) + len(left) <= shape.dense:
            continue  # every pair both ways: only the batch's own pairs change
        now = _ranking(scope, block)
        # The block's order before the batch: its members now without the batch's records, and
        # the batch's records where their previous versions stood (all of it from the order kept).
        kept = [item for item in now.items if item[1] not in batch]
        stood = [(order_string(node.record, shape), k) for k, node in left.items()]
        size = len(kept) + len(stood)
        if max(size, len(now)) <= shape.dense:
            continue
        if min(size, len(now)) > shape.dense and max(size, len(now)) <= limit:
            # Windowed before and after: only pairs across a place the batch changed change.
            made, unmade = window_shifts(now.items, kept, stood, batch, shape.window)
            added |= made
            removed |= unmade
            continue
        then = Ranking(kept + stood, shape)
        old = set(ranked_pairs(then.keys, shape)) if len(then) <= limit else set()
        new = set(ranked_pairs(now.keys, shape)) if len(now) <= limit else set()
        added |= {p for p in new - old if p[0] not in batch and p[1] not in batch}
        removed |= {p for p in old - new if p[0] not in batch and p[1] not in batch}
    # A record the index lists but the store does not hold (filed, not committed) is no candidate.
    return (
        {p for p in added if p[0] in nodes and p[1] in nodes},
        {p for p in removed if p[0] in nodes and p[1] in nodes},
    )


def window_shifts(
    now: Sequence[tuple[str, str]],
    kept: Sequence[tuple[str, str]],
    stood: Iterable[tuple[str, str]],
    batch: Collection[str],
    window: int,
) -> tuple[set[Pair], set[Pair]]:
    """The pairs of records outside the batch that a windowed block makes and unmakes, as
    (made, unmade), without pairing the whole block twice. ``now``: the block's ``(order, key)``
    items in order; ``kept``: those of records outside the batch (the same order); ``stood``: where
    the batch's records stood before (the block then is ``kept`` with ``stood`` among it); both
    orders pair each member with the ``window`` members on either side.

    Two kept records ``i < j`` stand ``j - i`` kept places apart in both orders, plus the batch
    records between them now, or those that stood between them then: their pair changes only if a
    gap between them holds a different count in the two orders, and they are within ``window`` of
    each other. Only those pairs are looked at: a few a batch record, however long the block."""
    count = len(kept)
    entered = [0] * (count + 1)  # batch records standing now before kept[g] (after kept[g - 1])
    gap = 0
    for _, key in now:
        if key in batch:
            entered[gap] += 1
        else:
            gap += 1
    left = [0] * (count + 1)
    for item in stood:
        left[bisect_left(kept, item)] += 1
    keys = [key for _, key in kept]
    made: set[Pair] = set()
    unmade: set[Pair] = set()
    for gap in range(1, count):
        if entered[gap] == left[gap]:
            continue
        for i in range(max(0, gap - window), gap):
            for j in range(gap, min(count, i + window + 1)):
                apart = j - i
                paired_now = apart + sum(entered[i + 1 : j + 1]) <= window
                paired_then = apart + sum(left[i + 1 : j + 1]) <= window
                if paired_now != paired_then:
                    a, b = keys[i], keys[j]
                    (made if paired_now else unmade).add((a, b) if a < b else (b, a))
    return made, unmade


def shared_keys(scope: Scope, pairs: Iterable[Pair]) -> set[str]:
    """The blocking keys both records of each pair hold (read before ``unpaired``)."""
    nodes = scope.nodes
    return {k for a, b in pairs for k in set(nodes[a].blocking_keys()).intersection(nodes[b].blocking_keys())}


def unpaired(scope: Scope, pairs: Iterable[Pair]) -> set[Pair]:
    """The pairs no usable blocking key of the two records pairs now: a pair that a record
    entering a chain or a dense block parts there may still be paired by another key they share
    (a chain of a street parts them, the postcode and house number key holds them both). The
    keys they share must be read (``shared_keys``), so that their orders are the index's. The rule
    is ``block_pairs``'s, asked of the key's ``Ranking`` (members in the same order: the shape's
    fields, then the key)."""
    assert scope.model is not None
    limit, overloaded, nodes = scope.model.max_block_size, scope.overloaded_blocks, scope.nodes
    rankings: dict[str, Ranking] = {}
    out: set[Pair] = set()
    for a, b in pairs:
        for key in set(nodes[a].blocking_keys()).intersection(nodes[b].blocking_keys()):
            ranking = rankings.get(key)
            if ranking is None:
                ranking = rankings[key] = _ranking(scope, key)
            if len(ranking) > limit or key in overloaded:
                continue
            if ranking.paired(a, b):
                break
        else:
            out.add((a, b))
    return out


def _ranking(scope: Scope, key: str) -> Ranking:
    """The key's ranking: as the index keeps it, or (a key read from an index without the members'
    places) the scope's records filed under it, ranked by their fields."""
    ranking = scope.blocks.ranking(key)
    if ranking is not None:
        return ranking
    shape, nodes = block_shape(key), scope.nodes
    return Ranking([(order_string(nodes[k].record, shape), k) for k in scope.blocks.get(key)], shape)
