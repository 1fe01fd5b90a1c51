"""Undoing a merge in steps that cannot complete: the repair of customers an older version froze.

Before ``check_merge_fits`` (core.merge_steps), a merge in steps whose last step a store refused (the
survivor's profile past DynamoDB's 400 KB) stopped there: the absorbed customer stayed frozen
(``merging_into``), its snapshots copied to the survivor (``absorbing``) and deleted from itself, its
identifiers handed over. Every later writer that met either customer tried to finish the merge, was
refused again, and its record was quarantined; an erasure found the survivor through the handed-over
identifiers and left the frozen customer's profile. A review accept of two large customers left its
pair marked accepted, which every later ingest applied again (refused again).

``undo_merge`` takes such a merge back, in idempotent steps any writer can repeat or finish after
another cut them short: 1. copy the absorbed customer's records (the keys its own profile and
snapshots name) back from the survivor, each chunk conditional on the customer still frozen as read;
2. hand its identifiers back; 3. delete the copies from the survivor; 4. put an accepted review pair
across the two customers back in the queue, as ``decide`` now leaves a pair it refuses (before the
next step: once the marks are gone nothing says the accept was refused); 5. rewrite both profiles
from their own records in one changeset, which clears both marks (conditional on both versions).
``complete_merge`` calls it for a merge in flight whose last step a store would refuse, so ingest, a
review decision and an erasure that meet such a customer all undo it the same way (none finishes
it), and ``repair_frozen`` (``profilesync repair``) finds and repairs them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal

from core.content_run import ContentRun
from core.errors import ConflictError, RecordRejectedError
from core.ingest_settings import IngestSettings, ResolutionGaveUpError, _back_off
from core.merge import build_profile, profile_hash, record_hash
from core.ports import (
    Changeset,
    CustomerState,
    DeleteSource,
    ListsFrozen,
    MarkMerging,
    Operation,
    ProfileStore,
    PutIdent,
    PutProfile,
    PutSource,
    Tombstone,
)

__all__ = [
    "FrozenMerge",
    "find_frozen",
    "merge_fits",
    "orphans_holding",
    "repair_frozen",
    "repair_orphan",
    "undo_merge",
]

#: Review pairs read per ``get_reviews`` call when looking for the accepted pair of an undone merge.
_PAIRS_PER_READ = 500


def merge_fits(absorbed: CustomerState, survivor: CustomerState, settings: IngestSettings) -> bool:
    """Whether the last step of merging ``absorbed`` into ``survivor``, as read, is one a store takes.

    In flight the records are split between the two (the copies on the survivor, those not copied yet
    on the absorbed customer): their union is what the last step writes, whatever step was reached."""
    from core.merge_steps import check_merge_fits

    try:
        check_merge_fits(absorbed, survivor, settings)
    except RecordRejectedError:
        return False
    return True


def own_keys(state: CustomerState) -> frozenset[str]:
    """The records of a frozen customer: those its profile (written before the freeze, which no step
    of a merge rewrites) names, and any snapshot it still holds."""
    named = {ref.key for ref in state.profile.sources} if state.profile is not None else set()
    return frozenset(named | set(state.snapshots))


def undo_merge(store: ProfileStore, absorbed: str, survivor: str, settings: IngestSettings) -> bool:
    """Take back the merge of ``absorbed`` into ``survivor`` in flight (see the module docstring).
    Whether this call (or a writer racing it) left the two apart; False when there was nothing to
    undo: ``absorbed`` is not frozen into ``survivor`` (finished, or undone by another writer before
    this read). Raises ConflictError for a survivor itself merged or frozen into a third customer
    (not repaired: the operator is told), ResolutionGaveUpError when the customers kept changing."""
    limit = store.max_items_per_commit
    requeued = False
    for attempt in range(settings.max_attempts):
        read = store.get_customers([absorbed, survivor])
        frozen, target = read.get(absorbed), read.get(survivor)
        if frozen is None or frozen.merging_into != survivor:
            return False
        if target is None or target.merged_into or target.merging_into:
            raise ConflictError(
                f"customer {absorbed} is frozen into {survivor}, which is gone or itself frozen into "
                "another customer: not repaired"
            )
        keys = own_keys(frozen)
        # 1. Its records back, each chunk conditional on the customer frozen as read (MarkMerging
        # moves its version): a writer racing this one copies them once.
        back = [
            target.snapshots[k] for k in sorted(keys) if k not in frozen.snapshots and k in target.snapshots
        ]
        # At least one chunk, empty when all are back: the steps below run only on a read of the
        # customer still frozen (another writer that finished the undo since leaves nothing to do).
        copies: list[Operation] = [PutSource(absorbed, snap, record_hash(snap)) for snap in back]
        if _while_frozen(store, frozen, copies, f"unfreeze:{absorbed}") is None:
            _back_off(settings, attempt)
            continue
        # 2. Its identifiers back (those the survivor holds since the handover; another writer's
        # moves are left to it). 3. The copies off the survivor: the absorbed customer holds each.
        from core.merge_steps import _commit_in_chunks, _hand_over

        _hand_over(store, frozen.owned, survivor, absorbed, settings)
        held = set(frozen.snapshots) | {s.key for s in back}
        drops: list[Operation] = [DeleteSource(survivor, k) for k in sorted(held) if k in target.snapshots]
        _commit_in_chunks(store, drops, limit, f"undrop:{survivor}")
        # 5. Both profiles from their own records, clearing both marks, over the versions read now.
        read = store.get_customers([absorbed, survivor])
        frozen, target = read.get(absorbed), read.get(survivor)
        if frozen is None or target is None or frozen.merging_into != survivor:
            continue  # moved on meanwhile: read again (another writer finished the undo)
        keys = own_keys(frozen)
        if set(target.snapshots) & keys:
            _back_off(settings, attempt)
            continue
        # 4. The pair back in the queue, while the marks still say the merge was refused (once a
        # call: a later pass, after losing the commit below, finds nothing more to requeue).
        if not requeued:
            requeue_across(store, keys, set(target.snapshots))
            requeued = True
        if not store.commit([_apart(frozen, target, settings)]):
            return True
        _back_off(settings, attempt)
    raise ResolutionGaveUpError(
        f"undoing the merge of {absorbed} into {survivor} kept conflicting; it resumes on next ingest "
        "or `profilesync repair`"
    )


def _while_frozen(store: ProfileStore, frozen: CustomerState, ops: list[Operation], label: str) -> int | None:
    """Commit ``ops`` in chunks, each conditional on the customer still frozen as read (with a
    ``MarkMerging`` again, which moves its version; at least one chunk). The version it holds after
    them, or None when one lost (another writer changed the customer: read it again)."""
    assert frozen.merging_into is not None
    version = frozen.version
    step = max(1, store.max_items_per_commit - 1)
    for start in range(0, max(1, len(ops)), step):
        chunk = (MarkMerging(frozen.customer_id, frozen.merging_into, version), *ops[start : start + step])
        if store.commit([Changeset(f"{label}:{start}", chunk)]):
            return None
        version += 1
    return version


def repair_orphan(store: ProfileStore, absorbed: str, survivor: str, settings: IngestSettings) -> bool:
    """Repair a customer frozen into ``survivor`` that an older version's erasure deleted (it found
    the survivor through the handed-over identifiers): no merge is left to finish or take back. It is
    rebuilt from the snapshots it still holds, the mark cleared, its identifiers whose items lead to
    the gone survivor handed back to it; holding none (its records went with the survivor), its
    profile item becomes a tombstone, which holds no personal data. Whether this call (or a writer
    racing it) repaired it; False when it is not such a customer."""
    for attempt in range(settings.max_attempts):
        read = store.get_customers([absorbed, survivor])
        frozen = read.get(absorbed)
        if frozen is None or frozen.merged_into or frozen.merging_into != survivor:
            return False
        if read.get(survivor) is not None:
            return False
        op: Operation = Tombstone(absorbed, survivor, frozen.version)
        if frozen.snapshots:
            keys = {
                i.key
                for snap in frozen.snapshots.values()
                for i in snap.identifiers
                if not settings.policy.is_blocked(i)
            }
            owners = store.get_owners(sorted(keys))
            back: list[Operation] = [
                PutIdent(
                    k,
                    absorbed,
                    survivor,
                    o.record_hash,
                    o.updated_at,
                    o.match,
                    o.updated_at,
                    o.run,
                    True,
                    o.run,
                )
                for k, o in owners.items()
                if o.customer_id == survivor
            ]
            # Those the erasure deleted with the survivor: claimed again, as ingest writes them.
            back += [_claim(k, absorbed, frozen, settings) for k in sorted(keys - set(owners))]
            # Each chunk while it is frozen as read: an erasure that deleted it meanwhile leaves
            # no identifier item naming a customer that is gone.
            version = _while_frozen(store, frozen, back, f"orphan-idents:{absorbed}")
            if version is None:
                _back_off(settings, attempt)
                continue
            owners = store.get_owners(sorted(keys | frozen.owned))
            owned = frozenset(k for k, o in owners.items() if o.customer_id == absorbed)
            profile = build_profile(absorbed, frozen.snapshots.values(), settings.rules, version + 1)
            op = PutProfile(absorbed, profile, profile_hash(profile), owned, version, frozen.absorbing)
        if not store.commit([Changeset(f"orphan:{absorbed}", (op,))]):
            return True
        _back_off(settings, attempt)
    raise ResolutionGaveUpError(
        f"repairing {absorbed}, frozen into the gone {survivor}, kept conflicting; `profilesync repair` "
        "resumes it"
    )


def _claim(key: str, absorbed: str, frozen: CustomerState, settings: IngestSettings) -> PutIdent:
    """The identifier item of ``key`` for ``absorbed``, which must not exist; a record id with its
    record's hash, time and match fields, as ingest writes it (core.ingest_changeset)."""
    from core.ingest_changeset import _match

    snap = frozen.snapshots.get(key[len("source#") :]) if key.startswith("source#") else None
    if snap is None:
        return PutIdent(key, absorbed, None)
    h, at = record_hash(snap), snap.ordered_at
    # no ``run`` (``ContentRun.legacy``), as before; but the stamp of a version stamped ahead
    run = None if snap.updated_at == at else ContentRun.legacy(h, at, snap.updated_at).encode()
    return PutIdent(key, absorbed, None, h, at, _match(snap, settings), run=run)


