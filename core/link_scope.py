"""Probabilistic identity in ingest: the records a batch touches, found through the store's index,
and the components the link graph (core.linkage.graph) makes of them.

    batch -> file its records under their index keys (blocking keys, identifier values)
          -> read those keys: the candidates, and which keys are overloaded
          -> read the candidates' match fields (their source identifiers), decide the pairs
          -> load the customers of every record the graph joins to the batch, and the holders of
             the values the scope's records share; decide again, until nothing new is joined
          -> components of the graph -> one plan per group of components sharing a customer

The graph is built over the *scope*: the batch, the records of every customer it touches, and the
candidates. Edges depend on the records alone (pairs) or on a value's holders (the index lists them
all), never on arrival order, so the customers the pipeline plans are the components the graph has
over all the records, whatever order they came in (the property tests check it against one batch).
Which links join also depends on each linked record's other links (the cap of groups a record
joins, a conflict in the component they would make), so the scope reads the blocking keys of every
record the graph links fuzzily, not only the batch's (``Scope.widen``). What the scope cannot see:
a block key's overloaded state beyond the keys it read (docs/identity.md, Limits).

``Scope`` is also what splits (``linked_groups``) and ``explain`` (core.explain) build the graph with.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from core.identity import Component, GuardrailHit, IdentityPolicy, live_owner
from core.link_index import (
    BlockState,
    LinkIndex,
    ReviewItem,
    changes_for,
    fields_from_match,
    match_document,
)
from core.link_reach import CandidateNodes, DecisionCache, reachable
from core.link_review_index import drop_review_pairs, partners_key, review_pairs, settle_reviews
from core.linkage import (
    DEFAULT_PEOPLE_LIMITS,
    Decision,
    GraphNode,
    LinkageModel,
    LinkageRecord,
    LinkResult,
    ReviewState,
    blocking_keys,
    default_model,
    email_match_key,
    link_graph,
    linkage_record,
)
from core.linkage.graph import MAX_HOLDERS_COMPARED
from core.ports import CustomerState, ProfileStore
from core.schema import Identifier, SourceRecord

if TYPE_CHECKING:
    from core.pipeline import IngestSettings

__all__ = [
    "DecisionCache",
    "LinkageSettings",
    "LinkedPlan",
    "Scope",
    "direct_pairs",
    "forget_records",
    "graph_node",
    "index_keys",
    "linked_groups",
    "plan_linked",
]

#: Rounds of "load what the graph joined, decide again" before the plan goes ahead with what it has.
MAX_ROUNDS: Final = 6


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


def _values(
    record: LinkageRecord, identifiers: Iterable[Identifier], policy: IdentityPolicy
) -> tuple[str, ...]:
    values: list[str] = []
    for ident in identifiers:
        if ident.kind == "source" or policy.is_blocked(ident):
            continue
        values.append(f"email#{email_match_key(ident.value)}" if ident.kind == "email" else ident.key)
    if record.national_id:
        values.append(f"national_id#{record.national_id}")
    return tuple(dict.fromkeys(values))


def graph_node(record: SourceRecord, policy: IdentityPolicy) -> GraphNode:
    """The graph node of a stored or incoming record. Blocklisted emails and phones are left out of
    its fields too: a ``noreply@`` address is no evidence, exact or fuzzy.

    Kept in the record's ``__dict__`` per policy, as ``SourceRecord.key`` is: the in-memory store
    hands the same snapshots to every batch, and a customer with 500 orders was prepared again for
    each of them (pydantic compares and serialises fields only; ``model_copy`` drops the entry)."""
    cached = record.__dict__.get("_graph_node")
    if cached is not None and cached[0] is policy:
        node: GraphNode = cached[1]
        return node
    node = _graph_node(record, policy)
    record.__dict__["_graph_node"] = (policy, node)
    return node


def _graph_node(record: SourceRecord, policy: IdentityPolicy) -> GraphNode:
    usable = [i for i in record.identifiers if i.kind != "source" and not policy.is_blocked(i)]
    prepared = linkage_record(
        record.key,
        record.traits,
        [i.value for i in usable if i.kind == "email"],
        [i.value for i in usable if i.kind == "phone"],
    )
    person = record.level == "person"
    return GraphNode(
        prepared,
        person=person,
        links=tuple(i.key for i in record.identifiers if i.kind == "source"),
        values=_values(prepared, usable, policy),
        blocks=blocking_keys(prepared) if person else (),
    )


def _match_node(key: str, match: str, policy: IdentityPolicy) -> GraphNode:
    fields = fields_from_match(match)
    identifiers = [Identifier.assemble(kind="email", value=e) for e in fields.emails]
    identifiers += [Identifier.assemble(kind="phone", value=p) for p in fields.phones]
    usable = [i for i in identifiers if not policy.is_blocked(i)]
    prepared = linkage_record(
        key,
        fields.traits,
        [i.value for i in usable if i.kind == "email"],
        [i.value for i in usable if i.kind == "phone"],
    )
    links = (f"source#{key}",) + ((f"source#{fields.owner}",) if fields.owner else ())
    blocks = () if fields.child else blocking_keys(prepared)
    return GraphNode(prepared, not fields.child, links, _values(prepared, usable, policy), blocks)


def _as_match_node(
    record: SourceRecord, node: GraphNode, policy: IdentityPolicy
) -> tuple[str, GraphNode] | None:
    """The record's ``match`` document and the node ``_match_node`` makes of it, from the record's own
    node, when the two are the same by construction: identifiers of the kinds the document keeps,
    text traits (they read back from JSON unchanged) and the source links the document implies."""
    if any(i.kind not in _MATCHED_KINDS for i in record.identifiers):
        return None
    if not all(isinstance(v, str) for v in record.traits.values()):
        return None
    child = record.level != "person"
    links = (f"source#{record.key}",) + ((f"source#{record.owner}",) if child and record.owner else ())
    if node.links != links:
        return None
    ordered = [i for i in record.identifiers if i.kind == "email"]
    ordered += [i for i in record.identifiers if i.kind == "phone"]
    values = _values(node.record, ordered, policy)
    blocks = () if child else node.blocks
    return match_document(record), GraphNode(node.record, not child, links, values, blocks)


_MATCHED_KINDS: Final = frozenset({"email", "phone", "source"})


def index_keys(node: GraphNode, model: LinkageModel | None) -> tuple[str, ...]:
    """The index keys a record is filed under: its blocking keys (with a model) and ``id:`` + each
    identifier value. A child object is filed under its values only (a guest order's email), apart
    from the people (core.link_index.BlockChange); it is never fuzzy-matched."""
    if not node.person:
        return tuple(f"id:{value}" for value in node.values)
    keys = list(node.blocking_keys()) if model is not None else []
    keys += [f"id:{value}" for value in node.values]
    return tuple(dict.fromkeys(keys))


class Scope:
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
        self.looked_up: set[tuple[str, str]] = set()
        self.result: LinkResult = LinkResult()
        # Kept as nodes come and go, so that a graph costs what it reaches, not the whole scope.
        self.blocks: dict[str, set[str]] = {}
        """Blocking key -> the person nodes filed under it."""
        self.holders: dict[str, set[str]] = {}
        """Identifier value (``email#...``) or source key (``source#...``) -> the nodes holding it."""

    # -- what the scope holds ------------------------------------------------------------------

    def _put(self, key: str, node: GraphNode) -> None:
        previous = self.nodes.get(key)
        if previous is not None:
            if previous == node:
                return
            # A candidate read through its match fields, now loaded: decide its pairs again.
            self.decisions = {p: d for p, d in self.decisions.items() if key not in p}
            self._file(key, previous, remove=True)
        self.nodes[key] = node
        self._file(key, node)

    def _file(self, key: str, node: GraphNode, *, remove: bool = False) -> None:
        """Add (or remove) the node under its values, source keys and, for a person, blocking keys."""
        for where, names in (
            (self.holders, (*node.values, *node.links)),
            (self.blocks, node.blocking_keys() if node.person else ()),
        ):
            for name in names:
                held = where.get(name)
                if remove:
                    if held is not None:
                        held.discard(key)
                elif held is None:
                    where[name] = {key}
                else:
                    held.add(key)

    def add_batch(self, records: Iterable[SourceRecord]) -> None:
        for record in records:
            self.batch.add(record.key)
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
                self._put(key, graph_node(snapshot, self.policy))

    def add_candidates(self, keys: Iterable[str], merged_into: Mapping[str, str]) -> set[str]:
        """Read the candidates' match fields; return the customers of those stored without them."""
        wanted = sorted(k for k in keys if k not in self.nodes)
        if not wanted:
            return set()
        owners = self.store.get_owners([f"source#{k}" for k in wanted])
        missing: set[str] = set()
        for key in wanted:
            owner = owners.get(f"source#{key}")
            if owner is None:
                continue  # filed but not stored (a write cut short, or not committed yet)
            cid = live_owner(owner.customer_id, merged_into)
            self.home[key] = cid
            if owner.match is not None:
                self._put(key, self.linkage.candidates.get(key, owner.match, self.policy, _match_node))
            else:
                missing.add(cid)  # stored before the index had match fields: load its customer
        return missing

    def read_index(self, keys: Iterable[str]) -> set[str]:
        """Read index keys not read yet; return their members (and note the overloaded ones)."""
        todo = sorted(set(keys) - self.read)
        if not todo or self.index is None:
            return set()
        self.read.update(todo)
        members: set[str] = set()
        blocks: dict[str, BlockState] = self.index.get_blocks(todo)
        for key, state in blocks.items():
            if state.overloaded:
                if key.startswith("id:"):
                    self.overloaded_values.add(key[3:])
                else:
                    self.overloaded_blocks.add(key)
            members |= state.members | state.children
        return members

    def shared_values(self) -> set[str]:
        """Index keys of the values two or more records of the scope hold (their holders matter)."""
        holders = self.holders.items()
        return {f"id:{v}" for v, held in holders if len(held) >= 2 and not v.startswith("source#")}

    # -- the graph -----------------------------------------------------------------------------

    def graph(self, anchors: Collection[str] | None = None) -> LinkResult:
        """The link graph over the scope. With ``anchors`` (ingest: the batch's records and those of
        the customers loaded), over the records they reach (core.link_reach), with the same
        components there; without, or when a guardrail refused a value, over every record."""
        model = self.model
        if model is None:
            self.result = self._link(list(self.nodes.values()))
            return self.result
        limit, overloaded = model.max_block_size, self.overloaded_blocks

        def usable(block: str) -> bool:
            return len(self.blocks[block]) <= limit and block not in overloaded

        if anchors is not None:
            within = reachable(
                anchors, self.nodes, self.blocks, limit, overloaded, self.holders, self._decide
            )
            self._read_reviews()
            decided = {p: d for p, d in self.decisions.items() if p[0] in within and p[1] in within}
            result = self._link([self.nodes[k] for k in within], decided)
            if not result.overloaded:
                self.result = result
                return result
        pairs: set[tuple[str, str]] = set()
        for block, members in self.blocks.items():
            if usable(block):
                ordered = sorted(members)
                pairs.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
        self._decide(sorted(pairs))
        self._read_reviews()
        self.result = self._link(list(self.nodes.values()))
        return self.result

    def _decide(self, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Decision]:
        """The decisions on pairs of keys (each sorted), from this scope's own or the settings' cache;
        kept in ``decisions``."""
        assert self.model is not None
        decisions, nodes = self.decisions, self.nodes
        out: dict[tuple[str, str], Decision] = {}
        new: list[tuple[GraphNode, GraphNode]] = []
        for pair in pairs:
            found = decisions.get(pair)
            if found is None:
                new.append((nodes[pair[0]], nodes[pair[1]]))
            else:
                out[pair] = found
        if new:
            fresh = self.linkage.decisions.decide_nodes(new, self.model)
            decisions.update(fresh)
            out.update(fresh)
        return out

    def _link(
        self, nodes: Sequence[GraphNode], decisions: Mapping[tuple[str, str], Decision] | None = None
    ) -> LinkResult:
        return link_graph(
            nodes,
            self.model,
            (self.decisions if decisions is None else decisions) if self.model is not None else None,
            people_limits=self.linkage.limits(self.policy),
            overloaded_values=self.overloaded_values,
            reviews=self.reviews,
        )

    def _read_reviews(self) -> None:
        if self.index is None:
            return
        wanted = [p for p, d in self.decisions.items() if d.outcome != "no_link" and p not in self.looked_up]
        if not wanted:
            return
        self.looked_up.update(wanted)
        for pair, item in self.index.get_reviews(wanted).items():
            self.review_items[pair] = item
            self.reviews[pair] = ReviewState(
                item.status, item.decided_by or "", item.decided_at.isoformat() if item.decided_at else ""
            )

    def widen(self, result: LinkResult, merged_into: Mapping[str, str]) -> tuple[set[str], bool]:
        """Read the blocking keys not read yet of every record the graph links fuzzily: which links
        join (the cap of groups a record joins, a conflict in the component) depends on each linked
        record's other links, so all of them must be in the scope, whichever batch brings it. Returns
        the customers of records stored without match fields, and whether records were added."""
        if self.model is None or self.index is None:
            return set(), False
        nodes, read = self.nodes, self.read
        wanted: set[str] = set()
        for decision in result.decisions:
            if decision.outcome == "link":
                for key in (decision.a, decision.b):
                    node = nodes[key]
                    if node.person:
                        wanted.update(k for k in node.blocking_keys() if k not in read)
        if not wanted:
            return set(), False
        count = len(nodes)
        missing = self.add_candidates(self.read_index(wanted) - set(nodes), merged_into)
        return missing, len(nodes) > count

    def anchors(self) -> set[str]:
        """The records ingest plans for: the batch's, and every record of the customers loaded."""
        return self.batch | {key for key, cid in self.home.items() if cid in self.loaded}

    def unloaded_joined(self, result: LinkResult) -> set[str]:
        """Customers not loaded yet that hold a record the graph joins to another."""
        out: set[str] = set()
        for component in result.components:
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
        return out


@dataclass
class LinkedPlan:
    """What ingest plans from the graph: one ``Component`` per group of graph components that share a
    customer (with batch records), and what must follow."""

    components: list[Component] = field(default_factory=list)
    hits: list[GuardrailHit] = field(default_factory=list)
    split_labels: set[str] = field(default_factory=set)
    """Components (by their first record key) whose customers hold records the graph separates."""
    resplit: set[str] = field(default_factory=set)
    """Customers with no record in the batch whose records the graph now separates."""
    merges: list[tuple[str, str]] = field(default_factory=list)
    """(absorbed, survivor): customers the graph joins with no batch record between them."""
    merging: list[tuple[str, str]] = field(default_factory=list)
    """Merges in flight found in the customers loaded: finished before planning."""
    reviews: list[ReviewItem] = field(default_factory=list)
    fuzzy_links: int = 0


def plan_linked(
    active: Sequence[SourceRecord],
    live: dict[str, CustomerState],
    raw_owner: dict[str, str],
    owner_of: dict[str, str],
    merged_into: dict[str, str],
    store: ProfileStore,
    settings: IngestSettings,
    load: Callable[[set[str]], dict[str, CustomerState]],
) -> LinkedPlan:
    """Plan the batch ``active`` with the link graph; ``live`` and the owner maps grow with the
    customers it loads (``load`` reads them and those they were merged into)."""
    assert settings.linkage is not None
    policy = settings.policy
    scope = Scope(store, settings)
    plan = LinkedPlan()
    scope.add_batch(active)
    for state in live.values():
        scope.add_customer(state)

    # File the batch's records under their keys (removing their previous versions' keys) before
    # reading: of two writers adding matching records at once, the one reading second sees the other.
    new_keys = {k: index_keys(scope.nodes[k], scope.model) for k in scope.batch}
    old_keys: dict[str, tuple[str, ...]] = {}
    changed: set[str] = set()
    for record in active:
        cid = scope.home.get(record.key)
        previous = live[cid].snapshots.get(record.key) if cid in live else None
        if previous is not None:
            before = graph_node(previous, policy)
            old_keys[record.key] = index_keys(before, scope.model)
            if cid is not None and before != scope.nodes[record.key]:
                changed.add(cid)
    children = {r.key for r in active if r.level != "person"}
    if scope.index is not None:
        limits = scope.linkage.index_limits()
        scope.index.update_blocks(changes_for(old_keys, new_keys, limits, children))
    wanted = {key for keys in new_keys.values() for key in keys}
    # A record that changed may have been what kept its customer's other records from their
    # matches (a conflicting birth date, the cap): their candidates are read too.
    for key, cid in scope.home.items():
        if cid in changed and key not in scope.batch:
            wanted.update(index_keys(scope.nodes[key], scope.model))
    to_load = scope.add_candidates(scope.read_index(wanted) - scope.batch, merged_into)

    # Load the customers of what the graph joins, read the holders of the values the scope shares,
    # and decide again, until a round adds nothing.
    result = LinkResult()
    for _ in range(MAX_ROUNDS):
        if to_load - scope.loaded:
            fetched = load(to_load - scope.loaded)
            for cid, state in sorted(fetched.items()):
                if state.merged_into:
                    merged_into[cid] = state.merged_into
                    continue
                if state.merging_into:
                    plan.merging.append((cid, state.merging_into))
                plan.merging.extend((absorbed, cid) for absorbed in sorted(state.absorbing))
                live[cid] = state
                scope.add_customer(state)
            if plan.merging:
                return plan  # a merge is in flight: the pipeline finishes it and plans afresh
            _read_owners(store, fetched.values(), live, raw_owner, owner_of, merged_into, policy)
        holders = scope.read_index(scope.shared_values()) - set(scope.nodes)
        to_load = scope.add_candidates(holders, merged_into) - scope.loaded
        if to_load:
            continue
        result = scope.graph(scope.anchors())
        to_load = scope.unloaded_joined(result)
        missing, grown = scope.widen(result, merged_into)
        to_load |= missing - scope.loaded
        if not to_load and not grown:
            break
    else:
        result = scope.graph(scope.anchors())

    # A batch record's source keys go wherever the record goes (a child's link claimed its owner's
    # key before the owner arrived): their owner is planned with it, as exact resolution does.
    held = {
        r.key: {owner_of[i.key] for i in r.identifiers if i.kind == "source" and i.key in owner_of}
        for r in active
    }
    _plan_components(scope, result, active, plan, held)
    plan.hits = _hits(scope, result, active, policy)
    now = datetime.now(UTC)
    name = scope.linkage.model_name or "default"
    direct = direct_pairs(result)
    in_doubt: list[tuple[str, str]] = []
    for d in result.reviews:
        if (d.a, d.b) in direct:
            continue  # a shared identifier joins them already: nothing for a person to decide
        if d.a in scope.batch or d.b in scope.batch:
            in_doubt.append((d.a, d.b))
            if (d.a, d.b) not in scope.review_items:
                plan.reviews.append(ReviewItem(d.a, d.b, "pending", d.as_dict(), name, now))
    if scope.index is not None:
        # The batch's pending items no longer in doubt leave the queue; new ones are listed under
        # their records, so that an erasure finds them whoever the other record is by then.
        settle_reviews(scope.index, scope.batch, in_doubt, in_doubt)
    plan.fuzzy_links = sum(
        1 for e in result.edges if e.kind == "fuzzy" and (e.a in scope.batch or e.b in scope.batch)
    )
    return plan


def direct_pairs(result: LinkResult) -> set[tuple[str, str]]:
    """The pairs an identifier value or an owner id joins directly (their review would decide nothing)."""
    return {(e.a, e.b) for e in result.edges if e.kind in ("identifier", "owner")}


def _read_owners(
    store: ProfileStore,
    states: Iterable[CustomerState],
    live: Mapping[str, CustomerState],
    raw_owner: dict[str, str],
    owner_of: dict[str, str],
    merged_into: Mapping[str, str],
    policy: IdentityPolicy,
) -> None:
    """The owners of the keys the newly loaded customers hold, as the pipeline reads them for its own."""
    keys: set[str] = set()
    for state in states:
        if state.customer_id not in live:
            continue
        for key in state.owned:
            raw_owner.setdefault(key, state.customer_id)
        for snapshot in state.snapshots.values():
            keys.update(i.key for i in snapshot.identifiers if not policy.is_blocked(i))
    unknown = sorted(k for k in keys if k not in raw_owner)
    if unknown:
        for key, owner in store.get_owners(unknown).items():
            raw_owner[key] = owner.customer_id
    for key, cid in raw_owner.items():
        owner_of[key] = live_owner(cid, merged_into)


def _plan_components(
    scope: Scope,
    result: LinkResult,
    active: Sequence[SourceRecord],
    plan: LinkedPlan,
    held: Mapping[str, set[str]],
) -> None:
    """Group the graph's components by the customers they touch (their records' homes, and the owners
    of the batch records' source keys), and plan each group."""
    by_key = {r.key: r for r in active}
    groups: list[list[tuple[str, ...]]] = []
    group_of_customer: dict[str, int] = {}
    for component in result.components:
        customers = {scope.home[k] for k in component if k in scope.home and scope.home[k] in scope.loaded}
        customers |= {c for k in component if k in held for c in held[k] if c in scope.loaded}
        if not customers and not any(k in scope.batch for k in component):
            continue  # candidates only, none loaded: nothing of theirs changes
        joined = sorted({group_of_customer[c] for c in customers if c in group_of_customer})
        if joined:
            target = joined[0]
            for other in joined[1:]:
                groups[target].extend(groups[other])
                groups[other] = []
                for c, g in group_of_customer.items():
                    if g == other:
                        group_of_customer[c] = target
            groups[target].append(component)
        else:
            target = len(groups)
            groups.append([component])
        for c in customers:
            group_of_customer[c] = target
    for index, parts in enumerate(groups):
        if not parts:
            continue
        members = frozenset(c for c, g in group_of_customer.items() if g == index)
        records = sorted((by_key[k] for part in parts for k in part if k in by_key), key=lambda r: r.key)
        if records:
            plan.components.append(Component(tuple(records), members))
            if len(parts) > 1:
                plan.split_labels.add(records[0].key)
        elif len(members) > 1:
            survivor = min(members)
            plan.merges.extend((absorbed, survivor) for absorbed in sorted(members - {survivor}))
        elif len(parts) > 1:
            plan.resplit |= members
    plan.components.sort(key=lambda c: c.records[0].key)


def _hits(
    scope: Scope, result: LinkResult, active: Sequence[SourceRecord], policy: IdentityPolicy
) -> list[GuardrailHit]:
    """The identifier uses refused to the batch's records, by their stored identifier keys."""
    hits: list[GuardrailHit] = []
    refused: dict[str, dict[str, str]] = {}
    for key, value, reason in result.hits:
        if key in scope.batch:
            refused.setdefault(key, {}).setdefault(value, reason)
    for record in active:
        for ident in record.identifiers:
            if ident.kind == "source":
                continue
            if policy.is_blocked(ident):
                hits.append(GuardrailHit(record.key, ident.key, "blocklisted value"))
                continue
            value = f"email#{email_match_key(ident.value)}" if ident.kind == "email" else ident.key
            refusal = refused.get(record.key, {}).get(value)
            if refusal is not None:
                hits.append(GuardrailHit(record.key, ident.key, refusal))
    return hits


def linked_groups(
    store: ProfileStore, state: CustomerState, settings: IngestSettings
) -> list[tuple[SourceRecord, ...]]:
    """A customer's records grouped as the link graph groups them: by its own records, the holders
    of the values they share (read through the index) and people's decisions on their pairs. Groups
    and their records are sorted by source key; what ``split_customer`` moves apart."""
    scope = Scope(store, settings)
    scope.add_customer(state)
    scope.add_candidates(scope.read_index(scope.shared_values()) - set(scope.nodes), {})
    result = scope.graph()
    own = state.snapshots
    groups = [tuple(own[k] for k in component if k in own) for component in result.components]
    return sorted((g for g in groups if g), key=lambda g: g[0].key)


def forget_records(store: Any, records: Iterable[SourceRecord], policy: IdentityPolicy | None = None) -> int:
    """Remove records from the index (an erasure): their keys' memberships and the review items of
    their candidate pairs. Returns how many index entries were removed. Harmless for records that
    were never filed, and a no-op on a store without an index."""
    if not isinstance(store, LinkIndex):
        return 0
    policy = policy or IdentityPolicy(blocked_values=frozenset(), blocked_patterns=())
    filed: dict[str, tuple[str, ...]] = {}
    children: set[str] = set()
    for record in records:
        node = graph_node(record, policy)
        filed[record.key] = index_keys(node, default_model())
        if not node.person:
            children.add(record.key)
    if not filed:
        return 0
    keys = sorted({k for ks in filed.values() for k in ks})
    blocks = store.get_blocks([*keys, *(partners_key(k) for k in sorted(filed))])
    # Her review partners as listed under her records, and (for items filed before those lists)
    # the current members of her keys.
    pairs: set[tuple[str, str]] = review_pairs(blocks, filed)
    pairs |= {
        (record_key, other) if record_key < other else (other, record_key)
        for record_key, ks in filed.items()
        for k in ks
        for other in blocks.get(k, BlockState(k)).members
        if other != record_key and record_key not in children
    }
    found = drop_review_pairs(store, pairs)
    limits = {"block": 10**9, "id": 10**9}
    store.update_blocks(changes_for(filed, {}, limits, children))
    return sum(len(ks) for ks in filed.values()) + found
