"""Probabilistic identity in ingest: the records a batch touches, found through the store's index,
and the link graph (core.linkage.graph) over them.

The graph is built over the *scope*: the batch, the records of every customer it touches, and the
candidates. Edges depend on the records alone (pairs) or on a value's holders (the index lists them
all), never on arrival order, so the customers the pipeline plans are the components the graph has
over all the records, whatever order they came in (the property tests check it against one batch).
Which links join also depends on each linked record's other links (the cap of groups a record
joins, a conflict in the component they would make), so the scope reads the blocking keys of every
record the graph links fuzzily, not only the batch's (``Scope.widen``). What the scope cannot see:
a block key's overloaded state beyond the keys it read (docs/identity.md, Limits).

``Scope`` is what ingest plans with (core.link_plan), and what splits (``linked_groups``) and
``explain`` (core.explain) build the graph with. Records become graph nodes in core.link_nodes; the
graph itself (the walk, the decisions, ``link_graph``) is core.link_scope_graph's ``ScopeGraph``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.identity import IdentityPolicy, live_owner
from core.link_filed import FILED_PREFIX
from core.link_index import BlockState, LinkIndex, ReviewItem
from core.link_nodes import _as_match_node, _match_node, graph_node
from core.link_reach import BlockFiling, CandidateNodes, DecisionCache, Filing, Walked
from core.link_review_index import PARTNERS_PREFIX
from core.link_scope_graph import ScopeGraph, _GraphInputs
from core.linkage import (
    DEFAULT_PEOPLE_LIMITS,
    Decision,
    GraphNode,
    LinkageModel,
    LinkResult,
    ReviewState,
    default_model,
)
from core.linkage.blocking import CHAIN_DENSE
from core.linkage.graph import MAX_HOLDERS_COMPARED
from core.ports import CustomerState, ProfileStore
from core.schema import SourceRecord

if TYPE_CHECKING:
    from core.ingest_settings import IngestSettings

Pair = tuple[str, str]


__all__ = [
    "DecisionCache",
    "LinkageSettings",
    "Scope",
]


@dataclass(frozen=True)
class LinkageSettings:
    """Probabilistic identity in ingest. ``model`` None: identifier values only (match keys, people
    counted, conflicts), no fuzzy links. ``people_limits`` add to the policy's per-kind limits (which
    win for email and phone, so a policy's limits apply in people)."""

    model: LinkageModel | None = field(default_factory=default_model)
    people_limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_PEOPLE_LIMITS))
    model_name: str = ""
    """How review items name the model (its file or ``default``)."""
    decisions: DecisionCache = field(default_factory=lambda: DecisionCache(), compare=False, repr=False)
    """Pair decisions kept between batches (a decision depends on the two records and the model only)."""
    candidates: CandidateNodes = field(default_factory=lambda: CandidateNodes(), compare=False, repr=False)
    """Graph nodes of candidates read through their match fields, kept between batches."""

    def limits(self, policy: IdentityPolicy) -> dict[str, int]:
        return {**self.people_limits, **policy.max_records_per_identifier}

    def index_limits(self) -> dict[str, int]:
        block = self.model.max_block_size if self.model is not None else 100
        return {"block": block, "id": MAX_HOLDERS_COMPARED}


