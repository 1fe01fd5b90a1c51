"""One planning round of ``ingest`` (core.pipeline): read the owners of the batch's identifier keys,
drop unchanged and stale records, load the customers those keys belong to, group the records into
components (exact identifiers, or the link graph of core.link_plan) and plan one changeset per
component (core.ingest_changeset). Every write is planned from what was read, and every ownership
change is conditional on it."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from core.child_moves import detach_changeset, moved_children
from core.content_run import stored_is_newer, stored_run
from core.errors import ConflictError
from core.identity import Component, IdentityPolicy, group_records, live_owner
from core.identity_holders import limit_holder
from core.ingest_changeset import _moving_watermarks, _retired_marks
from core.ingest_components import plan_components
from core.ingest_grow import grow_plan
from core.ingest_runs import RunDecisions, late_consents, observes_decisions
from core.ingest_settings import IngestResult, IngestSettings
from core.link_changes import ChangeMark
from core.link_index import ReviewItem
from core.merge import record_hash
from core.ports import (
    RETIRED_OWNER,
    Changeset,
    CustomerState,
    Ownership,
    ProfileStore,
    ReadsTombstones,
)
from core.schema import SourceRecord
from core.undated import replacing_undated, undated_stored


@dataclass
class _Plan:
    changesets: list[Changeset]
    records_of: dict[str, tuple[SourceRecord, ...]]
    kinds: dict[str, str]
    deferred: list[SourceRecord]
    pending_merges: list[tuple[str, str]]
    result: IngestResult
    absorbed: dict[str, int] = field(default_factory=dict)
    survivors: dict[str, str] = field(default_factory=dict)
    touches: list[Changeset] = field(default_factory=list)
    splits: set[str] = field(default_factory=set)
    detaches: list[Changeset] = field(default_factory=list)
    """Children leaving the customer that holds them (core.child_moves): committed, then re-planned."""
    resplit: set[str] = field(default_factory=set)
    reviews: list[ReviewItem] = field(default_factory=list)
    outdated: dict[tuple[str, str], ReviewItem] = field(default_factory=dict)
    recount: dict[str, str] = field(default_factory=dict)
    """The records written as the stored content re-dated (core.ingest_runs), by key: counted as
    what the version was once written, ``unchanged`` or ``stale``, not as ``written``."""
    read_back: Mapping[str, frozenset[str]] = field(default_factory=dict)  # core.link_plan.LinkedPlan's
    read_mark: ChangeMark | None = None  # core.link_plan.LinkedPlan's
    replaced: dict[str, SourceRecord] = field(default_factory=dict)
    """The stored versions holding refused values of the records planned (core.privacy_refused_stale)."""
    ahead: dict[str, tuple[Changeset, ...]] = field(default_factory=dict)
    """The holder markers committed before the changeset of a label (core.ingest_markers)."""


def _plan(
    records: Sequence[SourceRecord],
    store: ProfileStore,
    settings: IngestSettings,
    filed: set[str] | None = None,
    lost: Collection[str] = (),
    collapsed: Collection[str] = (),
    rerun: set[str] | None = None,
    grow_only: list[int] | None = None,
) -> _Plan | None:
    """``filed``: the records earlier rounds of this ingest filed in the identity index, by source
    key (this round adds its own); those this round drops, stale or suppressed, are taken out of it
    again (core.link_unfile). ``lost``: the records whose commit failed in an earlier round: a new
    customer one of them founds checks its id is free (``_founding_id``). ``collapsed``: the records
    core.pipeline.version_rounds reduced to the newest of several contents on an earlier read; one
    this read finds doing nothing against an undated stored version is left out, added to
    ``rerun`` (core.pipeline applies the record's versions again in rounds). ``grow_only``: None
    unless the add-only path (core.ingest_grow) plans ``records``, before any write (core.ingest_parts:
    a part of a batch); the size of a changeset too large for a commit is appended to it."""
    filed = set() if filed is None else filed
    policy = settings.policy
    result = IngestResult()
    keys = sorted({i.key for r in records for i in r.identifiers if not policy.is_blocked(i)})
    # Tombstones of records retired at the vendor (core.retirement) make an older version stale.
    owners = (
        store.get_owners_and_tombstones(keys)
        if isinstance(store, ReadsTombstones)
        else store.get_owners(keys)
    )

    active: list[SourceRecord] = []
    hashes: dict[str, str] = {}
    unfiled: list[SourceRecord] = []
    overtaken: list[SourceRecord] = []
    # A stored undated version gives way to a later one of other content whatever its time (core.undated).
    after_undated = replacing_undated(store, owners, records)
    recheck: list[str] = []  # collapsed records this read finds doing nothing (see ``collapsed``)
    unchanged: list[tuple[SourceRecord, Ownership]] = []  # stored as delivered, nothing to plan
    late: dict[str, tuple[SourceRecord, Ownership]] = {}  # stale, with decisions dated by their record
    runs = RunDecisions(result)  # what dated versions do against the stored content runs
    touches = runs.touches
    for record in records:
        h = record_hash(record)
        stored = owners.get(f"source#{record.key}")  # record.source_identifier.key, without a model
        if stored is not None and stored.record_hash is not None and stored.updated_at is not None:
            # the identifier item keeps ordering times (SourceRecord.ordered_at; core.content_run.key)
            if record.undated or record.key in after_undated:  # core.undated: times order nothing
                if stored.record_hash == h:
                    result.unchanged += 1  # an undated time moves nothing
                    continue
                newer = stored_is_newer(stored.record_hash, stored.updated_at, stored.run, record)
                if newer and record.key not in after_undated:
                    result.stale += 1
                    (unfiled if record.key in filed else overtaken).append(record)
                    continue
            else:
                outcome, record = runs.decide(record, h, stored, record.key in collapsed)
                if outcome == "recheck":
                    recheck.append(record.key)
                elif outcome == "stale":
                    # it lost a race to a newer version (see below), or a filing of it killed before
                    # its commit may linger
                    (unfiled if record.key in filed else overtaken).append(record)
                    if record.key not in runs.redate and (
                        not record.consent or any(s.dated_by_record for s in record.consent.values())
                    ):
                        # its decisions dated by their record (or none) may date the stored ones
                        late[record.key] = (record, stored)
                elif outcome == "write":
                    hashes[record.key] = runs.runs[record.key].record_hash
                    active.append(record)
                else:
                    if record.key not in runs.redate and observes_decisions(record, h, stored):
                        late[record.key] = (record, stored)  # an older copy: it may date the decisions
                    if h == stored.record_hash and f"source#{record.key}" not in runs.touched:
                        unchanged.append((record, stored))  # a redelivery: review items filed? (below)
                continue
        hashes[record.key] = h
        active.append(record)
    for copy in late_consents(store, owners, late, runs):
        hashes[copy.key] = runs.runs[copy.key].record_hash
        active.append(copy)
    if unchanged and settings.linkage is not None:
        # A run killed after its commit may have left its review items unfiled: planned again
        # (counted unchanged still), their plan files them (core.link_review_unfiled).
        from core.link_review_unfiled import unfiled_reviews

        skip = runs.redate.keys() | runs.runs.keys()  # re-dated, or written by late_consents
        again = unfiled_reviews(store, {r.key for r, _ in unchanged if r.key not in skip})
        for record, stored in unchanged:
            if record.key in again:  # written as stored: its content, time and run (``redating``)
                assert stored.record_hash is not None
                assert stored.updated_at is not None
                result.unchanged -= 1
                runs.recount[record.key] = "unchanged"
                runs.runs[record.key] = stored_run(stored.record_hash, stored.updated_at, stored.run)
                hashes[record.key] = runs.runs[record.key].record_hash
                active.append(record)
    for copy in runs.redated(store, owners):
        hashes[copy.key] = runs.runs[copy.key].record_hash
        active.append(copy)
    if recheck:
        again = set[str]().union(*undated_stored(store, owners, recheck)) if rerun is not None else set()
        result.unchanged += len(set(recheck) - again)
        if rerun is not None:
            rerun.update(again)
    tombstones = [k for k, o in owners.items() if o.customer_id == RETIRED_OWNER]
    read = owners  # with the tombstones: the deletion times a link that replaces one keeps
    if tombstones:
        # Past the staleness check a tombstone owns nothing: the record re-created at the vendor
        # replaces it (its PutIdent expects the tombstone's owner: see before _changeset below).
        owners = {k: o for k, o in owners.items() if o.customer_id != RETIRED_OWNER}
    suppressed = False
    if active and settings.suppression is not None:
        # Read after the owners: an erasure suppresses before it deletes, so a record whose owner
        # this plan found gone finds its suppression here; one whose owner was still there fails
        # its commit's condition and is planned again, through this check (docs/privacy.md).
        model = settings.linkage.model if settings.linkage is not None else None
        active, dropped = settings.suppression.split(active, model, policy)
        result.suppressed += len(dropped)
        suppressed = bool(dropped)
        if dropped and grow_only is not None:
            return None
        unfiled.extend(r for r in dropped if r.key in filed)
        # Not filed by this call: a filing of hers killed after her erasure may linger (its entry says).
        overtaken.extend(r for r in dropped if r.key not in filed)
        if dropped:
            from core.link_unfile import unname_suppressed  # what a lost or killed commit left

            unname_suppressed(store, dropped, settings.suppression)
            from core.privacy_refused_stale import after_suppressed  # what an earlier round indexed

            after_suppressed(store, settings.suppression, dropped)
    if unfiled and settings.linkage is not None:
        # Filed by an earlier round whose commit lost, dropped now: the index keeps no item of the
        # version it tried that the store does not hold, which an erasure would not find.
        from core.link_unfile import unfile_dropped

        unfile_dropped(store, unfiled, policy, settings.linkage)
        filed.difference_update(r.key for r in unfiled)
    if overtaken and settings.linkage is not None:
        from core.link_unfile import unfile_dropped

        unfile_dropped(store, overtaken, policy, settings.linkage, filed=False)
    if not active:
        return _Plan([], {}, {}, [], [], result, touches=touches)
    if not (tombstones or touches or runs.recount or recheck or after_undated or suppressed):
        grown = grow_plan(active, owners, hashes, runs.runs, store, settings, grow_only)
        if grown is not None:  # an add-only batch of one customer, planned from its profile item
            return _Plan(*grown[:3], [], [], result, *grown[3:])
    if grow_only is not None:
        return None

    customers = _load_customers(store, {o.customer_id for o in owners.values()})
    merging = sorted(
        {(cid, c.merging_into) for cid, c in customers.items() if c.merging_into}
        | {(absorbed, cid) for cid, c in customers.items() for absorbed in c.absorbing}
    )
    if merging:
        # A merge is in flight (or was cut short by a crash): finish it first, then plan afresh.
        return _Plan([], {}, {}, list(active), merging, result, touches=touches)
    merged_into = {cid: c.merged_into for cid, c in customers.items() if c.merged_into}
    live = {cid: c for cid, c in customers.items() if not c.merged_into}
    _check_owners_read(owners, live)

    # Keys held by the loaded customers' snapshots whose owner we have not read yet.
    known = set(owners)
    for c in live.values():
        known |= c.owned
    extra = sorted(
        {
            i.key
            for c in live.values()
            for snap in c.snapshots.values()
            for i in snap.identifiers
            if i.key not in known and not policy.is_blocked(i)
        }
    )
    if extra:
        owners = {**owners, **store.get_owners(extra)}
    raw_owner: dict[str, str] = {k: o.customer_id for k, o in owners.items()}
    for c in live.values():
        for k in c.owned:
            raw_owner.setdefault(k, c.customer_id)
    owner_of = {k: live_owner(cid, merged_into) for k, cid in raw_owner.items()}
    leaving = moved_children(active, owner_of, live)
    if leaving:
        # An order re-assigned to another customer leaves its old one before it is planned: joined
        # by its own key, it would merge the two customers, and the split after would re-id one.
        detaches = [detach_changeset(live[c], leaving[c], policy, settings.rules) for c in sorted(leaving)]
        return _Plan([], {}, {}, list(active), [], result, touches=touches, detaches=detaches)

    linked_splits: set[str] = set()
    if settings.linkage is not None:
        # The link graph over the batch and what it touches (core.link_plan) decides the components.
        from core.link_plan import plan_linked

        filed.update(r.key for r in active)  # before plan_linked files them: it may raise after
        linked = plan_linked(
            active,
            live,
            raw_owner,
            owner_of,
            merged_into,
            store,
            settings,
            lambda ids: _load_customers(store, ids),
        )
        if linked.merging or linked.merges:
            return _Plan([], {}, {}, list(active), linked.merging + linked.merges, result, touches=touches)
        components, linked_splits = linked.components, linked.split_labels
        result.guardrail_hits.extend(linked.hits)
        result.fuzzy_links += linked.fuzzy_links
        result.reviews += len(linked.reviews)
    else:
        components = _group_exact(active, live, owner_of, policy, result)
    moving_runs: dict[str, str] = {}
    watermarks = _moving_watermarks(store, components, live, hashes, runs.touched, moving_runs)
    marks = _retired_marks(store, components, live, {**owners, **read})
    for record in active:
        # The times and runs read of the batch's records stored before: their new versions are
        # written on condition that no touch moved either since (PutIdent.expected_at, expected_run).
        stored = owners.get(f"source#{record.key}")
        if stored is not None and stored.updated_at is not None:
            watermarks[f"source#{record.key}"] = stored.updated_at
            if stored.run is not None:
                moving_runs[f"source#{record.key}"] = stored.run

    raw_owner.update(dict.fromkeys(tombstones, RETIRED_OWNER))  # owned by nobody (owner_of): replaced
    planned = plan_components(
        components,
        store,
        settings,
        live,
        raw_owner,
        owner_of,
        hashes,
        watermarks,
        marks,
        runs.runs,
        moving_runs,
        retired=set(tombstones),
        lost=lost,
        linked_splits=linked_splits,
    )
    plan = _Plan(
        planned.changesets,
        planned.records_of,
        planned.kinds,
        planned.deferred,
        planned.pending_merges,
        result,
        planned.absorbed,
        planned.survivors,
        touches,
        planned.splits,
    )
    if settings.linkage is not None:
        plan.resplit, plan.reviews, plan.outdated = linked.resplit, linked.reviews, linked.outdated
        plan.read_back, plan.read_mark = linked.read_back, linked.read_mark
    plan.recount = runs.recount
    plan.ahead = planned.ahead
    if settings.suppression is not None and settings.suppression.index_refused:
        from core.privacy_refused_stale import replaced_refused

        plan.replaced = replaced_refused(active, live)
    return plan


def _group_exact(
    active: Sequence[SourceRecord],
    live: Mapping[str, CustomerState],
    owner_of: Mapping[str, str],
    policy: IdentityPolicy,
    result: IngestResult,
) -> list[Component]:
    """Components by exact identifiers (core.identity.group_records), with the stored records
    already holding the batch's keys as the guardrails' holders (the people they name)."""
    # Which people already hold the keys of this batch's records (group_records looks up no other
    # key; a child with an owner never counts towards a guardrail limit, a guest child counts as the
    # person it names: core.identity.limit_holder).
    # A stored version the batch replaces holds nothing: its new version holds as the person it names
    # now (a birth date added, a new name), and counting both made one record two people.
    batch_keys = {i.key for r in active for i in r.identifiers}
    replaced = {r.key for r in active}
    holders: dict[str, set[str]] = {}
    for c in live.values():
        for snap in c.snapshots.values():
            if snap.key in replaced:
                continue
            holder = limit_holder(snap)
            if holder is None:
                continue
            for i in snap.identifiers:
                key = i.key
                if key in batch_keys:
                    if key in holders:
                        holders[key].add(holder)
                    else:
                        holders[key] = {holder}
    components, hits = group_records(active, owner_of, {k: frozenset(v) for k, v in holders.items()}, policy)
    result.guardrail_hits.extend(hits)
    return components


def _check_owners_read(owners: Mapping[str, Ownership], live: Mapping[str, CustomerState]) -> None:
    """Raise ConflictError when a key the owners read gave to a live customer is not in that
    customer's ``owned`` set as loaded after it: the key moved away in between (a split, or a record
    that dropped it). The plan skips writing keys its survivor already owns, so it must not take
    such a key for owned; the version the commit checks covers ``owned`` from the load onwards,
    since every change of a key's owner rewrites the owner's profile item."""
    for key, owner in owners.items():
        customer = live.get(owner.customer_id)
        if customer is not None and key not in customer.owned:
            raise ConflictError(f"{key} left {owner.customer_id} while the batch was read; plan again")


def _load_customers(store: ProfileStore, ids: set[str]) -> dict[str, CustomerState]:
    """Load customers and, transitively, the customers they were merged into."""
    loaded: dict[str, CustomerState] = {}
    todo = set(ids)
    while todo:
        fetched = store.get_customers(sorted(todo))
        missing = todo - set(fetched)
        if missing:
            # An owner (or a tombstone) names a customer with no items: the read raced a write that
            # had not finished or was rolled back. Planning on it would attach records to nobody.
            raise ConflictError(f"customer {sorted(missing)[0]} is referenced but has no items yet")
        loaded.update(fetched)
        todo = {c.merged_into for c in fetched.values() if c.merged_into} - set(loaded)
    return loaded
