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

from collections.abc import Iterable, Mapping

from core.link_scope import Scope
from core.linkage import GraphNode, LinkageRecord
from core.linkage.blocking import block_pairs, block_shape, ranked_pairs

Pair = tuple[str, str]

__all__ = ["shared_keys", "shifted_pairs", "unpaired"]


def shifted_pairs(scope: Scope, before: Mapping[str, GraphNode]) -> tuple[set[Pair], set[Pair]]:
    """The candidate pairs of other records that the batch's records make or unmake in a dense
    block (core.linkage.blocking: its records meet their neighbours only), as (added, removed):
    a record entering a dense block (or moving in its order) parts two neighbours that were
    paired; one leaving it pairs two that were not. ``before``: the batch records' previous
    nodes (a record gone, retired or erased, is in ``batch`` with no node). Call after the batch's
    blocking keys are read (their members are all in the scope)."""
    model = scope.model
    if model is None:
        return set(), set()
    batch, nodes = scope.batch, scope.nodes
    touched = {k for key in batch if key in nodes and nodes[key].person for k in nodes[key].blocking_keys()}
    touched |= {k for node in before.values() if node.person for k in node.blocking_keys()}
    added: set[Pair] = set()
    removed: set[Pair] = set()
    # A block has at most its members now and the batch records that left it: most of a batch's
    # blocks hold a few records, every pair both ways, and are passed over without sets.
    leavers = sum(1 for node in before.values() if node.person)
    blocks = scope.blocks
    dense = [k for k in touched if len(blocks.get(k)) + leavers > block_shape(k).dense]
    for block in sorted(dense):
        after_members = set(blocks.get(block))
        left = {k for k, node in before.items() if node.person and block in node.blocking_keys()}
        before_members = {k for k in after_members if k not in batch or k in left} | left
        if max(len(before_members), len(after_members)) <= block_shape(block).dense:
            continue  # every pair both ways: only the batch's own pairs change
        if block in scope.overloaded_blocks:
            continue
        if not left and len(after_members) <= model.max_block_size:
            # Records entering only (most batches): the block's order before is its order now
            # without them, so it is sorted once.
            shape = block_shape(block)
            order = shape.order
            ranked = sorted(after_members, key=lambda k: order(nodes[k].record))
            new = set(ranked_pairs(ranked, shape))
            old = set(ranked_pairs([k for k in ranked if k not in batch], shape))
        else:
            old = _block_pairs(scope, block, before_members, before, model.max_block_size)
            new = _block_pairs(scope, block, after_members, {}, model.max_block_size)
        added |= {p for p in new - old if p[0] not in batch and p[1] not in batch}
        removed |= {p for p in old - new if p[0] not in batch and p[1] not in batch}
    return added, removed


def shared_keys(scope: Scope, pairs: Iterable[Pair]) -> set[str]:
    """The blocking keys both records of each pair hold (read whole before ``unpaired``)."""
    nodes = scope.nodes
    return {k for a, b in pairs for k in set(nodes[a].blocking_keys()).intersection(nodes[b].blocking_keys())}


def unpaired(scope: Scope, pairs: Iterable[Pair]) -> set[Pair]:
    """The pairs no usable blocking key of the two records pairs now: a pair that a record
    entering a chain or a dense block parts there may still be paired by another key they share
    (a chain of a street parts them, the postcode and house number key holds them both). The
    keys they share must be read (``shared_keys``), so that their members are the index's."""
    assert scope.model is not None
    limit, overloaded, blocks, nodes = (
        scope.model.max_block_size,
        scope.overloaded_blocks,
        scope.blocks,
        scope.nodes,
    )
    ranked: dict[str, list[str]] = {}
    out: set[Pair] = set()
    for a, b in pairs:
        for key in set(nodes[a].blocking_keys()).intersection(nodes[b].blocking_keys()):
            members = blocks.get(key)
            if len(members) > limit or key in overloaded:
                continue
            shape = block_shape(key)
            if len(members) <= shape.dense:
                break
            order = ranked.get(key)
            if order is None:
                by = shape.order
                order = ranked[key] = sorted(members, key=lambda k: by(nodes[k].record))
            if abs(order.index(a) - order.index(b)) <= shape.window:
                break
        else:
            out.add((a, b))
    return out


def _block_pairs(
    scope: Scope, block: str, members: set[str], nodes: Mapping[str, GraphNode], limit: int
) -> set[Pair]:
    if len(members) > limit:
        return set()

    def record(key: str) -> LinkageRecord:
        return (nodes.get(key) or scope.nodes[key]).record

    return set(block_pairs(members, record, block))
