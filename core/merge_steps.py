"""Merges too large for one atomic changeset, run as idempotent steps (``complete_merge``) that any
later writer can finish if the first one crashed half-way, and the chunked commits they use."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from core.errors import ConflictError
from core.governance.changes import inherit_merged, merge_event
from core.ingest_settings import IngestSettings, ResolutionGaveUpError
from core.merge import build_profile, profile_hash, record_hash
from core.ports import (
    Changeset,
    CustomerState,
    DeleteSource,
    MarkAbsorbing,
    MarkMerging,
    Operation,
    ProfileStore,
    PutIdent,
    PutProfile,
    PutSource,
    Tombstone,
)
from core.schema import SourceRecord


def freeze_merge(store: ProfileStore, absorbed: CustomerState, survivor: CustomerState) -> bool:
    """The first step of a merge: freeze ``absorbed`` into ``survivor``, both at the versions read
    (a write to either since makes it lose). Whether it was committed; ``complete_merge`` does the
    rest."""
    freeze = Changeset(
        f"freeze:{absorbed.customer_id}",
        (
            MarkMerging(absorbed.customer_id, survivor.customer_id, absorbed.version),
            MarkAbsorbing(survivor.customer_id, absorbed.customer_id, survivor.version),
        ),
    )
    return not store.commit([freeze])


def finish_merges(store: ProfileStore, state: CustomerState, settings: IngestSettings) -> bool:
    """Finish the merges in flight (or cut short) of the customer read as ``state``: those into it
    and its own into another. Whether there was one (the customer is then read again)."""
    for absorbed in sorted(state.absorbing):
        complete_merge(store, absorbed, state.customer_id, settings, in_flight=True)
    if state.merging_into:
        complete_merge(store, state.customer_id, state.merging_into, settings, in_flight=True)
    return bool(state.absorbing or state.merging_into)


def complete_merge(
    store: ProfileStore,
    absorbed: str,
    survivor: str,
    settings: IngestSettings | None = None,
    joined_by: Sequence[str] = (),
    *,
    in_flight: bool = False,
) -> None:
    """Merge ``absorbed`` into ``survivor`` in idempotent steps, for merges too large to be atomic.

    1. freeze the absorbed customer (``merging_into``), 2. copy its snapshots to the survivor,
    3. hand its identifiers to the survivor, 4. delete its snapshots, 5. rebuild the survivor's
    profile and leave a tombstone. Each step can be repeated; a writer that finds a frozen customer
    calls this to finish the job, so a crash at any point loses nothing. A merge whose last step a
    store would refuse (the survivor's profile past 400 KB) is refused, ``RecordRejectedError``,
    before its first: never frozen half-way for good. One an older version froze so (it did not ask
    first) is taken back instead, ``core.merge_undo.undo_merge``. ``joined_by``: the identifier keys
    that joined them, for the survivor's merge event (unknown to a writer that finishes a merge cut
    short). ``in_flight``: the caller read the merge in flight and only finishes it; found no longer
    in flight here (another writer finished it or took it back), it is left so, not started afresh.
    """
    settings = settings or IngestSettings()
    limit = store.max_items_per_commit
    for attempt in range(settings.max_attempts):
        state = store.get_customers([absorbed]).get(absorbed)
        if state is None or state.merged_into or (in_flight and state.merging_into is None):
            return
        if state.merging_into is None:
            target = store.get_customers([survivor]).get(survivor)
            if target is None:
                # Planned on a read of it (a merge in flight another writer took back since, then
                # erased the survivor): the caller plans again on fresh reads, its records are not
                # at fault.
                raise ConflictError(f"cannot merge {absorbed} into {survivor}: {survivor} does not exist")
            if target.merged_into or target.merging_into:
                # The survivor is itself on its way into another customer: follow it there.
                next_hop = target.merged_into or target.merging_into
                assert next_hop is not None
                if target.merging_into:
                    complete_merge(store, survivor, next_hop, settings)
                survivor = next_hop
                continue
            check_merge_fits(state, target, settings, joined_by)
            if not freeze_merge(store, state, target):
                settings.sleep(random.uniform(0, settings.backoff_base * 2**attempt))
                continue
            state = store.get_customers([absorbed]).get(absorbed)
            if state is None:
                raise ConflictError(f"customer {absorbed} vanished while being merged")
        else:
            # In flight: which way it goes is read off the survivor, then the customer read again
            # (taken back by another writer since the read above, it is left so). In that order,
            # as no store reads two customers at one instant: an undo copies the records back
            # before it drops them from the survivor, so the two reads hold all of them.
            into = state.merging_into
            target = store.get_customers([into]).get(into)
            state = store.get_customers([absorbed]).get(absorbed)
            if state is None or state.merged_into or state.merging_into != into:
                continue
            if target is None:
                # Its survivor deleted by an older version's erasure: nothing to finish or take back.
                from core.merge_undo import repair_orphan

                repair_orphan(store, absorbed, into, settings)
                return
            if _cannot_finish(state, target, settings):
                # Frozen by an older version, which did not ask before the freeze: its last step
                # would be refused again, so every writer that meets it takes it back.
                from core.merge_undo import undo_merge

                undo_merge(store, absorbed, into, settings)
                return
        survivor = state.merging_into or survivor
        version = _copy(store, state, survivor, limit)
        if version is None:
            continue  # another writer finished the merge (or moved it on) since the read: read again
        _hand_over(store, state.owned, absorbed, survivor, settings)
        deletes: list[Operation] = [DeleteSource(absorbed, k) for k in state.snapshots]
        _commit_in_chunks(store, deletes, limit, f"drop:{absorbed}")
        target = store.get_customers([survivor]).get(survivor)
        if target is None:
            raise ConflictError(f"customer {survivor} vanished while absorbing {absorbed}")
        final = _final(absorbed, survivor, state, target, target.snapshots, joined_by, settings, version)
        if not store.commit([final]):
            inherit_merged(store, [final])
            return
        settings.sleep(random.uniform(0, settings.backoff_base * 2**attempt))
    raise ResolutionGaveUpError(
        f"merge of {absorbed} into {survivor} kept conflicting; it resumes on next ingest"
    )


def _cannot_finish(state: CustomerState, target: CustomerState | None, settings: IngestSettings) -> bool:
    """Whether the merge in flight of the customer read as ``state`` into ``target`` (read just
    before it) is one whose last step a store refuses (their records together past 400 KB). Every
    writer reads the same answer: the records are on one side or the other until the merge ends."""
    from core.merge_undo import merge_fits

    if target is None or target.merged_into or target.merging_into:
        return False  # the steps below follow (or report) it
    return not merge_fits(state, target, settings)


def _final(
    absorbed: str,
    survivor: str,
    state: CustomerState,
    target: CustomerState,
    snapshots: Mapping[str, SourceRecord],
    joined_by: Sequence[str],
    settings: IngestSettings,
    version: int,
) -> Changeset:
    """The last step: the survivor's profile built from ``snapshots`` (its own and the absorbed
    customer's), the absorbed customer's tombstone (over its ``version``), the merge event."""
    profile = build_profile(survivor, snapshots.values(), settings.rules, target.version + 1)
    return Changeset(
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
            Tombstone(absorbed, survivor, version),
            merge_event(
                survivor, absorbed, state.snapshots, joined_by, actor=settings.actor, at=settings.clock()
            ),
        ),
    )


def check_merge_fits(
    absorbed: CustomerState, survivor: CustomerState, settings: IngestSettings, joined_by: Sequence[str] = ()
) -> None:
    """``RecordRejectedError`` when a store would refuse the last step of merging ``absorbed`` into
    ``survivor`` as read (a profile or an event past DynamoDB's 400 KB: core.storage.memory_sizes,
    the rule every store holds). Asked before the freeze: a merge stopped at its last step leaves
    the absorbed customer frozen half-way, and every later writer refused finishing it."""
    from core.storage.memory_sizes import check_changeset  # only for a merge run in steps

    together = {**survivor.snapshots, **absorbed.snapshots}
    name = absorbed.customer_id
    check_changeset(
        _final(
            name, survivor.customer_id, absorbed, survivor, together, joined_by, settings, absorbed.version
        )
    )


def _copy(store: ProfileStore, state: CustomerState, survivor: str, limit: int) -> int | None:
    """Copy the frozen customer's snapshots, as read in ``state``, to ``survivor``, a transaction at a
    time, each conditional on the customer still frozen as read (``MarkMerging`` again, which moves
    its version on): a writer that read it before another finished the merge, stored newer versions
    and split them off, copies nothing stale. The customer's version after the copy; None when it
    moved on."""
    version = state.version
    snapshots = list(state.snapshots.values())
    step = max(1, limit - 1)
    for start in range(0, len(snapshots), step):
        chunk = Changeset(
            f"copy:{state.customer_id}:{start}",
            (
                MarkMerging(state.customer_id, survivor, version),
                *(PutSource(survivor, snap, record_hash(snap)) for snap in snapshots[start : start + step]),
            ),
        )
        if store.commit([chunk]):
            return None
        version += 1
    return version


def _hand_over(
    store: ProfileStore, keys: frozenset[str], absorbed: str, survivor: str, settings: IngestSettings
) -> None:
    """Give ``survivor`` the identifiers ``absorbed`` still owns, each with the hash and time read
    from it and conditional on both owner and time (``PutIdent.expected_at``): a touch committed by
    another writer in between makes the handover lose, and it is read and made again, never
    putting the older time back. A key another writer moved elsewhere is left to it."""
    todo = sorted(keys)
    for _ in range(settings.max_attempts):
        current = store.get_owners(todo)
        handovers: list[Operation] = [
            PutIdent(
                k, survivor, absorbed, o.record_hash, o.updated_at, o.match, o.updated_at, o.run, True, o.run
            )
            for k, o in current.items()
            if o.customer_id == absorbed
        ]
        lost = _commit_in_chunks(store, handovers, store.max_items_per_commit, f"idents:{absorbed}")
        if not lost:
            return
        todo = sorted(op.key for op in lost if isinstance(op, PutIdent))
    # The final step's conditions still hold: a key left with ``absorbed`` resolves to ``survivor``
    # through its tombstone (core.identity.live_owner), as a crash between steps leaves it.


def _commit_in_chunks(store: ProfileStore, ops: list[Operation], limit: int, label: str) -> list[Operation]:
    """Commit ``ops`` a transaction at a time; the operations of the chunks that lost a condition."""
    lost: list[Operation] = []
    for start in range(0, len(ops), limit):
        chunk = Changeset(f"{label}:{start}", tuple(ops[start : start + limit]))
        if store.commit([chunk]):
            # Handovers are conditional on the absorbed owner; a failure means another writer
            # finished this step already (or the state moved on), which the next round re-reads.
            lost.extend(chunk.operations)
    return lost
