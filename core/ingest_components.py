"""The changesets of a planning round's components (core.ingest_plan): one per component (new
customer, attach or merge, core.ingest_changeset), each within one transaction: a merge too large
for one is left to the steps of core.merge_steps, a long chain of new records taken a part at a
time; a key nobody owned that one changeset claims is taken for the components planned after it.
Split from core.ingest_plan by concern."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core.content_run import ContentRun
from core.errors import ConflictError
from core.identity import Component
from core.ingest_changeset import _changeset
from core.ingest_epoch_guard import fold_guards
from core.ingest_markers import lift_markers
from core.ingest_settings import IngestSettings
from core.ports import Changeset, CustomerState, ProfileStore, PutIdent
from core.schema import SourceRecord
from core.split import split_ids

__all__ = ["PlannedComponents", "plan_components"]


@dataclass
class PlannedComponents:
    """What ``plan_components`` planned, by changeset label (core.ingest_plan._Plan's fields)."""

    changesets: list[Changeset] = field(default_factory=list)
    records_of: dict[str, tuple[SourceRecord, ...]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    deferred: list[SourceRecord] = field(default_factory=list)
    pending_merges: list[tuple[str, str]] = field(default_factory=list)
    absorbed: dict[str, int] = field(default_factory=dict)
    survivors: dict[str, str] = field(default_factory=dict)
    splits: set[str] = field(default_factory=set)
    ahead: dict[str, tuple[Changeset, ...]] = field(default_factory=dict)
    """The holder markers to commit before a changeset that does not fit one transaction with them
    (core.ingest_markers), by its label."""


def plan_components(
    components: Sequence[Component],
    store: ProfileStore,
    settings: IngestSettings,
    live: Mapping[str, CustomerState],
    raw_owner: dict[str, str],
    owner_of: dict[str, str],
    hashes: Mapping[str, str],
    watermarks: Mapping[str, datetime],
    marks: Mapping[str, datetime],
    runs: Mapping[str, ContentRun],
    moving_runs: Mapping[str, str],
    *,
    retired: set[str],
    lost: Collection[str],
    linked_splits: Collection[str],
) -> PlannedComponents:
    """The changesets of ``components``, in order. ``raw_owner`` and ``owner_of`` (the plan's) are
    updated with the keys nobody owned that a changeset claims; ``retired``: the ``source#`` keys
    of retired records read (``_founding_id``); ``lost``: the records whose commit failed in an
    earlier round; ``linked_splits``: the records the link graph separates (their survivors split)."""
    planned = PlannedComponents()
    changesets, records_of, kinds = planned.changesets, planned.records_of, planned.kinds
    deferred, pending_merges, splits = planned.deferred, planned.pending_merges, planned.splits
    absorbed, survivors = planned.absorbed, planned.survivors

    def plan_component(component: Component) -> tuple[str, frozenset[str], Changeset]:
        # ``survivor`` hashes a customer id for a new customer: work it out once per component.
        survivor = _founding_id(store, component, retired, lost)
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
            marks,
            runs,
            moving_runs,
        )
        return survivor, absorbed_ids, changeset

    for component in components:
        survivor, absorbed_ids, changeset = plan_component(component)
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
                survivor, absorbed_ids, changeset = plan_component(component)
                if len(changeset) <= store.max_items_per_commit or take == 1:
                    break
                take -= 1
            deferred.extend(whole.records[take:])
            # A record whose guards do not fit beside its writes (40 addresses replaced): one
            # condition on the erasure epoch in their place (core.ingest_epoch_guard).
            changeset = fold_guards(changeset, store, settings)
            lifted = lift_markers(changeset, store.max_items_per_commit)
            if lifted is not None:
                # One record's identifiers all changing (40 dotted Gmail addresses replaced): its
                # markers are written first, then the rest in one transaction (core.ingest_markers).
                changeset, planned.ahead[changeset.label] = lifted
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
    return planned


def _founding_id(
    store: ProfileStore, component: Component, retired: set[str], lost: Collection[str] = ()
) -> str:
    """``component.survivor``; but a new customer whose smallest record was retired (deleted at its
    vendor, and now re-created there), or lost its commit in an earlier round (``lost``), takes the
    first id of that record's series (core.split) that no customer has: the customer the record
    founded before may live on with its other records, or be a merge's tombstone (the record was
    split off it, then it was merged into another; the record's person erased and back), and a new
    customer planned under its id lost every commit. Checked only then: a read per new customer."""
    survivor = component.survivor
    if component.customers:
        return survivor
    first = min(r.key for r in component.records)
    if f"source#{first}" not in retired and first not in lost:
        return survivor
    for candidate in split_ids(first):
        if not store.get_customers([candidate]):
            return candidate
    raise ConflictError(f"every customer id for a record re-created at its vendor is taken ({first})")