class Scope(ScopeGraph):
    """The records around a batch (or a customer), and the link graph over them.

    ``nodes`` holds every record the graph sees; ``home`` the customer of each stored one. Customers
    in ``loaded`` have all their records among the nodes; other nodes are candidates read through
    their match fields. Decisions and reviews are cached across rounds.
    """

    def __init__(self, store: ProfileStore, settings: IngestSettings) -> None:
        assert settings.linkage is not None
        self.store = store
        self.index: LinkIndex | None = store if isinstance(store, LinkIndex) else None
        self.policy = settings.policy
        self.linkage = settings.linkage
        self.model = settings.linkage.model
        self.nodes: dict[str, GraphNode] = {}
        self.home: dict[str, str] = {}
        self.loaded: set[str] = set()
        self.batch: set[str] = set()
        self.overloaded_blocks: set[str] = set()
        self.overloaded_values: set[str] = set()
        self.read: set[str] = set()
        self.decisions: dict[tuple[str, str], Decision] = {}
        self.reviews: dict[tuple[str, str], ReviewState] = {}
        self.review_items: dict[tuple[str, str], ReviewItem] = {}
        self.outdated: dict[tuple[str, str], ReviewItem] = {}
        """Decisions read that were taken on other versions of their records: not applied."""
        self.matched: dict[str, SourceRecord | str] = {}
        """What each node was made from: its record, or a candidate's match document."""
        self.looked_up: set[tuple[str, str]] = set()
        self.as_read: dict[str, frozenset[str]] = {}
        """The members of each index key not overloaded when it was read (core.link_recheck reads the
        batch's again after its commit)."""
        self.unowned: set[str] = set()
        """Candidates read filed but not stored: a filing cut short, or another writer's not yet
        committed (skipped; core.link_recheck)."""
        self.partners: dict[str, BlockState] = {}
        """The review partners entries read (core.link_review_index), and where the batch's records
        were filed (core.link_filed), by index key."""
        self.result: LinkResult = LinkResult()
        # Kept as nodes come and go, so that a graph costs what it reaches, not the whole scope.
        self.blocks = BlockFiling(self.nodes)
        """Blocking key -> the person nodes filed under it, and the order of each key read."""
        self.holders = Filing()
        """Identifier value (``email#...``) or source key (``source#...``) -> the nodes holding it."""
        # What the walk found from each node (core.link_reach.reachable), kept between rounds: a
        # round after the first meets mostly the same records (at 3,000 people it decided no new
        # pair), and walking them again cost a tenth of ingest. A node put, and an index key found
        # overloaded, make their names ``_changed``; the entries of every node holding one of them
        # (and of the nodes put) are dropped before the next walk.
        self.walked: Walked = {}
        self._changed: set[str] = set()
        self._changed_keys: set[str] = set()
        self._last_graph: tuple[_GraphInputs, LinkResult] | None = None

    # -- what the scope holds ------------------------------------------------------------------

    def _put(self, key: str, node: GraphNode) -> None:
        previous = self.nodes.get(key)
        if previous is not None:
            if previous == node:
                return
            # A candidate read through its match fields, now loaded: decide its pairs again.
            self.decisions = {p: d for p, d in self.decisions.items() if key not in p}
            self._file(key, previous, remove=True)
            self._note_change(key, previous)
        self.nodes[key] = node
        self._file(key, node)
        self._note_change(key, node)

    def _note_change(self, key: str, node: GraphNode) -> None:
        """Note the names of a node put in the scope (or replaced) once a walk has been kept."""
        if self.walked:
            self._changed_keys.add(key)
            self._changed.update(node.values + node.links)
            if node.person:
                self._changed.update(node.blocking_keys())

    def _file(self, key: str, node: GraphNode, *, remove: bool = False) -> None:
        """Add (or remove) the node under its values, source keys and, for a person, blocking keys."""
        if remove:
            self.holders.remove(key, node.values + node.links)
            if node.person:
                self.blocks.remove(key, node.blocking_keys())
            return
        self.holders.add(key, node.values + node.links)
        if node.person:
            self.blocks.add(key, node.blocking_keys())

    def add_batch(self, records: Iterable[SourceRecord]) -> None:
        for record in records:
            self.batch.add(record.key)
            self.matched[record.key] = record
            node = graph_node(record, self.policy)
            self._put(record.key, node)
            if self.model is not None:
                # Later batches read this record back as a candidate: keep the node they would make.
                seeded = _as_match_node(record, node, self.policy)
                if seeded is not None:
                    self.linkage.candidates.put(record.key, seeded[0], self.policy, seeded[1])

    def add_customer(self, state: CustomerState) -> None:
        """All of a customer's records (a batch record keeps its new version)."""
        self.loaded.add(state.customer_id)
        for key, snapshot in state.snapshots.items():
            self.home[key] = state.customer_id
            if key not in self.batch:
                self.matched[key] = snapshot
                self._put(key, graph_node(snapshot, self.policy))

    def add_candidates(self, keys: Iterable[str], merged_into: Mapping[str, str]) -> set[str]:
        """Read the candidates' match fields; return the customers of those stored without them."""
        wanted = sorted(k for k in keys if k not in self.nodes)
        if not wanted:
            return set()
        sources = [f"source#{k}" for k in wanted]
        owners = self.store.get_owners(sources)
        missing: set[str] = set()
        home, nodes, policy, matched = self.home, self.nodes, self.policy, self.matched
        known, get_node = self.linkage.candidates.known, self.linkage.candidates.get
        file_holders, file_blocks = self.holders.add, self.blocks.add
        noting = bool(self.walked)
        for key, source in zip(wanted, sources, strict=True):
            owner = owners.get(source)
            if owner is None:
                self.unowned.add(key)  # filed but not stored (a write cut short, or not committed yet)
                continue
            home[key] = live_owner(owner.customer_id, merged_into)
            match = owner.match
            if match is None:
                missing.add(home[key])  # stored before the index had match fields: load its customer
                continue
            matched[key] = match
            # ``CandidateNodes.get``, its hit read inline (most candidates were read by a batch before).
            found = known.get((key, match))
            node = (
                found[1]
                if found is not None and found[0] is policy
                else get_node(key, match, policy, _match_node)
            )
            nodes[key] = node  # ``_put`` of a key the scope does not hold (``wanted``): ``_file`` inline
            file_holders(key, node.values + node.links)
            if node.person:
                file_blocks(key, node.blocking_keys())
            if noting:
                self._note_change(key, node)
        return missing

    def read_index(self, keys: Iterable[str], *, whole: bool = True) -> set[str]:
        """Read index keys not read yet; return their members (and note the overloaded ones). Not
        ``whole``: a crowded block whose members' places the index keeps is ranked instead, and
        its members are not returned: the plan reads the ones next to its records
        (``BlockFiling.needed``), and the walk asks for more (``widen``)."""
        todo = sorted(set(keys) - self.read)
        if not todo or self.index is None:
            return set()
        self.read.update(todo)
        members: set[str] = set()
        blocks: dict[str, BlockState] = self.index.get_blocks(todo)
        for key, state in blocks.items():
            if key.startswith((PARTNERS_PREFIX, FILED_PREFIX)):
                self.partners[key] = state  # a record's review partners, or where it was filed
                continue
            if not state.overloaded:  # an overloaded key pairs nobody
                self.as_read[key] = state.members
            if state.overloaded:
                if key.startswith("id:"):
                    self.overloaded_values.add(key[3:])
                else:
                    self.overloaded_blocks.add(key)
                    self._changed.add(key)  # its members' pairs are gone
            # A key of a few members pairs every two of them in any shape: ``note`` would keep nothing
            # (nor has anything of it to forget: a scope reads each key once), so it is not asked.
            if len(state.members) > CHAIN_DENSE and not key.startswith("id:") and self.blocks.note(state):
                self._changed.add(key)  # ranked as the index keeps it: walks through it are redone
                if not whole:
                    continue
            members.update(state.members)
            if state.children:
                members.update(state.children)
        return members

    def shared_values(self) -> set[str]:
        """Index keys of the values two or more records of the scope hold (their holders matter)."""
        return {f"id:{v}" for v in self.holders.shared() if not v.startswith("source#")}

    def widen(self, result: LinkResult, merged_into: Mapping[str, str]) -> tuple[set[str], bool]:
        """Read the blocking keys not read yet of every record the graph links fuzzily: which links
        join (the cap of groups a record joins, a conflict in the component) depends on each linked
        record's other links, so all of them must be in the scope, whichever batch brings it. Returns
        the customers of records stored without match fields, and whether records were added."""
        if self.model is None or self.index is None:
            return set(), False
        nodes, read = self.nodes, self.read
        # The neighbours the walk wanted in ranked blocks and the scope lacks (read once each).
        blocks = self.blocks
        neighbours = blocks.missing - blocks.tried - set(nodes)
        blocks.missing.clear()
        blocks.tried |= neighbours
        wanted: set[str] = set()
        linked: set[str] = set()
        for decision in result.decisions:
            if decision.outcome == "link":
                for key in (decision.a, decision.b):
                    node = nodes[key]
                    if node.person:
                        linked.add(key)
                        wanted.update(k for k in node.blocking_keys() if k not in read)
        count, ranked = len(nodes), len(blocks.stored)
        found = self.read_index(wanted, whole=False) if wanted else set()
        for block in wanted:  # the linked records' neighbours in the crowded blocks just read
            ranking = blocks.ranking(block)
            if ranking is not None and ranking.windowed:
                for key in linked.intersection(blocks.get(block)):
                    neighbours.update(k for k in ranking.neighbours(key) if k not in nodes)
        missing = self.add_candidates((found | neighbours) - set(nodes), merged_into)
        # Records added, or a block now ranked as the index keeps it: the graph is made again.
        return missing, len(nodes) > count or len(blocks.stored) > ranked
