"""A record's holder markers written ahead of its changeset, when together they outgrow one transaction.

A contact holding 40 dotted Gmail addresses (within ``MAX_IDENTIFIERS``, core/normalise/_limits.py),
all replaced in its next version, is a changeset of 40 claims, 40 releases and 40 mailbox markers
(``PutHolder`` under ``mailbox#...``, core.mailbox), beside its snapshot, source id and profile: 124
operations, past the 100 one DynamoDB transaction holds. The record's own items cannot be planned in
steps without a moment where the store answers for the wrong person (a claim without its snapshot,
an old address released while the profile still lists it), but its markers can: a marker is an
unconditional, idempotent put that every reader checks against the live customer it names
(core.scope_holders), so one written early says nothing until the customer holds the value.

So ``lift_markers`` takes the markers out of such a changeset, and the pipeline commits them first
(``commit_ahead``), then the changeset itself. The orders in between keep every store's semantics:

* **killed between the two commits**: the record is not stored (its changeset never committed); the
  next run ingests it again, writes the same markers again (no change) and then the changeset. Until
  then a marker names a customer that does not hold its value: a reader takes it as stale.
* **erased between them**: an erasure naming the new address, or another spelling of its mailbox,
  finds the marker, sees that the customer does not hold the value, and deletes it (stale markers
  under her values); an erasure naming the customer's stored record or values deletes the customer,
  so the changeset's conditions fail, the record is planned again and dropped as suppressed. The
  markers written ahead under her new addresses name a customer that is gone: the pipeline deletes
  them (``forget_ahead``), so nothing of hers is left.

Had the markers gone after the changeset instead, an erasure between the two, naming another
spelling of a new address, would have found no marker and left the customer holding it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.ports import Changeset, DeleteHolder, ProfileStore, PutHolder

__all__ = ["commit_ahead", "forget_ahead", "lift_markers"]


def lift_markers(changeset: Changeset, limit: int) -> tuple[Changeset, tuple[Changeset, ...]] | None:
    """``changeset`` without its holder markers, and the markers in changesets of at most ``limit``
    operations each (to commit first); None when it fits ``limit`` already, or does not fit without
    them either."""
    if len(changeset) <= limit:
        return None
    markers = [op for op in changeset.operations if isinstance(op, PutHolder)]
    rest = tuple(op for op in changeset.operations if not isinstance(op, PutHolder))
    if not markers or len(rest) > limit:
        return None
    step = max(1, limit)
    ahead = tuple(
        Changeset(label=f"markers:{changeset.label}#{n}", operations=tuple(markers[start : start + step]))
        for n, start in enumerate(range(0, len(markers), step))
    )
    return Changeset(label=changeset.label, operations=rest), ahead


def commit_ahead(
    store: ProfileStore, changesets: Sequence[Changeset], ahead: Mapping[str, Sequence[Changeset]]
) -> None:
    """Commit the markers ``ahead`` of each of ``changesets`` (by label), before the changesets."""
    for changeset in changesets:
        for markers in ahead.get(changeset.label, ()):
            if store.commit([markers]):  # pragma: no cover - a PutHolder carries no condition
                raise RuntimeError(
                    f"the holder markers of {changeset.label} could not be written; ingest again"
                )


def forget_ahead(
    store: ProfileStore,
    failed: Sequence[Changeset],
    ahead: Mapping[str, Sequence[Changeset]],
) -> int:
    """Delete the markers written ahead of the ``failed`` changesets whose customer is gone (an erasure
    deleted it between the two commits); returns how many. A customer that lives keeps them: the
    changeset planned again for it writes the same ones, or leaves them stale, as a record that drops
    a value leaves its marker (readers check a marker against the customer it names)."""
    written = [
        op
        for changeset in failed
        for markers in ahead.get(changeset.label, ())
        for op in markers.operations
        if isinstance(op, PutHolder)
    ]
    if not written:
        return 0
    alive = store.get_customers(sorted({op.customer_id for op in written}))
    gone = [DeleteHolder(op.key, op.customer_id) for op in written if op.customer_id not in alive]
    step = max(1, store.max_items_per_commit)
    for start in range(0, len(gone), step):
        store.commit(
            [Changeset(label=f"forget-markers#{start}", operations=tuple(gone[start : start + step]))]
        )
    return len(gone)
