"""An add-only batch of a growing customer, planned from its profile item (docs/architecture.md, "A
customer that grows by a record a batch").

A wholesale buyer or a Stripe customer with thousands of charges, synced by small pulls, gets a
record or two a batch. The general plan (core.ingest_plan) loads every snapshot of the customer and
rebuilds its profile from them: each batch costs in proportion to the customer. ``grow_changeset``
plans such a batch from the customer's PROFILE item and ``owned`` set alone, plus the stored
versions of only the records it replaces and the snapshots of the stored winners its traits and
consent compete with (``ReadsCustomerParts``, core.ports), when every record of the batch is

- a child (an order, a charge) with its owner link, ``source#<owner>``, held by one live customer,
  which no merge is in flight into or out of; each of its other identifiers held by that customer or
  by nobody, none blocked; carrying only its own order (the order id is its source id) and no
  summary, not undated;
- new to the customer, or the next version of one of its records with the same identifiers;

and the customer's ``owned`` set is exactly the usable identifiers of its profile (nothing held by
another customer, nothing the full plan would give up), no linkage (probabilistic identity) is on,
the batch's read found no tombstone, touch, re-dated run or recheck, and the profile item's add-only
mark (core.grow_mark, written by the full plan from every snapshot) allows it: the profile was built
under the batch's survivorship rules, no stored record of the batch's types carries an order of
another record, and every amount has its currency's minor units. The changeset is the one
``core.ingest_changeset._changeset`` plans for it (snapshots, history events, the identifier items
it claims, mailbox markers, suppression guards, the profile at the next version with ``owned`` plus
the new keys and the same mark); the profile comes from core.grow_profile, which gives
``build_profile``'s result or None. Whatever is not sure returns None, and the general plan runs.

A customer whose split was cut short (``IngestResult.unsplit``) is split by its next change that is
not add-only, not by this one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime

from core.consent_carry import carry_consent_times
from core.content_hash import keep_profile_body
from core.content_run import ContentRun
from core.errors import ConflictError
from core.governance.changes import change_history
from core.grow_kept import KEPT, Kept, body, grown_parts, has_identifier, ref_of, walked
from core.grow_mark import mark_allows
from core.grow_profile import grown_profile, winner_keys
from core.ingest_changeset import _mailbox_markers
from core.ingest_runs import redating, written_item
from core.ingest_settings import IngestSettings
from core.ports import (
    Changeset,
    CustomerState,
    Operation,
    Ownership,
    ProfileStore,
    PutIdent,
    PutProfile,
    PutSource,
    ReadsCustomerParts,
    Unsuppressed,
)
from core.schema import Profile, SourceRecord, SourceRef
from core.undated import later

__all__ = ["grow_changeset", "grow_plan"]

#: What core.ingest_plan._Plan takes of a grown batch: its changesets, records, kinds, customers
#: absorbed and survivors, each by changeset label.
GrownPlan = tuple[
    list[Changeset], dict[str, tuple[SourceRecord, ...]], dict[str, str], dict[str, int], dict[str, str]
]


def grow_plan(
    active: Sequence[SourceRecord],
    owners: Mapping[str, Ownership],
    hashes: Mapping[str, str],
    runs: Mapping[str, ContentRun],
    store: ProfileStore,
    settings: IngestSettings,
    oversize: list[int] | None = None,
) -> GrownPlan | None:
    """``grow_changeset`` as the parts of a plan: one attach of the batch to its customer."""
    grown = grow_changeset(active, owners, hashes, runs, store, settings, oversize)
    if grown is None:
        return None
    changeset, customer = grown
    label = changeset.label
    records = tuple(sorted(active, key=lambda r: r.key))
    return [changeset], {label: records}, {label: "attach"}, {label: 0}, {label: customer}


def grow_changeset(
    active: Sequence[SourceRecord],
    owners: Mapping[str, Ownership],
    hashes: Mapping[str, str],
    runs: Mapping[str, ContentRun],
    store: ProfileStore,
    settings: IngestSettings,
    oversize: list[int] | None = None,
) -> tuple[Changeset, str] | None:
    """The changeset of an add-only batch and its customer, or None (plan it in full). ``owners``:
    the owners read of the batch's keys, tombstones left out; ``hashes`` and ``runs`` the plan's.
    ``oversize``: where the size of a changeset too large for one commit is told (core.ingest_parts
    takes fewer records then)."""
    if settings.linkage is not None or not isinstance(store, ReadsCustomerParts) or not active:
        return None
    records = sorted(active, key=lambda r: r.key)
    customer = _one_owner(records, owners, settings)
    if customer is None or len({r.key for r in records}) < len(records):
        return None
    head = store.get_customer_head(customer)
    if head is None or head.merged_into or head.merging_into or head.absorbing:
        return None
    if not mark_allows(head.add_only, settings.rules, records):
        return None  # other rules, a type carrying others' orders, coarse amounts, or no mark: full plan
    for key, owner in owners.items():
        if owner.customer_id == customer and key not in head.owned:
            # as core.ingest_plan._check_owners_read: the key moved away since the owners read
            raise ConflictError(f"{key} left {customer} while the batch was read; plan again")
    policy = settings.policy
    kept = KEPT.get(customer, head.version, head.profile_hash, policy)
    if kept is None:
        if head.profile is None:
            return None
        kept = walked(head.profile, policy)
    profile = kept.profile
    if head.owned != kept.usable:
        return None  # keys held by others, or owned keys no snapshot names: the full plan decides
    sources = profile.sources
    if any(
        i.key.startswith("source#") and i.key not in owners and ref_of(sources, i.key[len("source#") :])
        for r in records
        for i in r.identifiers
    ):
        return None  # a stored record's own key owned by nobody: the full plan repairs it
    replacing = [r.key for r in records if f"source#{r.key}" in owners]
    if any(ref_of(sources, k) is None for k in replacing) or any(
        ref_of(sources, r.key) is not None for r in records if r.key not in replacing
    ):
        return None
    wanted = set(replacing) | winner_keys(profile, records) | _order_holders(kept, records, replacing)
    snapshots = store.get_snapshots(customer, sorted(wanted)) if wanted else {}
    for key in wanted:
        snap, ref = snapshots.get(key), ref_of(sources, key)
        if snap is None or ref is None or snap.updated_at != ref.updated_at:
            # read after the profile: a commit in between (its version check would fail anyway)
            raise ConflictError(f"{customer} changed while its records were read; plan again")
    replaced = {k: snapshots[k] for k in replacing}
    if not _replaceable(records, replaced, runs) or _collides(records, replaced, snapshots):
        return None
    # a decision dated by its record keeps the time the stored version gave it (core.consent_carry)
    records = [carry_consent_times(replaced.get(r.key), r) for r in records]
    if settings.suppression is not None and any(r.dropped for r in replaced.values()):
        return None  # its refused values' index entries: read by the full plan (core.privacy_refused_stale)
    grown = grown_profile(
        profile, records, replaced, snapshots, settings.rules, head.version + 1, minor_units=True
    )
    if grown is None:
        return None
    added = {i.key for r in records for i in r.identifiers if not has_identifier(profile.identifiers, i.key)}
    identifier_parts = grown_parts(kept.identifier_parts, grown.identifiers, added, set())
    new_refs = {r.key for r in records if r.key not in replaced}
    source_parts = grown_parts(kept.source_parts, grown.sources, new_refs, set(replaced))
    digest = keep_profile_body(grown, body(grown, identifier_parts, source_parts))
    changeset = _changeset(records, customer, head, profile, owners, hashes, runs, grown, digest, settings)
    if len(changeset) > store.max_items_per_commit:
        if oversize is not None:
            oversize.append(len(changeset))
        return None
    put = changeset.operations[-1]
    assert isinstance(put, PutProfile)
    by_type = dict(kept.by_type)
    for r in records:
        if r.key not in replaced:
            keys = by_type.get((r.source, r.object_type), ())
            by_type[(r.source, r.object_type)] = (*keys, r.key)
    kept = Kept(grown, put.owned, policy, by_type, identifier_parts, source_parts)
    KEPT.put(customer, grown.version, put.profile_hash, kept)
    return changeset, customer


def _one_owner(
    records: Sequence[SourceRecord], owners: Mapping[str, Ownership], settings: IngestSettings
) -> str | None:
    """The one customer every record joins by its owner link and no other key, or None."""
    customer: str | None = None
    for r in records:
        if r.level != "child" or r.owner is None or r.order_summary is not None or r.undated:
            return None
        if any(order.id != r.source_id for order in r.orders):
            return None
        link = owners.get(f"source#{r.owner}")
        if link is None or (customer is not None and link.customer_id != customer):
            return None
        customer = link.customer_id
        for ident in r.identifiers:
            if settings.policy.is_blocked(ident):
                return None
            owner = owners.get(ident.key)
            if owner is not None and owner.customer_id != customer:
                return None
    return customer


def _order_holders(kept: Kept, records: Sequence[SourceRecord], replacing: Collection[str]) -> set[str]:
    """The stored records of other object types of the sources whose orders the batch brings or
    takes out (``replacing``: the records whose stored versions it replaces, whose orders are not
    read yet): an order is counted once per source and id (core.computed_traits), so one of them
    carrying an order id of the batch or of a replaced version counts it instead (read and checked by
    ``_collides``): taking out a replaced order such a copy stands for would drop the copy's amount."""
    types = {(r.source, r.object_type) for r in records if r.orders or r.key in replacing}
    sources = {s for s, _ in types}
    return {
        key
        for (source, object_type), keys in kept.by_type.items()
        if source in sources and (source, object_type) not in types
        for key in keys
    }


