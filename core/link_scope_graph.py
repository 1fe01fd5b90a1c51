"""The link graph over a scope (core.link_scope.Scope): what ``ScopeGraph`` adds to the records a
scope holds. ``graph`` walks from the anchors (core.link_reach) and decides the candidate pairs it
meets, from the scope's own decisions or the settings' cache; reads people's decisions on the pairs
in doubt; and builds ``link_graph`` over what was reached, or gives the last graph again when the
round changed nothing it reads (``_GraphInputs``). ``unloaded_joined`` says which customers the
plan (core.link_plan) must load for the graph to be whole.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.link_index import BlockState, LinkIndex, ReviewItem, match_document, pair_evidence
from core.link_reach import BlockFiling, Filing, Walked, reachable
from core.link_review_index import partners_key, review_pairs
from core.linkage import Decision, GraphNode, LinkageModel, LinkageRecord, LinkResult, ReviewState, link_graph
from core.linkage.blocking import block_pairs

if TYPE_CHECKING:
    from core.identity import IdentityPolicy
    from core.link_scope import LinkageSettings
    from core.schema import SourceRecord

Pair = tuple[str, str]

__all__ = ["ScopeGraph"]


@dataclass(frozen=True, slots=True)
class _GraphInputs:
    """Everything ``link_graph`` reads in ``Scope._link`` (the model is the scope's own): two equal
    inputs give the same graph. Nodes by key, compared by value (the same objects, mostly)."""

    nodes: dict[str, GraphNode]
    decisions: Mapping[Pair, Decision] | None
    """The caller's own dict, kept without a copy: each call passes a fresh one."""
    reviews: dict[Pair, ReviewState]
    overloaded_values: frozenset[str]
    people_limits: dict[str, int]


class ScopeGraph:
    """The graph half of ``Scope`` (which sets every attribute below up: core.link_scope)."""

    model: LinkageModel | None
    linkage: LinkageSettings
    policy: IdentityPolicy
    index: LinkIndex | None
    nodes: dict[str, GraphNode]
    home: dict[str, str]
    loaded: set[str]
    batch: set[str]
    overloaded_blocks: set[str]
    overloaded_values: set[str]
    decisions: dict[Pair, Decision]
    reviews: dict[Pair, ReviewState]
    review_items: dict[Pair, ReviewItem]
    outdated: dict[Pair, ReviewItem]
    matched: dict[str, SourceRecord | str]
    looked_up: set[Pair]
    partners: dict[str, BlockState]
    read: set[str]
    result: LinkResult
    blocks: BlockFiling
    holders: Filing
    walked: Walked
    _changed: set[str]
    _changed_keys: set[str]
    _last_graph: tuple[_GraphInputs, LinkResult] | None

    def graph(self, anchors: Collection[str] | None = None) -> LinkResult:
        """The link graph over the scope. With ``anchors`` (ingest: the batch's records and those of
        the customers loaded), over the records they reach (core.link_reach), with the same
        components there; without, or when a guardrail refused a value, over every record."""
        model = self.model
        if model is None:
            self.result = self._link(list(self.nodes.values()))
            return self.result
        limit, overloaded = model.max_block_size, self.overloaded_blocks
        if anchors is not None:
            # Only the pairs that are candidates now: a pair decided in an earlier round may have
            # stopped being one (a dense block read in full pairs a record with its neighbours only).
            candidates: set[Pair] = set()

            def decide(pairs: Sequence[Pair]) -> dict[Pair, Decision]:
                candidates.update(pairs)
                return self._decide(pairs)

            self._forget_walks()
            within = reachable(
                anchors,
                self.nodes,
                self.blocks,
                limit,
                overloaded,
                self.holders,
                decide,
                self.walked,
                candidates.update,
            )
            self._read_reviews(anchors)
            decided = {p: self.decisions[p] for p in candidates if p[0] in within and p[1] in within}
            result = self._link([self.nodes[k] for k in within], decided)
            if not result.overloaded:
                self.result = result
                return result
        pairs: set[tuple[str, str]] = set()

        def record(key: str) -> LinkageRecord:
            return self.nodes[key].record

        blocks = self.blocks
        for block, members in blocks.many.items():  # a block of one node pairs it with none
            if block in overloaded:
                continue
            if block in blocks.stored:  # ranked as the index keeps it: its pairs among the scope's
                if len(blocks.ranking(block) or ()) <= limit:
                    pairs.update(blocks.pairs(block))
            elif len(members) <= limit:
                pairs.update(block_pairs(members, record, block))  # every pair, or its neighbours
        decided = self._decide(sorted(pairs))
        self._read_reviews(self.nodes)
        self.result = self._link(list(self.nodes.values()), decided)
        return self.result

    def _forget_walks(self) -> None:
        """Drop what the kept walk found from the nodes a change since touches: the nodes put, and
        every node holding a name whose holders (or overload) changed."""
        walked = self.walked
        if walked:
            for key in self._changed_keys:
                walked.pop(key, None)
            blocks, holders = self.blocks, self.holders
            for name in self._changed:
                for key in blocks.get(name):
                    walked.pop(key, None)
                for key in holders.get(name):
                    walked.pop(key, None)
        self._changed.clear()
        self._changed_keys.clear()

    def _decide(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Decision]:
        """The decisions on pairs of keys (each sorted), from this scope's own or the settings' cache;
        kept in ``decisions``."""
        assert self.model is not None
        decisions = self.decisions
        out: dict[tuple[str, str], Decision] = {}
        new: list[tuple[str, str]] = []
        for pair in pairs:
            found = decisions.get(pair)
            if found is None:
                new.append(pair)
            else:
                out[pair] = found
        if new:
            fresh = self.linkage.decisions.decide_keys(new, self.nodes, self.model)
            decisions.update(fresh)
            out.update(fresh)
        return out

    def _link(
        self, nodes: Sequence[GraphNode], decisions: Mapping[tuple[str, str], Decision] | None = None
    ) -> LinkResult:
        # ``decisions`` is a fresh dict of the caller's (none without a model), never changed after:
        # kept as it is, not copied (a copy of every decision on every graph).
        decided = decisions if self.model is not None else None
        limits = self.linkage.limits(self.policy)
        # ``link_graph`` is a function of these inputs alone. A round that only loaded the customers
        # of records the scope already held (most second rounds) gives the graph the same ones:
        # its result is the last one (at 3,000 people half the graphs ingest built).
        inputs = _GraphInputs(
            {node.key: node for node in nodes},
            decided,
            dict(self.reviews),
            frozenset(self.overloaded_values),
            limits,
        )
        last = self._last_graph
        if last is not None and last[0] == inputs:
            return last[1]
        result = link_graph(
            nodes,
            self.model,
            decided,
            people_limits=limits,
            overloaded_values=inputs.overloaded_values,
            reviews=inputs.reviews,
        )
        self._last_graph = (inputs, result)
        return result

    def _read_reviews(self, records: Collection[str]) -> None:
        """Read people's decisions on the pairs in doubt, and on the pairs the review partners of
        ``records`` list (an accepted or rejected pair binds whether or not its records are still
        candidates: their blocking keys may no longer pair them)."""
        if self.index is None:
            return
        wanted = [p for p, d in self.decisions.items() if d.outcome != "no_link" and p not in self.looked_up]
        wanted += self._partner_pairs(records)
        if not wanted:
            return
        self.looked_up.update(wanted)
        for pair, item in self.index.get_reviews(wanted).items():
            self.review_items[pair] = item
            if item.status != "pending" and not item.applies_to(self.evidence(pair)):
                self.outdated[pair] = item  # scored as if undecided (core.link_plan queues it again)
                continue
            self.reviews[pair] = ReviewState(
                item.status, item.decided_by or "", item.decided_at.isoformat() if item.decided_at else ""
            )

    def _partner_pairs(self, records: Collection[str]) -> list[Pair]:
        """The pairs the review partners entries of the stored ``records`` list (read once each),
        both of whose records the scope holds, not looked up yet."""
        assert self.index is not None
        stored = [k for k in records if k in self.home or k in self.batch]
        read = self.read
        unread = sorted(key for k in stored if (key := partners_key(k)) not in read)
        if unread:
            read.update(unread)
            self.partners.update(self.index.get_blocks(unread))
        nodes, looked_up = self.nodes, self.looked_up
        return sorted(
            p
            for p in review_pairs(self.partners, stored)
            if p[0] in nodes and p[1] in nodes and p not in looked_up
        )

    def evidence(self, pair: Pair) -> str:
        """``pair_evidence`` of the pair's records as the scope holds them."""
        a, b = (self.matched[key] for key in pair)
        return pair_evidence(
            a if isinstance(a, str) else match_document(a), b if isinstance(b, str) else match_document(b)
        )

    def decide_pairs(self, pairs: Iterable[Pair]) -> dict[Pair, Decision]:
        """The decisions on pairs of the scope's keys (each sorted)."""
        return self._decide(pairs)

    def anchors(self) -> set[str]:
        """The records ingest plans for: the batch's, and every record of the customers loaded."""
        return self.batch | {key for key, cid in self.home.items() if cid in self.loaded}

    def unloaded_joined(self, result: LinkResult) -> set[str]:
        """Customers not loaded yet that hold a record the graph joins to another, or whose records
        the graph puts in two components (a link of theirs now refused: the cap, a conflict)."""
        out: set[str] = set()
        parts: dict[str, int] = {}
        for component in result.components:
            for cid in {self.home.get(key) for key in component}:
                if cid is not None and cid not in self.loaded:
                    parts[cid] = parts.get(cid, 0) + 1
            if len(component) < 2:
                continue
            homes = {self.home.get(key) for key in component}
            unloaded = {cid for cid in homes if cid is not None and cid not in self.loaded}
            if not unloaded:
                continue
            if len(homes) == 1 and not any(key in self.batch for key in component):
                # Candidates of one stored customer joined to one another and to nothing of the
                # batch's: that customer already holds them together, and nothing of it changes.
                continue
            out |= unloaded
        return out | {cid for cid, count in parts.items() if count > 1}
