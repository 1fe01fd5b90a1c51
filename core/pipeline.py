"""The ingest use case, readable top to bottom.

    records -> read owners of their identifier keys -> drop unchanged and stale records
            -> load the customers those keys belong to -> group records into components
            -> plan one changeset per component (new customer / attach / merge)
            -> commit all changesets; the ones that lost a race are re-read and re-planned
            -> split the customers whose records an update left without a shared identifier

Every write is planned from what was read, and every ownership change is conditional on it, so two
writers racing on the same person cannot both win: the loser re-resolves against the winner's state.
Merges too large for one atomic changeset run as idempotent steps (``complete_merge``) that any later
writer can finish if the first one crashed half-way.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from core.child_moves import detach_changeset, moved_children
from core.errors import ConflictError
from core.governance.changes import change_history, inherit_merged, merge_event, split_events
from core.identity import (
    Component,
    GuardrailHit,
    IdentityPolicy,
    counts_toward_limits,
    customer_id_for,
    group_records,
    live_owner,
)
from core.link_index import LinkIndex, ReviewItem, match_document
from core.mailbox import is_canonical, mailbox_key
from core.merge import (
    DEFAULT_RULES,
    MergeRules,
    build_profile,
    identifier_holders,
    newest,
    profile_hash,
    record_hash,
)
from core.ports import (
    RETIRED_OWNER,
    Changeset,
    CustomerState,
    DeleteIdent,
    DeleteSource,
    MarkAbsorbing,
    MarkMerging,
    Operation,
    Ownership,
    ProfileStore,
    PutHolder,
    PutIdent,
    PutProfile,
    PutSource,
    ReadsTombstones,
    Tombstone,
    TouchSource,
    Unsuppressed,
)
from core.schema import Identifier, SourceRecord
from core.suppression import SuppressionCheck

if TYPE_CHECKING:
    from core.link_scope import LinkageSettings


@dataclass
class IngestResult:
    """What one ``ingest`` call did; counts add up: received = written + unchanged + stale + suppressed.

    ``touched`` counts the unchanged records that came with a newer timestamp only (echoes of
    pushes): their content is what is stored, so only their staleness watermark moved.
    ``suppressed`` counts the records of erased people that were dropped (core.suppression)."""

    received: int = 0
    written: int = 0
    unchanged: int = 0
    stale: int = 0
    suppressed: int = 0
    touched: int = 0
    new_customers: int = 0
    attached: int = 0
    merged_customers: int = 0
    retries: int = 0
    split_customers: int = 0
    fuzzy_links: int = 0
    """Fuzzy links (core.linkage) that joined a record of the batch to another record."""
    reviews: int = 0
    """Pairs of records sent to the review queue (between the review and link thresholds)."""
    guardrail_hits: list[GuardrailHit] = field(default_factory=list)
    customers: set[str] = field(default_factory=set)
    unsplit: list[str] = field(default_factory=list)
    """Customers an update disconnected that could not be split now (a race, or too large for one
    transaction): their records are stored; ``split_customer`` finishes the job."""

    def add(self, other: IngestResult) -> None:
        for name in (
            "received",
            "written",
            "unchanged",
            "stale",
            "suppressed",
            "touched",
            "new_customers",
            "attached",
            "merged_customers",
            "retries",
            "split_customers",
            "fuzzy_links",
            "reviews",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.guardrail_hits.extend(other.guardrail_hits)
        self.customers |= other.customers
        self.unsplit.extend(other.unsplit)


class ResolutionGaveUpError(ConflictError):
    """Raised when a batch keeps losing races after every retry (a pathological hot spot)."""


@dataclass(frozen=True)
class IngestSettings:
    policy: IdentityPolicy = field(default_factory=IdentityPolicy)
    rules: MergeRules = DEFAULT_RULES
    max_attempts: int = 12
    backoff_base: float = 0.01
    backoff_cap: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    suppression: SuppressionCheck | None = None
    """Drops the records of erased people before anything is stored (None: no check)."""
    actor: str = "ingest"
    """Who or what makes the changes, as the history events say (``run:<connector>:<run id>``)."""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    """The time of the history events a change appends."""
    linkage: LinkageSettings | None = None
    """Probabilistic identity (core.link_scope): identifier values by match key and counted in people,
    conflicts, fuzzy links, reviews. None: exact identifiers as before (core.identity.group_records)."""


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


def ingest(
    records: Iterable[SourceRecord], store: ProfileStore, settings: IngestSettings | None = None
) -> IngestResult:
    """Resolve and merge records into the store; safe to call again with the same records.

    Duplicates within the call collapse to the newest version of each source record. Lost races are
    re-planned with jittered exponential backoff, up to ``settings.max_attempts`` rounds.
    """
    settings = settings or IngestSettings()
    received, pending = latest_versions(records)
    total = IngestResult(received=received, unchanged=received - len(pending))
    attempt = 0
    while pending:
        try:
            plan = _plan(pending, store, settings)
        except ConflictError:
            # A read that could not be made consistent (a writer kept changing the customer).
            attempt += 1
            total.retries += 1
            if attempt >= settings.max_attempts:
                raise
            _back_off(settings, attempt)
            continue
        total.add(plan.result)
        if plan.touches:
            # Best effort by design: a touch that lost its condition was overtaken by a newer write.
            store.commit(plan.touches)
        if plan.detaches:
            # Children re-assigned to another owner leave their old customer first; then all of the
            # plan's records are planned again (a lost race too: its re-read sees the winner).
            if store.commit(plan.detaches):
                attempt += 1
                total.retries += 1
                if attempt >= settings.max_attempts:
                    raise ResolutionGaveUpError(
                        f"moving {len(plan.deferred)} records' children kept conflicting; retry the batch"
                    )
                _back_off(settings, attempt)
            pending = plan.deferred
            continue
        if plan.pending_merges:
            try:
                for absorbed, survivor in plan.pending_merges:
                    complete_merge(store, absorbed, survivor, settings)
            except ResolutionGaveUpError:
                raise
            except ConflictError:
                attempt += 1
                total.retries += 1
                if attempt >= settings.max_attempts:
                    raise
                _back_off(settings, attempt)
            # The state moved under every changeset of this plan: re-plan all of its records.
            pending = [r for c in plan.changesets for r in plan.records_of[c.label]] + plan.deferred
            continue
        failed = store.commit(plan.changesets) if plan.changesets else []
        failed_labels = {c.label for c in failed}
        for changeset in plan.changesets:
            if changeset.label in failed_labels:
                continue
            recs = plan.records_of[changeset.label]
            total.written += len(recs)
            kind = plan.kinds[changeset.label]
            if kind == "new":
                total.new_customers += 1
            elif kind == "attach":
                total.attached += 1
            else:
                inherit_merged(store, [changeset])  # the survivor inherits the absorbed histories
            total.merged_customers += plan.absorbed[changeset.label]
            survivor = plan.survivors[changeset.label]
            total.customers.add(survivor)
            if survivor in plan.splits:
                # The customer's records no longer share identifiers (see _changeset).
                try:
                    total.split_customers += len(split_customer(store, survivor, settings))
                except (ConflictError, ValueError):
                    total.unsplit.append(survivor)
        _after_linked_commit(store, plan, total, settings)
        pending = [r for c in failed for r in plan.records_of[c.label]] + plan.deferred
        if failed:
            # Only lost races back off; deferred records of an oversized component go on at once.
            attempt += 1
            total.retries += 1
            if attempt >= settings.max_attempts:
                raise ResolutionGaveUpError(
                    f"{len(pending)} records still conflicted after {attempt} attempts; "
                    "retry the batch later (it is safe to ingest the same records again)"
                )
            _back_off(settings, attempt)
    return total


def latest_versions(records: Iterable[SourceRecord]) -> tuple[int, list[SourceRecord]]:
    """How many records came, and the newest version of each source record, by source key."""
    latest: dict[str, SourceRecord] = {}
    received = 0
    for record in records:
        received += 1
        prior = latest.get(record.key)
        latest[record.key] = record if prior is None else newest(prior, record)
    return received, sorted(latest.values(), key=lambda r: r.key)


def _after_linked_commit(
    store: ProfileStore, plan: _Plan, total: IngestResult, settings: IngestSettings
) -> None:
    """What the link graph asks for beyond the changesets: review items for a person, and splits of
    customers the batch separated without writing to them (a value's holders now conflict)."""
    if plan.reviews and isinstance(store, LinkIndex):
        store.put_reviews(plan.reviews)
    for cid in sorted(plan.resplit):
        try:
            total.split_customers += len(split_customer(store, cid, settings))
        except (ConflictError, ValueError):
            total.unsplit.append(cid)


def _back_off(settings: IngestSettings, attempt: int) -> None:
    """Sleep a jittered, capped exponential delay before planning again after a lost race."""
    settings.sleep(random.uniform(0, min(settings.backoff_cap, settings.backoff_base * 2**attempt)))


def _plan(records: Sequence[SourceRecord], store: ProfileStore, settings: IngestSettings) -> _Plan:
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
    touches: list[Changeset] = []
    for record in records:
        h = record_hash(record)
        source_key = f"source#{record.key}"  # record.source_identifier.key, without a model
        stored = owners.get(source_key)
        if stored is not None and stored.record_hash is not None and stored.updated_at is not None:
            at = record.ordered_at  # the identifier item keeps ordering times (SourceRecord.ordered_at)
            if stored.record_hash == h:
                result.unchanged += 1
                if at > stored.updated_at:
                    result.touched += 1
                    touch = TouchSource(source_key, h, stored.updated_at, at)
                    touches.append(Changeset(f"touch:{record.key}", (touch,)))
                continue
            if (stored.updated_at, stored.record_hash) > (at, h):
                result.stale += 1
                continue
        hashes[record.key] = h
        active.append(record)
    tombstones = [k for k, o in owners.items() if o.customer_id == RETIRED_OWNER]
    if tombstones:
        # Past the staleness check a tombstone owns nothing: the record re-created at the vendor
        # replaces it (its PutIdent expects the tombstone's owner: see before _changeset below).
        owners = {k: o for k, o in owners.items() if o.customer_id != RETIRED_OWNER}
    if active and settings.suppression is not None:
        # Read after the owners: an erasure suppresses before it deletes, so a record whose owner
        # this plan found gone finds its suppression here; one whose owner was still there fails
        # its commit's condition and is planned again, through this check (docs/privacy.md).
        active, dropped = settings.suppression.split(active)
        result.suppressed += len(dropped)
    if not active:
        return _Plan([], {}, {}, [], [], result, touches=touches)

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
        # The link graph over the batch and what it touches (core.link_scope) decides the components.
        from core.link_scope import plan_linked

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
    watermarks = _moving_watermarks(store, components, live, hashes)

    raw_owner.update(dict.fromkeys(tombstones, RETIRED_OWNER))  # owned by nobody (owner_of): replaced
    changesets: list[Changeset] = []
    records_of: dict[str, tuple[SourceRecord, ...]] = {}
    kinds: dict[str, str] = {}
    deferred: list[SourceRecord] = []
    pending_merges: list[tuple[str, str]] = []
    absorbed: dict[str, int] = {}
    survivors: dict[str, str] = {}
    splits: set[str] = set()
    for component in components:
        # ``survivor`` hashes a customer id for a new customer: work it out once per component.
        survivor = component.survivor
        absorbed_ids = component.customers - {survivor}
        changeset = _changeset(
            component, survivor, absorbed_ids, live, raw_owner, owner_of, hashes, watermarks, settings, splits
        )
        if len(changeset) > store.max_items_per_commit:
            if absorbed_ids:
                # Too large for one transaction: merge the customers step by step first, then
                # these records attach to the survivor in the next round.
                pending_merges.extend((a, survivor) for a in sorted(absorbed_ids))
                deferred.extend(component.records)
                continue
            # A long chain of new records: take the first few now, the rest attach next round.
            # Records differ in how many identifiers they bring, so the first guess may still be
            # too large: take fewer until it fits (a single record that does not fit is refused).
            per_record = max(1, len(changeset) // len(component.records))
            take = max(1, store.max_items_per_commit // per_record - 1)
            whole = component
            while True:
                component = Component(whole.records[:take], whole.customers)
                survivor = component.survivor
                absorbed_ids = component.customers - {survivor}
                changeset = _changeset(
                    component,
                    survivor,
                    absorbed_ids,
                    live,
                    raw_owner,
                    owner_of,
                    hashes,
                    watermarks,
                    settings,
                    splits,
                )
                if len(changeset) <= store.max_items_per_commit or take == 1:
                    break
                take -= 1
            deferred.extend(whole.records[take:])
        changesets.append(changeset)
        # A key nobody owned that this changeset claims is taken for the components planned after
        # it: two claims of one unowned key (one the guardrails keep from joining them) would be two
        # operations on one item in one transaction, which DynamoDB rejects whole.
        for op in changeset.operations:
            if isinstance(op, PutIdent) and op.expected_owner is None:
                raw_owner[op.key] = owner_of[op.key] = survivor
        records_of[changeset.label] = component.records
        if linked_splits and any(r.key in linked_splits for r in component.records):
            splits.add(survivor)  # the graph separates records of the customers it touches
        kinds[changeset.label] = (
            "new" if not component.customers else "attach" if not absorbed_ids else "merge"
        )
        absorbed[changeset.label] = len(absorbed_ids)
        survivors[changeset.label] = survivor
    plan = _Plan(
        changesets, records_of, kinds, deferred, pending_merges, result, absorbed, survivors, touches, splits
    )
    if settings.linkage is not None:
        plan.resplit, plan.reviews = linked.resplit, linked.reviews
    return plan


def _group_exact(
    active: Sequence[SourceRecord],
    live: Mapping[str, CustomerState],
    owner_of: Mapping[str, str],
    policy: IdentityPolicy,
    result: IngestResult,
) -> list[Component]:
    """Components by exact identifiers (core.identity.group_records), with the people-level records
    already holding the batch's keys as the guardrails' holders."""
    # Which people already hold the keys of this batch's records (group_records looks up no other
    # key, and child objects such as orders never count towards a guardrail limit).
    batch_keys = {i.key for r in active for i in r.identifiers}
    holders: dict[str, set[str]] = {}
    for c in live.values():
        for snap in c.snapshots.values():
            if not counts_toward_limits(snap):
                continue
            for i in snap.identifiers:
                key = i.key
                if key in batch_keys:
                    if key in holders:
                        holders[key].add(snap.key)
                    else:
                        holders[key] = {snap.key}
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


def _moving_watermarks(
    store: ProfileStore,
    components: Sequence[Component],
    live: Mapping[str, CustomerState],
    hashes: Mapping[str, str],
) -> dict[str, datetime]:
    """The stored ``updated_at`` of the ``source#`` keys whose snapshots a merge moves unchanged.

    The identifier item's time can be newer than its snapshot's (a ``TouchSource`` moved it for an
    echo); the merge hands the key over with that time, so that a version older than the echo stays
    stale. Read only when a component merges customers, in one read for the batch.
    """
    keys = sorted(
        f"source#{key}"
        for component in components
        if len(component.customers) > 1
        for cid in component.customers - {component.survivor}
        for key in live[cid].snapshots
        if key not in hashes
    )
    if not keys:
        return {}
    return {k: o.updated_at for k, o in store.get_owners(keys).items() if o.updated_at is not None}


def _changeset(
    component: Component,
    survivor: str,
    absorbed: frozenset[str],
    live: Mapping[str, CustomerState],
    raw_owner: Mapping[str, str],
    owner_of: Mapping[str, str],
    hashes: Mapping[str, str],
    watermarks: Mapping[str, datetime],
    settings: IngestSettings,
    splits: set[str],
) -> Changeset:
    """The changeset of one component; ``survivor`` and ``absorbed`` are the component's.

    ``watermarks``: the stored times of the ``source#`` keys of snapshots that move unchanged.
    ``survivor`` is added to ``splits`` when an update leaves its records in disconnected groups."""
    members = component.customers
    ops: list[Operation] = []

    snapshots: dict[str, SourceRecord] = {}
    snapshot_home: dict[str, str] = {}
    for cid in sorted(members):
        for key, snap in live[cid].snapshots.items():
            snapshots[key] = snap
            snapshot_home[key] = cid
    changed: dict[str, str] = {}
    stored_keys = set(snapshots)
    for record in component.records:
        key = record.key
        changed[key] = hashes[key]
        previous = snapshots.get(key)
        if previous is not None and newest(previous, record) is previous:
            # The owners read let this record through as newer, but a newer version was stored
            # after that read (the customer, read later, holds it): plan again from fresh reads.
            raise ConflictError(f"a newer {key} was stored while the batch was read; plan again")
        snapshots[key] = record
        ops.append(PutSource(survivor, record, hashes[key]))
    records_of = {cid: live[cid].snapshots.keys() for cid in absorbed}
    ops.extend(
        change_history(
            component.records,
            stored_keys,
            survivor,
            members,
            records_of,
            owner_of,
            hashes,
            actor=settings.actor,
            at=settings.clock(),
        )
    )
    for key, home in sorted(snapshot_home.items()):
        if home == survivor:
            continue
        ops.append(DeleteSource(home, key))
        if key not in hashes:  # moved unchanged from an absorbed customer
            h = record_hash(snapshots[key])
            changed[key] = h
            ops.append(PutSource(survivor, snapshots[key], h))

    policy = settings.policy
    desired: set[str] = set()
    for snap in snapshots.values():
        for ident in snap.identifiers:
            key = ident.key
            if key in desired or policy.is_blocked(ident):
                continue
            owner = owner_of.get(key)
            if owner is None or owner in members:
                desired.add(key)
    holding: set[str] = set()
    for record in component.records:
        for ident in record.identifiers:
            key = ident.key
            if ident.kind == "source" or key in desired or policy.is_blocked(ident):
                continue
            owner = owner_of.get(key)
            if owner is not None and owner not in members:
                holding.add(key)  # another customer owns it: mark that this one holds it too
    ops.extend(PutHolder(key, survivor) for key in sorted(holding))
    for key in sorted(desired):
        current = raw_owner.get(key)
        is_source = key.startswith("source#")
        source_key = key[len("source#") :] if is_source else ""
        if current == survivor and not (is_source and source_key in changed):
            continue
        if is_source and source_key not in snapshots:
            # A child's link to its owner (``source#shopify:customer:1``) before the owner record is
            # here: the key is held with no hash or time, which the owner's record fills in later.
            ops.append(PutIdent(key, survivor, current))
        elif is_source:
            snap = snapshots[source_key]
            at = snap.ordered_at
            if source_key not in hashes:  # not this batch's record: keep a newer stored time
                at = max(at, watermarks.get(key, at))
            h = changed.get(source_key) or record_hash(snap)
            ops.append(PutIdent(key, survivor, current, h, at, _match(snap, settings)))
        else:
            ops.append(PutIdent(key, survivor, current))
    previously_owned: set[str] = set()
    for cid in members:
        previously_owned |= live[cid].owned
    ops.extend(DeleteIdent(key, raw_owner.get(key, survivor)) for key in sorted(previously_owned - desired))
    ops.extend(_mailbox_markers(ops, survivor))
    if settings.suppression is not None:
        # An erasure may suppress a value nobody stored yet after this plan's check: the IDENT
        # items this changeset creates are guarded by their suppression entries (docs/privacy.md).
        created = (op.key for op in ops if isinstance(op, PutIdent) and op.expected_owner is None)
        ops.extend(Unsuppressed(h) for h in settings.suppression.guards(created))
    ops.extend(Tombstone(cid, survivor, live[cid].version) for cid in sorted(absorbed))
    if (
        settings.linkage is None
        and members
        and len(snapshots) > 1
        and not _hold_together(snapshots.values(), policy)
    ):
        # An update removed the identifier that joined them, or a guardrail now refuses it (or a
        # split was cut short): checked on every change to an existing customer, so it heals.
        splits.add(survivor)
    prior = live.get(survivor)
    profile = build_profile(survivor, snapshots.values(), settings.rules, (prior.version if prior else 0) + 1)
    ops.append(
        PutProfile(
            survivor, profile, profile_hash(profile), frozenset(desired), prior.version if prior else None
        )
    )
    return Changeset(label=component.records[0].key, operations=tuple(ops))


def _mailbox_markers(ops: Sequence[Operation], survivor: str) -> list[PutHolder]:
    """A marker under the mailbox of each email this changeset gives ``survivor`` that is not the
    mailbox's own spelling (``IDENT#mailbox#annsmith@gmail.com`` / ``HOLDER#<survivor>`` for
    ``ann.smith@gmail.com``, core.mailbox): how an erasure naming another spelling of the address
    finds the customer (core.person_scope); the own spelling is found by its IDENT item. One per
    mailbox (a transaction takes one operation per item)."""
    markers: dict[str, PutHolder] = {}
    for op in ops:
        if isinstance(op, PutIdent) and op.key.startswith("email#"):
            mailbox = mailbox_key(op.key)
            if mailbox is not None and not is_canonical(op.key, mailbox):
                markers.setdefault(mailbox, PutHolder(mailbox, survivor))
    return [markers[k] for k in sorted(markers)]


def _match(record: SourceRecord, settings: IngestSettings) -> str | None:
    """The match fields a source identifier carries when probabilistic identity is on."""
    if settings.linkage is None:
        return None
    return match_document(record)


def complete_merge(
    store: ProfileStore,
    absorbed: str,
    survivor: str,
    settings: IngestSettings | None = None,
    joined_by: Sequence[str] = (),
) -> None:
    """Merge ``absorbed`` into ``survivor`` in idempotent steps, for merges too large to be atomic.

    1. freeze the absorbed customer (``merging_into``), 2. copy its snapshots to the survivor,
    3. hand its identifiers to the survivor, 4. delete its snapshots, 5. rebuild the survivor's
    profile and leave a tombstone. Each step can be repeated; a writer that finds a frozen customer
    calls this to finish the job, so a crash at any point loses nothing. ``joined_by``: the
    identifier keys that joined them, for the survivor's merge event (unknown to a writer that
    finishes a merge cut short).
    """
    settings = settings or IngestSettings()
    limit = store.max_items_per_commit
    for attempt in range(settings.max_attempts):
        state = store.get_customers([absorbed]).get(absorbed)
        if state is None or state.merged_into:
            return
        if state.merging_into is None:
            target = store.get_customers([survivor]).get(survivor)
            if target is None:
                raise ValueError(f"cannot merge {absorbed} into {survivor}: {survivor} does not exist")
            if target.merged_into or target.merging_into:
                # The survivor is itself on its way into another customer: follow it there.
                next_hop = target.merged_into or target.merging_into
                assert next_hop is not None
                if target.merging_into:
                    complete_merge(store, survivor, next_hop, settings)
                survivor = next_hop
                continue
            freeze = Changeset(
                f"freeze:{absorbed}",
                (
                    MarkMerging(absorbed, survivor, state.version),
                    MarkAbsorbing(survivor, absorbed, target.version),
                ),
            )
            if store.commit([freeze]):
                settings.sleep(random.uniform(0, settings.backoff_base * 2**attempt))
                continue
            state = store.get_customers([absorbed]).get(absorbed)
            if state is None:
                raise ConflictError(f"customer {absorbed} vanished while being merged")
        survivor = state.merging_into or survivor
        moves: list[Operation] = [
            PutSource(survivor, snap, record_hash(snap)) for snap in state.snapshots.values()
        ]
        _commit_in_chunks(store, moves, limit, f"copy:{absorbed}")
        current = store.get_owners(sorted(state.owned))
        handovers: list[Operation] = [
            PutIdent(k, survivor, absorbed, o.record_hash, o.updated_at, o.match)
            for k, o in current.items()
            if o.customer_id == absorbed
        ]
        _commit_in_chunks(store, handovers, limit, f"idents:{absorbed}")
        deletes: list[Operation] = [DeleteSource(absorbed, k) for k in state.snapshots]
        _commit_in_chunks(store, deletes, limit, f"drop:{absorbed}")
        target = store.get_customers([survivor]).get(survivor)
        if target is None:
            raise ConflictError(f"customer {survivor} vanished while absorbing {absorbed}")
        profile = build_profile(survivor, target.snapshots.values(), settings.rules, target.version + 1)
        final = Changeset(
            f"final:{absorbed}",
            (
                PutProfile(
                    survivor,
                    profile,
                    profile_hash(profile),
                    target.owned | state.owned,
                    target.version,
                    target.absorbing - {absorbed},
                ),
                Tombstone(absorbed, survivor, state.version),
                merge_event(
                    survivor, absorbed, state.snapshots, joined_by, actor=settings.actor, at=settings.clock()
                ),
            ),
        )
        if not store.commit([final]):
            inherit_merged(store, [final])
            return
        settings.sleep(random.uniform(0, settings.backoff_base * 2**attempt))
    raise ResolutionGaveUpError(
        f"merge of {absorbed} into {survivor} kept conflicting; it resumes on next ingest"
    )


def split_customer(
    store: ProfileStore, customer_id: str, settings: IngestSettings | None = None
) -> list[str]:
    """Split a customer whose source records no longer all share an identifier; return the new ids.

    Merging is by shared identifiers, and a record's update can remove the one that joined two
    people (a family inbox replaced by each person's own address). The customer then holds groups
    of records that resolution would not join if they arrived today. This splits them, one group
    per step, so that the customers are what the current records resolve to: the group holding the
    record that founded ``customer_id`` (or the one with the smallest source key) keeps the id;
    every other group becomes a new customer with the deterministic id of its smallest source key
    (or, if that id was used before, the next unused one of a series), and takes its snapshots and
    identifiers along, source identifiers with their stored hash and watermark. Each step is one
    conditional transaction; a lost race re-reads and plans again, and a group too large to move in
    one transaction raises ValueError (its records stay where they are). ``ingest`` calls this after a
    change to a customer whose records no longer hold together (an update removed the identifier
    that joined them, the guardrails refuse it now, or an earlier split was cut short); called
    directly, it is an unmerge after a change to the guardrails.
    """
    settings = settings or IngestSettings()
    created: list[str] = []
    attempt = 0
    while True:
        try:
            step = _split_step(store, customer_id, settings)
        except ResolutionGaveUpError:
            raise
        except ConflictError:
            # A lost race: the commit's conditions failed, or a read met a write half-way.
            attempt += 1
            if attempt >= settings.max_attempts:
                raise ResolutionGaveUpError(
                    f"splitting {customer_id} kept conflicting; the next change to it resumes it"
                ) from None
            _back_off(settings, attempt)
            continue
        if step is None:
            return created
        if step:
            created.append(step)
        attempt = 0


def _split_step(store: ProfileStore, customer_id: str, settings: IngestSettings) -> str | None:
    """One step of ``split_customer``: the id of the customer split off, "" when a merge in flight was
    finished first, None when the customer holds together (or is gone). A lost race raises
    ConflictError."""
    state = store.get_customers([customer_id]).get(customer_id)
    if state is None or state.merged_into:
        return None
    if state.merging_into or state.absorbing:
        # A merge in flight (or cut short): finish it; what it leaves is split next.
        for absorbed in sorted(state.absorbing):
            complete_merge(store, absorbed, customer_id, settings)
        if state.merging_into:
            complete_merge(store, customer_id, state.merging_into, settings)
        return ""
    if settings.linkage is not None:
        from core.link_scope import linked_groups

        groups = linked_groups(store, state, settings)
    else:
        groups = record_groups(list(state.snapshots.values()), settings.policy)
    if len(groups) < 2:
        return None
    keep = next((g for g in groups if any(customer_id_for(r.key) == customer_id for r in g)), groups[0])
    moving = next(g for g in groups if g is not keep)
    new_id = _unused_customer_id(store, moving[0].key, customer_id)
    changeset = split_changeset(store, state, moving, new_id, settings)
    if len(changeset) > store.max_items_per_commit:
        raise ValueError(
            f"cannot split {customer_id}: moving {len(moving)} records to {new_id} takes "
            f"{len(changeset)} writes, more than one transaction holds ({store.max_items_per_commit})"
        )
    if store.commit([changeset]):
        raise ConflictError(f"splitting {new_id} off {customer_id} lost a race")
    return new_id


def _unused_customer_id(store: ProfileStore, source_key: str, splitting: str) -> str:
    """The id of a customer split off ``splitting`` with ``source_key`` as its smallest key: the one
    that record would found (as in a resolution from scratch), unless that id was ever used (say
    the record founded a customer that later merged into ``splitting``); then the first unused one
    of the record's series (``split_ids``). Never an id with history, so nothing pushed under it
    before can be taken for current."""
    for candidate in split_ids(source_key):
        if not store.get_customers([candidate]):
            return candidate
    raise ConflictError(f"cannot split {splitting}: every id for {source_key} is taken")


#: How many ids beyond its founding one a record's series holds (a record split off that often is
#: not a person any more; the split is then refused as a conflict).
SPLIT_SERIES_LENGTH: Final = 32


def split_ids(source_key: str) -> list[str]:
    """The ids a customer founded by, or split off with, ``source_key`` as its smallest key can have,
    in the order they are given out: erasure looks for the customers merged into one through them."""
    series = [customer_id_for(f"{source_key}#split{n}") for n in range(1, SPLIT_SERIES_LENGTH + 1)]
    return [customer_id_for(source_key), *series]


def _hold_together(records: Iterable[SourceRecord], policy: IdentityPolicy) -> bool:
    """Whether the records form one group by shared usable identifiers: what ``record_groups``
    answers with one group, for a customer's own records (each of which holds the keys it has, so
    no guardrail limit applies), without building the groups. Runs for every change to an existing
    customer, so only the keys two records share are checked against the blocklist."""
    key_sets: list[set[str]] = []
    shared: dict[str, Identifier] = {}
    seen: dict[str, Identifier] = {}
    for record in records:
        # Source keys count: a child's owner link (``source#shopify:customer:1``) is shared with the
        # owner record. A record's own source key is in no other record of the customer.
        own = {ident.key: ident for ident in record.identifiers}
        shared.update({key: ident for key, ident in own.items() if key in seen})
        seen.update(own)
        key_sets.append(set(own))
    links = {key for key, ident in shared.items() if not policy.is_blocked(ident)}
    if len(key_sets) == 2:
        return bool(links)
    pending = [keys & links for keys in key_sets]
    reached = pending.pop()
    grew = True
    while pending and grew:
        grew = False
        for keys in pending[:]:
            if keys & reached:
                reached |= keys
                pending.remove(keys)
                grew = True
    return not pending


def record_groups(records: Sequence[SourceRecord], policy: IdentityPolicy) -> list[tuple[SourceRecord, ...]]:
    """The records grouped as resolution groups them on their own: by shared usable identifiers,
    under the guardrails (the records themselves being the holders). Groups and the records in them
    are sorted by source key."""
    ordered = sorted(records, key=lambda r: r.key)
    components, _ = group_records(ordered, {}, identifier_holders(ordered), policy)
    return [c.records for c in components]


def split_changeset(
    store: ProfileStore,
    state: CustomerState,
    moving: tuple[SourceRecord, ...],
    new_id: str,
    settings: IngestSettings,
    *,
    revive: int | None = None,
    reason: str = "its records no longer share a usable identifier",
    identifiers: Sequence[str] = (),
    handed_back: Iterable[str] = (),
) -> Changeset:
    """Move ``moving`` out of ``state``'s customer into the new customer ``new_id``; with ``revive``
    (the version of ``new_id``'s tombstone), into the merged-away customer ``new_id`` again, as a
    split from a merge's history event does (core.governance.unmerge). Both customers get a
    ``split`` event saying ``reason`` (and ``identifiers``, the keys that had joined them).
    ``handed_back``: keys ``new_id`` owned before a merge, which go back to it even when records
    that stay hold them too (``state``'s customer is then marked as holding them)."""
    cid, policy = state.customer_id, settings.policy

    def usable(group: Iterable[SourceRecord]) -> set[str]:
        return {i.key for r in group for i in r.identifiers if not policy.is_blocked(i)}

    moving_keys = {m.key for m in moving}
    remaining = [r for r in state.snapshots.values() if r.key not in moving_keys]
    back = set(handed_back)
    staying = usable(remaining)
    taken = sorted((usable(moving) & state.owned) - (staying - back))
    owners = store.get_owners(taken)
    ops: list[Operation] = []
    for record in moving:
        ops.append(DeleteSource(cid, record.key))
        ops.append(PutSource(new_id, record, record_hash(record)))
    for key in taken:
        owner = owners.get(key)
        if owner is None or owner.customer_id != cid:
            raise ConflictError(f"identifier {key} of {cid} is not owned by it; plan again")
        ops.append(PutIdent(key, new_id, cid, owner.record_hash, owner.updated_at, owner.match))
    # Values both groups hold stay with ``cid``: mark that the customer split off holds them too.
    ops.extend(
        PutHolder(key, new_id) for key in sorted(usable(moving) - set(taken)) if not key.startswith("source#")
    )
    ops.extend(PutHolder(key, cid) for key in taken if key in staying)  # handed back, held here too
    moved = build_profile(new_id, moving, settings.rules, 1 if revive is None else revive + 1)
    ops.append(PutProfile(new_id, moved, profile_hash(moved), frozenset(taken), revive))
    rest = build_profile(cid, remaining, settings.rules, state.version + 1)
    ops.append(PutProfile(cid, rest, profile_hash(rest), state.owned - set(taken), state.version))
    ops.extend(
        split_events(
            cid,
            new_id,
            moving_keys,
            actor=settings.actor,
            at=settings.clock(),
            reason=reason,
            identifiers=identifiers,
        )
    )
    return Changeset(f"split:{cid}:{new_id}", tuple(ops))


def _commit_in_chunks(store: ProfileStore, ops: list[Operation], limit: int, label: str) -> None:
    for start in range(0, len(ops), limit):
        chunk = Changeset(f"{label}:{start}", tuple(ops[start : start + limit]))
        if store.commit([chunk]):
            # Handovers are conditional on the absorbed owner; a failure means another writer
            # finished this step already (or the state moved on), which the next round re-reads.
            continue


__all__ = [
    "SPLIT_SERIES_LENGTH",
    "IngestResult",
    "IngestSettings",
    "Ownership",
    "ResolutionGaveUpError",
    "complete_merge",
    "ingest",
    "latest_versions",
    "record_groups",
    "split_changeset",
    "split_customer",
    "split_ids",
]