def orphans_holding(store: ProfileStore, key: str) -> list[tuple[str, str]]:
    """The customers frozen into a customer that is gone (``repair_orphan``) whose profile or
    snapshots hold the identifier or record id ``key`` (``email#...``, ``source#crm:1``), each with
    the customer it names: the identifier items that led to them went with the survivor. Read from
    the list of frozen customers (``ListsFrozen``: the three stores); none on another store."""
    if not isinstance(store, ListsFrozen):
        return []
    found: list[tuple[str, str]] = []
    for cid, into in store.frozen_customers():
        read = store.get_customers([cid, into])
        state = read.get(cid)
        if state is None or into in read or state.merging_into != into:
            continue
        held = {i.key for snap in state.snapshots.values() for i in snap.identifiers}
        if state.profile is not None:
            held |= {i.key for i in state.profile.identifiers}
            held |= {f"source#{ref.key}" for ref in state.profile.sources}
        if key in held:
            found.append((cid, into))
    return found


def _apart(frozen: CustomerState, target: CustomerState, settings: IngestSettings) -> Changeset:
    """The last step of an undo: each customer's profile from its own snapshots, both marks gone (a
    ``PutProfile`` replaces the item: no ``merging_into``; the survivor absorbs one customer less)."""
    ops: list[Operation] = []
    for state, absorbing in (
        (frozen, frozen.absorbing),
        (target, target.absorbing - {frozen.customer_id}),
    ):
        profile = build_profile(
            state.customer_id, state.snapshots.values(), settings.rules, state.version + 1
        )
        ops.append(
            PutProfile(
                state.customer_id, profile, profile_hash(profile), state.owned, state.version, absorbing
            )
        )
    return Changeset(f"apart:{frozen.customer_id}", tuple(ops))


