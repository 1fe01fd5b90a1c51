"""Records deleted at the vendor are retired: gone from their customer, the person is not erased.

A connector whose vendor reports deletions (Salesforce ``IsDeleted`` rows through ``queryAll``, a
Stripe ``customer.deleted`` event, a HubSpot contact listed with ``archived=true``) returns a
tombstone for each: a ``RecordDraft`` with ``deleted=True`` that names the record and when it was
deleted (``updated_at``), nothing else. ``split_tombstones`` takes them out of a page's drafts;
``retire_records`` applies them:

    tombstone -> the owner of its ``source#`` key (absent, or only the owner link of other records
                 such as a charge's customer: nothing to do; stored version newer than the
                 deletion: the record came back at the vendor, so the tombstone is stale)
              -> the customer, read whole -> one conditional changeset: delete the SOURCE# item,
                 the IDENT items no record left holds, rebuild the profile from the records left
              -> the records left no longer share an identifier: split the customer
                 (``core.split.split_customer``, as after an update that dropped the link)
              -> no record left: delete the customer's items as an erasure does
                 (``core.person_scope``'s plan, without suppressing anything)

Retiring is not erasing: nothing is suppressed and no tool is asked to delete anything, so the
person's other records stay, and a record re-created at the vendor (Salesforce's undelete keeps the
id; a new Stripe customer gets a new one) is pulled and resolved again like any new record. Every
write is conditional on what was read; a lost race re-reads and plans again, so a tombstone can be
applied any number of times.

The retired record's ``source#`` IDENT item stays as a tombstone (owner ``core.ports.RETIRED_OWNER``,
the deletion's time as ``updated_at``), so an older version of the record that arrives after it (an
ingest message delivered late by SQS) is stale, as it would be next to the stored record; a version
newer than the deletion (re-created or restored at the vendor) replaces the tombstone and is resolved
like any new record. An owner link to the record (an order's, kept by the retirement or claimed by
a child pulled after it) keeps the tombstone's hash and time the same way, under the customer that
holds the child. A tombstone holds the vendor's record id and nothing of the person. Within one
pulled page the records go in before the tombstones. The customer that stays gets a
``source_removed`` history event naming the retired records (in the retiring changeset): an erasure
of the person reads it to delete their tombstones and suppress those record ids (core.person_scope).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.errors import ConflictError
from core.ports import (
    RETIRED_HASH,
    RETIRED_OWNER,
    Changeset,
    CustomerState,
    DeleteIdent,
    DeleteSource,
    Operation,
    ProfileStore,
    PushedState,
    PutIdent,
    PutProfile,
    SyncStateStore,
)
from core.privacy_store import DeleteItem, ErasureStore, ItemKey
from core.schema import Identifier, Quarantined, RecordDraft, SourceDeletion, SourceRecord

if TYPE_CHECKING:
    from core.ingest_settings import IngestSettings


def tombstone_of(draft: RecordDraft) -> SourceDeletion | Quarantined:
    """The deletion a tombstone draft stands for, or quarantined when it names no record or time.

    Only ``source``, ``object_type``, ``source_id`` and ``updated_at`` are read: a vendor reports a
    deleted record by its id, often with nothing else (a Stripe ``customer.deleted`` event's object
    holds the last state, a HubSpot archived contact its properties; neither is needed here)."""
    from core.normalise import normalise_timestamp  # the normalisers: only when a page has tombstones

    source = str(draft.source or "").strip()
    source_id = draft.source_id
    if isinstance(source_id, bool) or not isinstance(source_id, str | int):
        source_id = ""
    source_id = str(source_id).strip()
    object_type = str(draft.object_type or "").strip() or "contact"

    def quarantine(reason: str) -> Quarantined:
        return Quarantined(source=source[:200], source_id=source_id[:200], reason=reason, raw=draft.raw)

    if not source or not source_id:
        return quarantine("a deleted record without a source id: the vendor's id of what was deleted")
    try:
        deleted_at = normalise_timestamp(draft.updated_at)
    except Exception as exc:
        return quarantine(f"a deleted record without a valid time of deletion (updated_at): {exc}")
    return SourceDeletion(source=source, object_type=object_type, source_id=source_id, deleted_at=deleted_at)


def split_tombstones(
    drafts: Sequence[RecordDraft],
) -> tuple[list[RecordDraft], list[SourceDeletion], list[tuple[Quarantined, RecordDraft]]]:
    """A page's drafts in three: the records, the deletions, and the tombstones that name nothing
    (to quarantine, with the draft)."""
    records: list[RecordDraft] = []
    deletions: list[SourceDeletion] = []
    bad: list[tuple[Quarantined, RecordDraft]] = []
    for draft in drafts:
        if not getattr(draft, "deleted", False):
            records.append(draft)
            continue
        outcome = tombstone_of(draft)
        if isinstance(outcome, Quarantined):
            bad.append((outcome, draft))
        else:
            deletions.append(outcome)
    return records, deletions, bad


@dataclass
class RetireResult:
    """What ``retire_records`` did: ``received = retired + absent + stale + ignored``.

    ``absent``: the record was not stored (never pulled, quarantined, or retired already).
    ``stale``: the stored version is newer than the deletion (re-created or restored at the vendor).
    ``ignored``: not applied, since the caller gave no erasure store (``core.sync.retire_page``).
    ``removed_customers``: customers whose last record was retired, so they are gone.
    ``customers``: the live customers whose profile changed (for push)."""

    received: int = 0
    retired: int = 0
    absent: int = 0
    stale: int = 0
    ignored: int = 0
    removed_customers: int = 0
    split_customers: int = 0
    retries: int = 0
    customers: set[str] = field(default_factory=set)
    unsplit: list[str] = field(default_factory=list)

    def add(self, other: RetireResult) -> None:
        for name in (
            "received",
            "retired",
            "absent",
            "stale",
            "removed_customers",
            "split_customers",
            "retries",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.customers |= other.customers
        self.unsplit.extend(other.unsplit)

    def as_dict(self) -> dict[str, int]:
        return {
            "received": self.received,
            "retired": self.retired,
            "absent": self.absent,
            "stale": self.stale,
            "ignored": self.ignored,
            "removed_customers": self.removed_customers,
            "split_customers": self.split_customers,
        }


def retire_records(
    deletions: Iterable[SourceDeletion],
    store: ProfileStore,
    erasure: ErasureStore,
    settings: IngestSettings | None = None,
    *,
    pushed: SyncStateStore | None = None,
    max_attempts: int = 12,
    sleep: Callable[[float], None] = time.sleep,
) -> RetireResult:
    """Retire the deleted records from their customers (see the module docstring); idempotent.

    ``settings`` is the ingest's ``core.pipeline.IngestSettings`` (identity policy and survivorship
    rules; None: the defaults). ``erasure`` deletes a customer whose last record goes. ``pushed``
    (the sync state) marks, for a customer that stays, that its record at the tool was retired: a
    push to that tool in ``upsert`` mode then does not create the person there again
    (core.push_policy), until a record of theirs comes from the tool again. Raises
    ConflictError when a customer kept changing for ``max_attempts`` rounds (send the deletions
    again: they apply once)."""
    from core.ingest_settings import IngestSettings

    settings = settings or IngestSettings()
    latest: dict[str, SourceDeletion] = {}
    result = RetireResult()
    for deletion in deletions:
        result.received += 1
        prior = latest.get(deletion.key)
        if prior is None or deletion.deleted_at > prior.deleted_at:
            latest[deletion.key] = deletion
    result.absent += result.received - len(latest)  # the same deletion twice: once is enough
    pending = dict(sorted(latest.items()))
    for attempt in range(max_attempts):
        if not pending:
            return result
        try:
            pending = _retire_round(pending, store, erasure, settings, result, pushed)
        except ConflictError:
            pass
        else:
            if not pending:
                return result
        result.retries += 1
        sleep(random.uniform(0, min(1.0, 0.01 * 2**attempt)))
    raise ConflictError(
        f"{len(pending)} deleted records could not be retired: their customers kept changing; "
        "the deletions are safe to send again"
    )


def _retire_round(
    pending: dict[str, SourceDeletion],
    store: ProfileStore,
    erasure: ErasureStore,
    settings: IngestSettings,
    result: RetireResult,
    pushed: SyncStateStore | None = None,
) -> dict[str, SourceDeletion]:
    """One round: retire what can be, return the deletions whose customer lost a race."""
    owners = store.get_owners([f"source#{key}" for key in pending])
    by_customer: dict[str, list[SourceDeletion]] = {}
    for key, deletion in pending.items():
        owner = owners.get(f"source#{key}")
        if owner is None or owner.record_hash in (None, RETIRED_HASH):
            # Absent, or held only as the owner link of other records (a Stripe charge names its
            # customer; one claimed after the record was retired keeps RETIRED_HASH): the record
            # itself was never stored, or was retired already.
            result.absent += 1
        elif owner.updated_at is not None and owner.updated_at > deletion.deleted_at:
            result.stale += 1
        else:
            by_customer.setdefault(owner.customer_id, []).append(deletion)
    lost: dict[str, SourceDeletion] = {}
    for customer_id, gone in sorted(by_customer.items()):
        try:
            _retire_from(customer_id, gone, store, erasure, settings, result, pushed)
        except ConflictError:
            lost.update((d.key, d) for d in gone)
    return lost


def _live_state(store: ProfileStore, customer_id: str, settings: IngestSettings) -> CustomerState:
    """The customer as it is now: merges in flight finished first, merged-away ones followed."""
    from core.merge_steps import complete_merge

    seen: set[str] = set()
    while customer_id not in seen:
        seen.add(customer_id)
        state = store.get_customers([customer_id]).get(customer_id)
        if state is None:
            raise ConflictError(f"customer {customer_id} is named by an identifier but has no items yet")
        if state.merged_into:
            customer_id = state.merged_into
            continue
        if state.merging_into or state.absorbing:
            for absorbed in sorted(state.absorbing):
                complete_merge(store, absorbed, customer_id, settings)
            if state.merging_into:
                complete_merge(store, customer_id, state.merging_into, settings)
            raise ConflictError(f"a merge of {customer_id} was in flight; it is finished, plan again")
        return state
    raise ConflictError(f"customer {customer_id} is merged in a cycle")


def _retire_from(
    customer_id: str,
    deletions: Sequence[SourceDeletion],
    store: ProfileStore,
    erasure: ErasureStore,
    settings: IngestSettings,
    result: RetireResult,
    pushed: SyncStateStore | None = None,
) -> None:
    state = _live_state(store, customer_id, settings)
    cid = state.customer_id
    gone = {d.key for d in deletions}
    missing = gone - set(state.snapshots)
    if missing:
        # The identifier named this customer, its records do not hold the key: a move is half-read.
        raise ConflictError(f"{sorted(missing)[0]} is not among the records of {cid}; plan again")
    remaining = [r for key, r in state.snapshots.items() if key not in gone]
    if not remaining:
        _remove_customer(state, deletions[0], store, erasure, settings)
        # The customer's items are gone, its source# items with them: the tombstones take their place
        # (one already there, or a record re-created since, is left as it is).
        for deletion in deletions:
            store.commit([Changeset(f"tombstone:{deletion.key}", (_tombstone(deletion, None),))])
        _forget_retired(store, [state.snapshots[k] for k in sorted(gone)], settings, ())
        result.retired += len(gone)
        result.removed_customers += 1
        return
    deleted_at = {d.key: d for d in deletions}
    if store.commit([_retire_changeset(state, gone, remaining, settings, deleted_at)]):
        raise ConflictError(f"retiring records of {cid} lost a race; plan again")
    _forget_retired(store, [state.snapshots[k] for k in sorted(gone)], settings, (cid,))
    result.retired += len(gone)
    result.customers.add(cid)
    if pushed is not None:
        # The tool deleted the person's record there: an upsert push must not create it again.
        left = {r.source for r in remaining}
        tools = sorted({state.snapshots[k].source for k in gone} - left)
        at = max(d.deleted_at for d in deletions)
        pushed.put_pushed([PushedState(cid, tool, RETIRED_HASH, None, at) for tool in tools])
    from core.split import record_groups, split_customer

    if len(record_groups(remaining, settings.policy)) > 1:
        # The retired record was what joined the others (an email two records shared through it).
        try:
            result.split_customers += len(split_customer(store, cid, settings))
        except (ConflictError, ValueError):
            result.unsplit.append(cid)


def _forget_retired(
    store: ProfileStore, records: Sequence[SourceRecord], settings: IngestSettings, left: Sequence[str]
) -> None:
    """Take retired records out of the identity index (their BLOCK# memberships, the review items
    naming them), as an erasure does: no later batch finds a record that is gone as a candidate,
    and no review item asks a person about it (a re-created record is filed again when ingested).
    Then the link graph around them is planned again (core.link_relink): their neighbours in a
    dense block are paired anew, and a record they kept from a join (the cap) may join; ``left``:
    the customer they left, if it stays."""
    if settings.linkage is None:
        return
    from core.link_nodes import forget_records  # the matcher's imports only where it is used
    from core.link_relink import relink_after_removal

    forget_records(store, records, settings.policy)
    relink_after_removal(store, records, settings, left)


def _tombstone(deletion: SourceDeletion, owner: str | None) -> PutIdent:
    """The tombstone of a retired record, over its ``source#`` IDENT item (``owner``: the customer
    it names now; None when it is gone)."""
    return PutIdent(f"source#{deletion.key}", RETIRED_OWNER, owner, RETIRED_HASH, deletion.deleted_at)


def _retire_changeset(
    state: CustomerState,
    gone: set[str],
    remaining: list[SourceRecord],
    settings: IngestSettings,
    deletions: dict[str, SourceDeletion],
) -> Changeset:
    """Delete the retired snapshots and the identifiers only they held (a retired record's own id
    becomes its tombstone); rebuild the profile."""
    from core.governance.changes import removal_event
    from core.merge import build_profile, profile_hash  # lazily: events.py imports this module's model

    cid = state.customer_id
    held = {i.key for r in remaining for i in r.identifiers}
    ops: list[Operation] = [DeleteSource(cid, key) for key in sorted(gone)]
    released: set[str] = set()
    for key in sorted({i.key for k in gone for i in state.snapshots[k].identifiers}):
        if key not in state.owned:
            continue  # another customer owns it (a shared value): its IDENT item is not ours
        if key not in held:
            own = deletions.get(key[len("source#") :]) if key.startswith("source#") else None
            ops.append(_tombstone(own, cid) if own is not None else DeleteIdent(key, cid))
            released.add(key)
        elif key.startswith("source#") and key[len("source#") :] in gone:
            # A retired person's id that a child of theirs still holds (an order's owner link): kept
            # as the link with the tombstone's hash and time (``RETIRED_HASH``, the deletion's), so
            # that an older copy of the record arriving late is stale, and the record, created
            # again at the vendor (with the same content or not), is taken as new.
            deletion = deletions[key[len("source#") :]]
            ops.append(PutIdent(key, cid, cid, RETIRED_HASH, deletion.deleted_at))
    profile = build_profile(cid, remaining, settings.rules, state.version + 1)
    ops.append(
        PutProfile(
            cid, profile, profile_hash(profile), state.owned - released, state.version, state.absorbing
        )
    )
    # The history says which records went; it is also how an erasure of the person finds their
    # tombstones, which name no customer (core.person_scope).
    at = max(deletions[key].deleted_at for key in gone)
    ops.append(removal_event(cid, gone, actor=settings.actor, at=at))
    return Changeset(f"retire:{cid}", tuple(ops))


def _remove_customer(
    state: CustomerState,
    deletion: SourceDeletion,
    store: ProfileStore,
    erasure: ErasureStore,
    settings: IngestSettings,
) -> None:
    """Delete every item of a customer whose last record was retired: what an erasure deletes
    (``core.person_scope``), in its order and with its guards, but nothing suppressed and no tool
    asked. A lost race raises ConflictError (the caller reads again)."""
    from core.person_scope import plan_scope, scope_of

    request = Identifier(kind="source", value=deletion.key)
    scope = scope_of(
        request,
        state,
        profiles=store,
        erasure=erasure,
        sync_state=None,
        policy=settings.policy,
        splinters=False,
    )
    scope.tombstones = []  # the tombstones of its records retired before stay: they are not erased
    from core.governance.history_names import IndexesHistoryNames, forget_in_steps, names_in_history

    history = getattr(store, "history", None)
    named: list[tuple[str, str]] = []
    if isinstance(history, IndexesHistoryNames):
        # Its own history, and those of the customers merged into it, whose items go with it too.
        for cid in sorted({state.customer_id, *scope.absorbed}):
            named += [(name, cid) for name in sorted(names_in_history(history, cid))]
    applied = 0
    try:
        for step in plan_scope(scope, erasure.max_items_per_step):
            erasure.apply(step)
            applied += 1
    except ConflictError:
        if not applied:
            raise  # nothing deleted yet: the caller reads the customer again
        # The profile went in the first step: no later round would find this customer again, so
        # delete what is left of it now, read afresh (an identifier still naming it would make every
        # later record that holds it wait for a customer that no longer exists).
        cid = state.customer_id
        owned = sorted(k for k, o in store.get_owners(scope.owned).items() if o.customer_id == cid)
        left = [DeleteItem(ItemKey(f"IDENT#{k}", "IDENT"), expected_owner=cid) for k in owned]
        left += [DeleteItem(k) for k in (*scope.holder_items, *erasure.customer_items(cid))]
        size = max(1, erasure.max_items_per_step)
        for start in range(0, len(left), size):
            erasure.apply(tuple(left[start : start + size]))
    if named and isinstance(history, IndexesHistoryNames):
        # Its histories went with it: the index items saying they name a value or record go too,
        # after them (an item may outlive its event, never the other way round).
        forget_in_steps(history, named, erasure.max_items_per_step)


__all__ = [
    "RetireResult",
    "SourceDeletion",
    "retire_records",
    "split_tombstones",
    "tombstone_of",
]
