"""The link graph's nodes and the candidate pairs among them (core.linkage.graph).

``GraphNode`` is a record as the graph sees it (``make_node`` builds one without the frozen
``__init__``); ``identifier_values`` names what a record holds; ``block_members``,
``candidate_index_pairs`` and ``decide_pairs`` find and decide the pairs sharing a blocking key.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from core.linkage.blocking import block_pairs, blocking_keys
from core.linkage.fields import LinkageRecord
from core.linkage.linking import Decision, decide
from core.linkage.model import LinkageModel
from core.linkage.slots import slot_maker


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One record in the graph: its fields, whether it is a person, and what it holds.

    ``links``: source keys that join unconditionally (``source#`` + its own key, and a child's owner).
    ``values``: identifier values as ``kind#value`` (``email#<match key>``, ``phone#+44...``,
    ``national_id#...``), the blocklisted ones already left out. Child objects (``person=False``)
    are never fuzzy-matched and never count towards a value's people.
    """

    record: LinkageRecord
    person: bool = True
    links: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    blocks: tuple[str, ...] | None = field(default=None, compare=False)
    """The record's blocking keys (``blocking_keys``), when the maker computed them once: ingest
    builds the graph of every batch over the same stored nodes. None: computed when needed."""

    @property
    def key(self) -> str:
        return self.record.key

    def blocking_keys(self) -> tuple[str, ...]:
        return self.blocks if self.blocks is not None else blocking_keys(self.record)


make_node: Final = slot_maker(GraphNode)
"""``GraphNode(record, person, links, values, blocks)``, every field given, without the frozen
``__init__`` (core.linkage.slots): ingest makes two a record."""


@dataclass(frozen=True, slots=True)
class ReviewState:
    """A person's decision on a pair (``accepted`` / ``rejected``), or ``pending``."""

    status: Literal["pending", "accepted", "rejected"]
    by: str = ""
    at: str = ""


def identifier_values(record: LinkageRecord) -> tuple[str, ...]:
    """The identifier values a record holds, as the graph joins on them (match keys, not addresses)."""
    values = [f"email#{key}" for key in record.email_keys]
    values += [f"phone#{phone}" for phone in record.phones]
    if record.national_id:
        values.append(f"national_id#{record.national_id}")
    return tuple(values)


def block_members(
    nodes: Sequence[GraphNode], max_block_size: int, overloaded: Collection[str] = ()
) -> tuple[dict[str, list[int]], dict[str, int]]:
    """The usable blocking keys of the person nodes, each with its members (indexes into ``nodes``,
    ascending), and the keys left out as overloaded with their sizes: more than ``max_block_size``
    members among the nodes, or listed in ``overloaded`` by an index. The blocks
    ``core.linkage.blocking.candidate_pairs`` makes of the same records, from the nodes' own keys."""
    blocks: dict[str, list[int]] = {}
    for i, node in enumerate(nodes):
        if node.person:
            for key in node.blocking_keys():
                blocks.setdefault(key, []).append(i)
    left_out: dict[str, int] = {}
    for key, members in list(blocks.items()):
        if len(members) > max_block_size or key in overloaded:
            left_out[key] = len(members)
            del blocks[key]
    return blocks, left_out


def candidate_index_pairs(
    nodes: Sequence[GraphNode], model: LinkageModel, overloaded: Collection[str] = ()
) -> tuple[set[tuple[int, int]], dict[str, int]]:
    """Index pairs (into ``nodes``, smaller first) of person nodes sharing a usable blocking key, and
    the keys left out as overloaded (within the nodes, or listed in ``overloaded`` by an index)."""
    blocks, left_out = block_members(nodes, model.max_block_size, overloaded)
    pairs: set[tuple[int, int]] = set()

    def record(index: int) -> LinkageRecord:
        return nodes[index].record

    for key, members in blocks.items():
        pairs.update(block_pairs(members, record, key))  # every pair, or a dense block's neighbours
    return pairs, left_out


def decide_pairs(
    nodes: Sequence[GraphNode], pairs: Iterable[tuple[int, int]], model: LinkageModel
) -> dict[tuple[str, str], Decision]:
    """``decide`` on each pair, keyed by the sorted pair of record keys."""
    out: dict[tuple[str, str], Decision] = {}
    for x, y in pairs:
        decision = decide(nodes[x].record, nodes[y].record, model)
        out[(decision.a, decision.b)] = decision
    return out