def requeue_across(store: ProfileStore, first: Iterable[str], second: Iterable[str]) -> list[str]:
    """Put each accepted review pair with one record in ``first`` and the other in ``second`` back in
    the queue (pending, with the matcher's filing as it was): an accept whose merge was refused. Only
    over the decision read (``requeue_review``): a newer one stays. The pair ids requeued."""
    from core.link_index import LinkIndex

    if not isinstance(store, LinkIndex):
        return []
    pairs = sorted({(min(a, b), max(a, b)) for a in set(first) for b in set(second) if a != b})
    requeued: list[str] = []
    for start in range(0, len(pairs), _PAIRS_PER_READ):
        found = store.get_reviews(pairs[start : start + _PAIRS_PER_READ])
        for item in found.values():
            if item.status != "accepted":
                continue
            pending = replace(item, status="pending", decided_by=None, decided_at=None, note="", evidence="")
            if store.requeue_review(item, pending):
                requeued.append(item.pair_id)
    return sorted(requeued)


@dataclass(frozen=True)
class FrozenMerge:
    """A customer frozen into another by a merge in flight, as ``find_frozen`` reads it."""

    absorbed: str
    survivor: str
    records: int
    """The absorbed customer's records (wherever they are now)."""
    action: Literal["finish", "undo", "rebuild", "unrepairable"]
    """``finish``: the last step fits now; ``undo``: it does not; ``rebuild``: the survivor is gone
    (``repair_orphan``); ``unrepairable``: the survivor is merged away or itself frozen (left as it
    is, reported)."""

    def as_json(self) -> dict[str, object]:
        return {
            "absorbed": self.absorbed,
            "survivor": self.survivor,
            "records": self.records,
            "action": self.action,
        }