def _collides(
    records: Sequence[SourceRecord],
    replaced: Mapping[str, SourceRecord],
    snapshots: Mapping[str, SourceRecord],
) -> bool:
    """Whether a stored record other than the batch's carries an order of one of its records (or of
    the versions they replace), by source and id; or two of its records carry one (a shop's order
    and charge of one id: the rebuild counts it once, the stored totals would add it twice)."""
    mine = [(r.source, o.id) for r in records for o in r.orders]
    if len(set(mine)) < len(mine):
        return True
    batch = {*mine, *((r.source, o.id) for r in replaced.values() for o in r.orders)}
    if not batch:
        return False
    return any(
        (snap.source, o.id) in batch
        for key, snap in snapshots.items()
        if key not in replaced
        for o in snap.orders
    )


def _replaceable(
    records: Sequence[SourceRecord], replaced: Mapping[str, SourceRecord], runs: Mapping[str, ContentRun]
) -> bool:
    """Whether each replaced version goes as the full plan would have it: same identifiers, only its
    own order and no summary, not its content re-dated. A newer version stored since the owners read
    raises ConflictError as there."""
    for r in records:
        previous = replaced.get(r.key)
        if previous is None:
            continue
        if redating(previous, r.key, runs):
            return False
        if later(previous, r) is previous:
            raise ConflictError(f"a newer {r.key} was stored while the batch was read; plan again")
        if {i.key for i in previous.identifiers} != {i.key for i in r.identifiers}:
            return False
        if previous.order_summary is not None or any(o.id != previous.source_id for o in previous.orders):
            return False
    return True


