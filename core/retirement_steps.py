"""Retiring records from one customer (``core.retirement``'s steps): the customer read live (merges
in flight finished first), one conditional changeset that deletes the retired records and the
identifiers only they held, leaves tombstones over their ``source#`` items and rebuilds the profile,
then a split when the records left no longer share an identifier; a customer left with no record is
deleted as an erasure deletes one, nothing suppressed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from core.content_hash import record_hash
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
from core.privacy_store import DeleteItem, ErasureStore, ItemKey, apply_in_steps
from core.schema import Identifier, SourceDeletion, SourceRecord

if TYPE_CHECKING:
    from core.ingest_settings import IngestSettings
    from core.retirement import RetireResult


class RemovalRacedError(ConflictError):
    """Tombstones of a removed customer's records that lost their condition: a version of those records
    was stored after the customer's items went (as a customer of its own, older or newer than the
    deletion). The rest of the removal stands; these deletions are judged again on a fresh read."""

    def __init__(self, deletions: Sequence[SourceDeletion]) -> None:
        super().__init__(f"{len(deletions)} record(s) stored again while their customer was removed")
        self.deletions = tuple(deletions)


def _live_state(store: ProfileStore, customer_id: str, settings: IngestSettings) -> CustomerState:
    """The customer as it is now: merges in flight finished first, merged-away ones followed."""
    from core.merge_steps import finish_merges

    seen: set[str] = set()
    while customer_id not in seen:
        seen.add(customer_id)
        state = store.get_customers([customer_id]).get(customer_id)
        if state is None:
            raise ConflictError(f"customer {customer_id} is named by an identifier but has no items yet")
        if state.merged_into:
            customer_id = state.merged_into
            continue
        if finish_merges(store, state, settings):
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
    read: Mapping[str, datetime | None] | None = None,
    judged: Mapping[str, str | None] | None = None,
) -> None:
    """Retire ``deletions`` from the customer. ``read``: the time each record's ``source#`` item held
    when the caller judged the deletion (by source key): the tombstone replaces the item only while
    it holds that time still, so a version or a touch committed since (newer than the deletion,
    perhaps) makes it lose, and the deletion is judged again on a fresh read. ``judged``: the record
    hash that item held: a customer whose records hold another version now (stored since the owners
    were read) is not retired from (ConflictError), whichever path the retirement takes."""
    state = _live_state(store, customer_id, settings)
    cid = state.customer_id
    gone = {d.key for d in deletions}
    missing = gone - set(state.snapshots)
    if missing:
        # The identifier named this customer, its records do not hold the key: a move is half-read.
        raise ConflictError(f"{sorted(missing)[0]} is not among the records of {cid}; plan again")
    if judged is not None and any(record_hash(state.snapshots[k]) != judged.get(k) for k in sorted(gone)):
        # The removal below deletes what it reads now: a version stored since the deletion was judged
        # (newer than it, perhaps) would go with it.
        raise ConflictError(f"a record of {cid} was stored again since its deletion was judged; plan again")
    remaining = [r for key, r in state.snapshots.items() if key not in gone]
    if not remaining and len(deletions) > 1 and len(deletions) + 1 > erasure.max_items_per_step:
        # The removal's time checks hold only in its first step (with the PROFILE delete): what does
        # not fit there is retired first, the customer kept with the last record, then removed.
        _retire_in_two(cid, deletions, store, erasure, settings, result, pushed, read, judged)
        return
    if not remaining:
        _remove_customer(state, deletions[0], store, erasure, settings, read or {})
        # The customer's items are gone, its source# items with them: the tombstones take their place.
        # One that loses its condition meets a version stored since the items went (a customer of its
        # own now): that deletion is judged again (older: retired; newer: stale), not left undone.
        again = [
            deletion
            for deletion in deletions
            if store.commit([Changeset(f"tombstone:{deletion.key}", (_tombstone(deletion, None),))])
        ]
        retired = sorted(gone - {d.key for d in again})
        _forget_retired(store, [state.snapshots[k] for k in retired], settings, ())
        result.retired += len(retired)
        result.removed_customers += 1
        if again:
            raise RemovalRacedError(again)
        return
    deleted_at = {d.key: d for d in deletions}
    if store.commit([_retire_changeset(state, gone, remaining, settings, deleted_at, read or {})]):
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


def _retire_in_two(
    cid: str,
    deletions: Sequence[SourceDeletion],
    store: ProfileStore,
    erasure: ErasureStore,
    settings: IngestSettings,
    result: RetireResult,
    pushed: SyncStateStore | None,
    read: Mapping[str, datetime | None] | None,
    judged: Mapping[str, str | None] | None,
) -> None:
    """Retire every record of ``cid`` but the last (one changeset, each tombstone over the time read),
    then the last one, which removes the customer: its ``source#`` delete holds the time read in the
    removal's first step, so a touch committed since loses before anything of it is deleted. Only the
    last deletion is judged again when that part loses (the others are retired: counted once)."""
    *first, last = deletions
    _retire_from(cid, first, store, erasure, settings, result, pushed, read, judged)
    try:
        _retire_from(cid, [last], store, erasure, settings, result, pushed, read, judged)
    except RemovalRacedError:
        result.customers.discard(cid)  # removed, a tombstone lost: judged again
        raise
    except ConflictError as lost:
        raise RemovalRacedError([last]) from lost
    result.customers.discard(cid)  # removed: nothing to push


def _forget_retired(
    store: ProfileStore, records: Sequence[SourceRecord], settings: IngestSettings, left: Sequence[str]
) -> None:
    """Take retired records out of the identity index (their BLOCK# memberships, the review items
    naming them), as an erasure does: no later batch finds a record that is gone as a candidate,
    and no review item asks a person about it (a re-created record is filed again when ingested).
    Then the link graph around them is planned again (core.link_relink): their neighbours in a
    dense block are paired anew, and a record they kept from a join (the cap) may join; ``left``:
    the customer they left, if it stays."""
    from core.privacy_refused_stale import after_retirement

    after_retirement(store, settings.suppression, records)  # its refused-values entries (docs/privacy.md)
    if settings.linkage is None:
        return
    from core.link_nodes import forget_records  # the matcher's imports only where it is used
    from core.link_relink import relink_after_removal

    forget_records(store, records, settings.policy)
    relink_after_removal(store, records, settings, left)


def _held_at(delete: DeleteItem, timed: Mapping[str, datetime]) -> DeleteItem:
    """``delete``, guarded on the time read (``timed``, by identifier key) when it deletes one of those
    IDENT items by its owner."""
    at = timed.get(delete.key.pk[len("IDENT#") :]) if delete.key.sk == "IDENT" else None
    return replace(delete, expected_at=at) if at is not None and delete.expected_owner else delete


def _tombstone(deletion: SourceDeletion, owner: str | None, read: datetime | None = None) -> PutIdent:
    """The tombstone of a retired record, over its ``source#`` IDENT item (``owner``: the customer
    it names now; None when it is gone; ``read``: the time the item must still hold, with an owner)."""
    at = read if owner is not None else None
    return PutIdent(
        f"source#{deletion.key}", RETIRED_OWNER, owner, RETIRED_HASH, deletion.deleted_at, expected_at=at
    )


def _retire_changeset(
    state: CustomerState,
    gone: set[str],
    remaining: list[SourceRecord],
    settings: IngestSettings,
    deletions: dict[str, SourceDeletion],
    read: Mapping[str, datetime | None],
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
            ops.append(_tombstone(own, cid, read.get(own.key)) if own is not None else DeleteIdent(key, cid))
            released.add(key)
        elif key.startswith("source#") and key[len("source#") :] in gone:
            # A retired person's id that a child of theirs still holds (an order's owner link): kept
            # as the link with the tombstone's hash and time (``RETIRED_HASH``, the deletion's), so
            # that an older copy of the record arriving late is stale, and the record, created
            # again at the vendor (with the same content or not), is taken as new.
            deletion = deletions[key[len("source#") :]]
            at = read.get(deletion.key)
            ops.append(PutIdent(key, cid, cid, RETIRED_HASH, deletion.deleted_at, expected_at=at))
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
    read: Mapping[str, datetime | None],
) -> None:
    """Delete every item of a customer whose last record was retired: what an erasure deletes
    (``core.person_scope``), in its order and with its guards, but nothing suppressed and no tool
    asked. A lost race raises ConflictError (the caller reads again). ``read``: the time each retired
    record's ``source#`` item held when the deletion was judged (by source key): its delete holds
    that time too, in the first step, so that a touch committed since (a version newer than the
    deletion, perhaps) makes the removal lose before anything is deleted, and it is judged again."""
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
    timed = {f"source#{k}": at for k, at in read.items() if at is not None and f"source#{k}" in scope.owned}
    scope.owned = sorted(scope.owned, key=lambda k: k not in timed)  # first: in the first step
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
            erasure.apply(tuple(_held_at(delete, timed) for delete in step))
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
        apply_in_steps(erasure, left)
    if named and isinstance(history, IndexesHistoryNames):
        # Its histories went with it: the index items saying they name a value or record go too,
        # after them (an item may outlive its event, never the other way round).
        forget_in_steps(history, named, erasure.max_items_per_step)