def find_frozen(store: ProfileStore, settings: IngestSettings) -> list[FrozenMerge]:
    """Every customer frozen into another: those the store lists (``ListsFrozen``; any other store
    has every customer read), each read with the customer it goes into."""
    if isinstance(store, ListsFrozen):
        ids = [cid for cid, _ in store.frozen_customers()]
    else:
        ids = [p.customer_id for p in store.iter_profiles()]
    found: list[FrozenMerge] = []
    for start in range(0, len(ids), 100):
        states = store.get_customers(ids[start : start + 100])
        for cid in sorted(states):
            state = states[cid]
            if not state.merging_into or state.merged_into:
                continue  # not frozen, or no longer: finished or taken back since it was listed
            target = store.get_customers([state.merging_into]).get(state.merging_into)
            action: Literal["finish", "undo", "rebuild", "unrepairable"]
            if target is None:
                action = "rebuild"
            elif target.merged_into or target.merging_into:
                action = "unrepairable"
            else:
                action = "finish" if merge_fits(state, target, settings) else "undo"
            found.append(FrozenMerge(cid, state.merging_into, len(own_keys(state)), action))
    return found


def repair_frozen(
    store: ProfileStore, settings: IngestSettings, *, dry_run: bool = False
) -> tuple[list[FrozenMerge], list[str]]:
    """Find the frozen customers and (unless ``dry_run``) finish each merge that fits, undo the others
    (``complete_merge`` chooses, as a writer meeting one does), rebuild those whose survivor is gone
    (``repair_orphan``). What was found, and why each one left unrepaired was (an empty list when
    all were)."""
    from core.merge_steps import complete_merge

    found = find_frozen(store, settings)
    problems: list[str] = []
    if dry_run:
        return found, problems
    for frozen in found:
        if frozen.action == "unrepairable":
            # Read again: another writer may have taken it back since it was found (an erasure of the
            # survivor's person settles the merge first, then the survivor is gone).
            state = store.get_customers([frozen.absorbed]).get(frozen.absorbed)
            if state is not None and state.merging_into == frozen.survivor and not state.merged_into:
                problems.append(
                    f"{frozen.absorbed}: its survivor {frozen.survivor} is merged away or itself frozen"
                )
            continue
        try:
            complete_merge(store, frozen.absorbed, frozen.survivor, settings, in_flight=True)
        except (ConflictError, ResolutionGaveUpError, RecordRejectedError) as error:
            problems.append(f"{frozen.absorbed}: {error}")
    return found, problems