def _changeset(
    records: Sequence[SourceRecord],
    customer: str,
    head: CustomerState,
    stored_profile: Profile,
    owners: Mapping[str, Ownership],
    hashes: Mapping[str, str],
    runs: Mapping[str, ContentRun],
    profile: Profile,
    digest: str,
    settings: IngestSettings,
) -> Changeset:
    """``core.ingest_changeset._changeset``'s operations for an attach of ``records`` to ``customer``
    that moves nothing and gives up nothing, in its order."""
    ops: list[Operation] = [PutSource(customer, r, hashes[r.key]) for r in records]
    owner_of = {k: o.customer_id for k, o in owners.items()}
    stored = _Stored(stored_profile.sources)
    ops.extend(
        change_history(
            records,
            stored,
            customer,
            frozenset({customer}),
            {},
            owner_of,
            hashes,
            actor=settings.actor,
            at=settings.clock(),
        )
    )
    changed = {r.key: r for r in records}
    keys = sorted({i.key for r in records for i in r.identifiers})
    for key in keys:
        read = owners.get(key)
        current = read.customer_id if read is not None else None
        source_key = key[len("source#") :] if key.startswith("source#") else None
        if current == customer and source_key not in changed:
            continue
        if source_key is not None and source_key in changed:
            snap = changed[source_key]
            read_at: datetime | None = None
            expected_run: str | None = None
            if read is not None and read.updated_at is not None:
                read_at = read.updated_at
                expected_run = read.run
            at, run = written_item(snap, runs)
            ops.append(
                PutIdent(
                    key,
                    customer,
                    current,
                    hashes[source_key],
                    at,
                    None,
                    read_at,
                    run,
                    read_at is not None,
                    expected_run,
                )
            )
        else:
            ops.append(PutIdent(key, customer, current))
    ops.extend(_mailbox_markers(ops, customer))
    if settings.suppression is not None:
        created = (op.key for op in ops if isinstance(op, PutIdent) and op.expected_owner is None)
        ops.extend(Unsuppressed(h) for h in settings.suppression.guards(created, records))
    desired = head.owned | frozenset(keys)
    # The batch's records carry their own orders only, in their minor units: the mark stays true.
    ops.append(PutProfile(customer, profile, digest, desired, head.version, add_only=head.add_only))
    return Changeset(label=records[0].key, operations=tuple(ops))


class _Stored(Collection[str]):
    """The source keys of a stored profile, looked up by bisection (``change_history`` asks only
    whether the batch's records are among them)."""

    def __init__(self, sources: Sequence[SourceRef]) -> None:
        self._sources = sources

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and ref_of(self._sources, key) is not None

    def __len__(self) -> int:
        return len(self._sources)

    def __iter__(self) -> Iterator[str]:
        return (ref.key for ref in self._sources)
