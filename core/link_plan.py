"""Ingest's plan from the link graph (core.link_scope.Scope over the batch):

    batch -> file its records under their index keys (blocking keys, identifier values)
          -> read those keys: the candidates, and which keys are overloaded
          -> read the candidates' match fields (their source identifiers), decide the pairs
          -> load the customers of every record the graph joins to the batch, and the holders of
             the values the scope's records share; decide again, until nothing new is joined
          -> components of the graph -> one plan per group of components sharing a customer

and a customer's records grouped the same way, for a split (``linked_groups``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from core.identity import Component, GuardrailHit, IdentityPolicy, live_owner
from core.link_filed import FiledAs, ahead, drop_overloaded_entries, filed_key, filing, filing_tag, settle
from core.link_index import ReviewItem, changes_for
from core.link_nodes import graph_node, index_keys, node_orders
from core.link_recheck import ReadBack, mark_before_read
from core.link_review_index import drop_stale_pending, partners_key, review_filing, settle_reviews
from core.link_scope import Scope
from core.link_shifts import neighbours_to_read, shared_keys, shifted_pairs, unpaired
from core.linkage import GraphNode, LinkResult, email_match_key
from core.ports import CustomerState, ProfileStore
from core.schema import SourceRecord

if TYPE_CHECKING:
    from core.ingest_settings import IngestSettings
    from core.link_changes import ChangeMark

__all__ = ["LinkedPlan", "direct_pairs", "linked_groups", "plan_linked"]


#: Rounds of "load what the graph joined, decide again" before the plan goes ahead with what it has.
MAX_ROUNDS: Final = 6


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
    """Pairs in doubt for a person to decide (``file_reviews`` writes them)."""
    outdated: dict[tuple[str, str], ReviewItem] = field(default_factory=dict)
    """The items read on pairs in ``reviews`` that these replace: decisions taken on other versions of
    the records (pending again), pending items scored otherwise now (core.link_review_index
    ``review_filing``)."""
    fuzzy_links: int = 0
    read_back: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """The batch's index keys and the stored members read under each (those filed but not stored
    left out): read again after the commit (core.link_recheck), worked out only then."""
    read_mark: ChangeMark | None = None
    """Where the store's writes stood before the batch's reads: the re-check is skipped when nobody
    else wrote since (core.link_changes)."""


def plan_linked(
    active: Sequence[SourceRecord],
    live: dict[str, CustomerState],
    raw_owner: dict[str, str],
    owner_of: dict[str, str],
    merged_into: dict[str, str],
    store: ProfileStore,
    settings: IngestSettings,
    load: Callable[[set[str]], dict[str, CustomerState]],
    gone: Sequence[SourceRecord] = (),
) -> LinkedPlan:
    """Plan the batch ``active`` with the link graph; ``live`` and the owner maps grow with the
    customers it loads (``load`` reads them and those they were merged into). ``gone``: records
    just taken out of the store and its index (retired: core.link_relink), whose neighbours in a
    dense block are paired anew."""
    assert settings.linkage is not None
    policy = settings.policy
    plan = LinkedPlan(read_mark=mark_before_read(store))  # before any read of the index or owners
    scope = Scope(store, settings)
    scope.add_batch(active)
    scope.batch.update(r.key for r in gone)
    for state in live.values():
        scope.add_customer(state)

    # File the batch's records under their keys (removing their previous versions' keys) before
    # reading: of two writers adding matching records at once, the one reading second sees the other.
    new_keys = {r.key: index_keys(scope.nodes[r.key], scope.model) for r in active}
    old_keys: dict[str, tuple[str, ...]] = {}
    changed: set[str] = set()
    before_nodes: dict[str, GraphNode] = {r.key: graph_node(r, policy) for r in gone}
    for record in active:
        cid = scope.home.get(record.key)
        previous = live[cid].snapshots.get(record.key) if cid in live else None
        if previous is not None:
            before = before_nodes[record.key] = graph_node(previous, policy)
            # A new version also leaves the keys of rules an earlier version of profilesync filed
            # the old one under (core.linkage.blocking.RETIRED_RULES); one whose match fields did
            # not change keeps them, at no write, and its erasure takes them (forget_records).
            replaced = before != scope.nodes[record.key]
            old_keys[record.key] = index_keys(before, scope.model, retired=replaced)
            if cid is not None and replaced:
                changed.add(cid)
    if gone or not active:
        # The customers a record left, or that held its values, or planned again with no batch
        # (core.link_relink): read around them.
        changed.update(live)
    children = {r.key for r in active if r.level != "person"}
    versions: dict[str, FiledAs] = {}
    stored_tags: dict[str, str] = {}
    limits: dict[str, int] = {}
    if scope.index is not None:
        limits = scope.linkage.index_limits()
        # Each record's place in the order of its blocking keys is filed with it (and filed again
        # only where it changed), so that later batches read its neighbours, not the whole block.
        orders = {r.key: node_orders(scope.nodes[r.key]) for r in active}
        old_orders = {k: node_orders(before_nodes[k]) for k in old_keys}
        filed = changes_for(old_keys, new_keys, limits, children, orders, old_orders)
        # Where each record is filed is written ahead of the filing (core.link_filed): a process killed
        # before its commit leaves every key it touched listed for the next version and an erasure.
        versions = {r.key: filing(new_keys[r.key], orders[r.key], r.key in children) for r in active}
        # The tag the stored version was filed with: its keys without the retired rules' (it was never
        # filed under those: with them no tag would ever match, and its keys would never leave the entry).
        stored_tags = {
            k: filing_tag(index_keys(before_nodes[k], scope.model), old_orders[k]) for k in old_keys
        }
        drop_overloaded_entries(scope.index, versions)
        written_ahead = ahead(filed, {k: v.tag for k, v in versions.items()})
        # The entry and the filing in one write (entries first): no other writer's settle comes between.
        scope.index.update_blocks([*written_ahead, *filed])
    wanted = {key for keys in new_keys.values() for key in keys}
    wanted.update(k for node in before_nodes.values() if node.person for k in node.blocking_keys())
    # A record that changed may have been what kept its customer's other records from their
    # matches (a conflicting birth date, the cap): their candidates are read too.
    for key, cid in scope.home.items():
        if cid in changed and key not in scope.batch:
            wanted.update(index_keys(scope.nodes[key], scope.model))
    # The batch's review partners are read with its keys (settled after the graph, below).
    wanted.update(partners_key(r.key) for r in active)
    wanted.update(filed_key(r.key) for r in active)  # and where they were filed (core.link_filed)
    # A crowded block is read as its members' places: only the records next to the scope's are read.
    found = scope.read_index(wanted, whole=False) | neighbours_to_read(scope, before_nodes, wanted)
    if scope.index is not None:
        # A filing killed or lost before this one left the records elsewhere: put back to this version.
        settle(scope.index, versions, scope.partners, stored_tags, limits)
    to_load = scope.add_candidates(found - scope.batch, merged_into)
    # A batch record entering or leaving a dense block changes which of its other records are
    # neighbours (candidates): the customers of the pairs it makes or unmakes are planned again, as
    # one batch of every record would pair them.
    shifted_in, shifted_out = shifted_pairs(scope, before_nodes)
    if shifted_out:
        # A pair parted in one key may be paired by another the two share: read those keys (ranked).
        shared = scope.read_index(shared_keys(scope, shifted_out), whole=False) - set(scope.nodes)
        to_load |= scope.add_candidates(shared, merged_into)
        shifted_out = unpaired(scope, shifted_out)
    for pair, decision in scope.decide_pairs(sorted(shifted_in | shifted_out)).items():
        if decision.outcome != "no_link":
            to_load |= {scope.home[k] for k in pair if k in scope.home}

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
        if d.a in scope.batch or d.b in scope.batch or (d.a, d.b) in shifted_in:
            pair = (d.a, d.b)
            in_doubt.append(pair)
            queued = review_filing(
                pair, d.as_dict(), name, now, scope.review_items.get(pair), scope.outdated.get(pair)
            )
            if queued is not None:
                plan.reviews.append(queued[0])
                if queued[1] is not None:
                    plan.outdated[pair] = queued[1]  # replaced only while it is the item read
    if scope.index is not None:
        # The batch's pending items no longer in doubt leave the queue; new ones are listed under
        # their records, so that an erasure finds them whoever the other record is by then.
        settle_reviews(scope.index, new_keys, in_doubt, in_doubt, scope.partners)
        drop_stale_pending(scope.index, shifted_out, in_doubt)  # no longer candidates
    plan.fuzzy_links = sum(
        1 for e in result.edges if e.kind == "fuzzy" and (e.a in scope.batch or e.b in scope.batch)
    )
    plan.read_back = ReadBack(lambda: _read_back(scope, new_keys), any(new_keys.values()))
    return plan


def _read_back(scope: Scope, new_keys: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
    """Each of the batch's keys read: the members read there stored and scored as stored
    (core.link_recheck reads the key again after the commit, and plans again with the others). Left
    out: a member filed but not stored, and one found under a key its stored fields do not give (a
    new version filed there, not committed yet: scored on the old version, which the key is not for).

    A member the scope holds is scored as stored where the scope files its node under the key (its
    ``id:`` values in ``Scope.holders``, its blocking keys in ``Scope.blocks``); one it does not hold
    was not read (a crowded key's far member): nothing to redo for it. With a model these are the
    keys ``index_keys`` gives it (bar the retired rules', which no batch reads). Without one
    ``index_keys`` gives the ``id:`` keys only: the scope still files people under their blocking
    keys, but no batch has such a key among ``new_keys``, so none is read back. Set operations per
    key, not a test per member: a batch's keys hold about 30 members a record at 3,000 people."""
    as_read, unowned, nodes = scope.as_read, scope.unowned, scope.nodes
    blocks, holders = scope.blocks, scope.holders
    kept: dict[str, frozenset[str]] = {}
    for keys in new_keys.values():
        for k in keys:
            members = as_read.get(k)
            if members is None or k in kept:
                continue
            filed = holders.get(k[3:]) if k.startswith("id:") else blocks.get(k)
            stored = not unowned or members.isdisjoint(unowned)
            if stored and len(filed) == len(members) and members.issuperset(filed):
                kept[k] = members  # every member held, filed here and stored: all scored as stored
                continue
            here = members.difference(nodes).union(members.intersection(filed))
            kept[k] = frozenset(here.difference(unowned) if unowned else here)
    return kept


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
    home, loaded, batch = scope.home, scope.loaded, scope.batch
    for component in result.components:
        customers = {cid for k in component if (cid := home.get(k)) is not None and cid in loaded}
        customers |= {c for k in component if k in held for c in held[k] if c in loaded}
        if not customers and not any(k in batch for k in component):
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
    # Each group's customers, gathered in one pass (not a pass over every customer per group: a batch
    # at 3,000 people plans about a hundred groups over as many customers).
    customers_of: dict[int, list[str]] = {}
    for c, g in group_of_customer.items():
        customers_of.setdefault(g, []).append(c)
    for index, parts in enumerate(groups):
        if not parts:
            continue
        members = frozenset(customers_of.get(index, ()))
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
    own = state.snapshots
    if scope.model is None:
        scope.add_candidates(scope.read_index(scope.shared_values()) - set(scope.nodes), {})
        result = scope.graph()
    else:
        # Which of its links join depends on its records' other candidates too (the cap of groups a
        # record joins, a conflict in a component): they are read as ingest reads a batch's.
        wanted = {k for key in own for k in index_keys(scope.nodes[key], scope.model)}
        scope.add_candidates(scope.read_index(wanted) - set(scope.nodes), {})
        for _ in range(MAX_ROUNDS):
            scope.add_candidates(scope.read_index(scope.shared_values()) - set(scope.nodes), {})
            result = scope.graph(set(own))
            if not scope.widen(result, {})[1]:
                break
    groups = [tuple(own[k] for k in component if k in own) for component in result.components]
    return sorted((g for g in groups if g), key=lambda g: g[0].key)
