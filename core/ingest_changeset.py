"""The changeset of one component of a batch (new customer, attach or merge): its records' snapshots,
the identifiers its survivor takes, gives up or holds too, mailbox markers, suppression guards,
tombstones of the customers it absorbs and the survivor's rebuilt profile, all conditional on what
the plan read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from core.consent_carry import carry_consent_times
from core.content_run import ContentRun
from core.errors import ConflictError
from core.governance.changes import change_history
from core.grow_mark import add_only_mark
from core.identity import Component
from core.ingest_runs import redating, written_item
from core.ingest_settings import IngestSettings
from core.link_index import match_document
from core.mailbox import marker_keys
from core.merge import build_profile, profile_hash, record_hash
from core.ports import (
    RETIRED_HASH,
    Changeset,
    CustomerState,
    DeleteIdent,
    DeleteSource,
    Operation,
    Ownership,
    ProfileStore,
    PutHolder,
    PutIdent,
    PutProfile,
    PutSource,
    Tombstone,
    Unsuppressed,
)
from core.schema import SourceRecord
from core.split import _hold_together
from core.undated import later


def _moving_watermarks(
    store: ProfileStore,
    components: Sequence[Component],
    live: Mapping[str, CustomerState],
    hashes: Mapping[str, str],
    touched: Mapping[str, tuple[datetime, str | None]],
    runs_read: dict[str, str],
) -> dict[str, datetime]:
    """The stored ``updated_at`` of the ``source#`` keys whose snapshots a merge moves unchanged.

    The identifier item's time can be newer than its snapshot's (a ``TouchSource`` moved it for an
    echo); the merge hands the key over with that time, so that a version older than the echo stays
    stale. ``touched``: the times this plan's own touches give (they commit before its changesets,
    so the read below, or the one the plan made, is older than what the store then holds). Read
    only when a component merges customers, in one read for the batch. Their content runs
    (core.content_run) go into ``runs_read``, so the handover keeps them.
    """
    keys = sorted(
        f"source#{key}"
        for component in components
        if len(component.customers) > 1
        for cid in component.customers - {component.survivor}
        for key in live[cid].snapshots
        if key not in hashes
    )
    moving: dict[str, datetime] = {}
    for key in keys:
        if key in touched:
            moving[key], run = touched[key]
            if run is not None:
                runs_read[key] = run
    unread = [k for k in keys if k not in moving]
    if unread:
        for k, o in store.get_owners(unread).items():
            if o.updated_at is not None:
                moving[k] = o.updated_at
                if o.run is not None:
                    runs_read[k] = o.run
    return moving


def _retired_marks(
    store: ProfileStore,
    components: Sequence[Component],
    live: Mapping[str, CustomerState],
    read: Mapping[str, Ownership],
) -> dict[str, datetime]:
    """The deletion times the ``source#`` keys of retired records keep (``RETIRED_HASH``).

    A tombstone's item stays a tombstone until a child record (a Stripe charge naming its deleted
    customer) claims the key as its owner link: the link keeps the deletion's time and
    ``RETIRED_HASH``, so that a late copy of the deleted record is still stale (core.retirement),
    also when the link is handed over to another customer later (a merge). ``read``: the items the
    plan read (tombstones among them); the links held by customers a merge absorbs are read here,
    in one read for the batch, only when a component merges customers.
    """
    marks = {k: o.updated_at for k, o in read.items() if o.record_hash == RETIRED_HASH and o.updated_at}
    links = sorted(
        key
        for component in components
        if len(component.customers) > 1
        for cid in component.customers - {component.survivor}
        for key in live[cid].owned
        if key.startswith("source#") and key[len("source#") :] not in live[cid].snapshots and key not in read
    )
    if links:
        owners = store.get_owners(links)
        marks.update(
            {k: o.updated_at for k, o in owners.items() if o.record_hash == RETIRED_HASH and o.updated_at}
        )
    return marks


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
    marks: Mapping[str, datetime] | None = None,
    runs: Mapping[str, ContentRun] | None = None,
    moving_runs: Mapping[str, str] | None = None,
) -> Changeset:
    """The changeset of one component; ``survivor`` and ``absorbed`` are the component's.

    ``watermarks``: the stored times of the ``source#`` keys of snapshots that move unchanged.
    ``marks``: the deletion times kept by the ``source#`` keys of retired records (``_retired_marks``).
    ``runs``: the content runs (core.content_run) the plan worked out for records stored before; a
    record not in it starts its run with the versions it stands for (core.ingest_runs.run_of).
    ``moving_runs``: the stored runs of the ``source#`` keys of snapshots that move unchanged (the
    run each keeps) and of the batch's records stored before; every key written on condition of its
    time read (``watermarks``) is on condition of its run read too (absent here: no run).
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
    redated: set[str] = set()  # the stored content re-dated (core.ingest_runs): no change to record
    records: list[SourceRecord] = []  # the component's, a decision dated by its record kept dated
    for record in component.records:
        key = record.key
        changed[key] = hashes[key]
        previous = snapshots.get(key)
        if previous is not None and redating(previous, key, runs):
            redated.add(key)
        elif previous is not None and later(previous, record) is previous:
            # The owners read let this record through as newer, but a newer version was stored
            # after that read (the customer, read later, holds it): plan again from fresh reads.
            raise ConflictError(f"a newer {key} was stored while the batch was read; plan again")
        # a decision dated by its record keeps the time the stored version gave it (core.consent_carry)
        record = carry_consent_times(previous, record)
        records.append(record)
        snapshots[key] = record
        ops.append(PutSource(survivor, record, hashes[key]))
    records_of = {cid: live[cid].snapshots.keys() for cid in absorbed}
    ops.extend(
        change_history(
            [r for r in records if r.key not in redated],
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
            # here: the key is held with no hash or time, which the owner's record fills in later;
            # or after it was retired: the link keeps the deletion's time (a late copy is stale).
            mark = (marks or {}).get(key)
            if mark is None:
                ops.append(PutIdent(key, survivor, current))
            else:
                ops.append(PutIdent(key, survivor, current, RETIRED_HASH, mark))
        elif is_source:
            snap = snapshots[source_key]
            at, run = snap.ordered_at, None
            # The time read: written only if no touch moved it since (PutIdent.expected_at).
            read_at = watermarks.get(key) if current is not None else None
            if source_key not in hashes:  # not this batch's record: keep a newer stored time, its run
                at, run = max(at, read_at or at), (moving_runs or {}).get(key)
            else:  # the watermark is the newest time of the content's run, the snapshot its start
                at, run = written_item(snap, runs)
            h = changed.get(source_key) or record_hash(snap)
            expected_run = (moving_runs or {}).get(key)
            match = _match(snap, settings)
            ops.append(
                PutIdent(
                    key, survivor, current, h, at, match, read_at, run, read_at is not None, expected_run
                )
            )
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
        ops.extend(Unsuppressed(h) for h in settings.suppression.guards(created, component.records))
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
    # What the add-only path may assume of the survivor's records, which it will not read (core.grow_mark).
    add_only = add_only_mark(settings.rules, snapshots.values())
    version = prior.version if prior else None
    ops.append(
        PutProfile(survivor, profile, profile_hash(profile), frozenset(desired), version, add_only=add_only)
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
            # and under the folded spelling of a key stored before the upgrade that folds it
            # (core.mailbox.marker_keys): how an erasure of her folded record finds this one
            for marker in marker_keys(op.key):
                markers.setdefault(marker, PutHolder(marker, survivor))
    return [markers[k] for k in sorted(markers)]


def _match(record: SourceRecord, settings: IngestSettings) -> str | None:
    """The match fields a source identifier carries when probabilistic identity is on."""
    if settings.linkage is None:
        return None
    return match_document(record)
