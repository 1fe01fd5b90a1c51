"""What follows a round's commit in ``ingest`` (core.pipeline): the written changesets counted, the
survivor of a merge given the absorbed customers' histories, and a customer whose records no longer
share identifiers split. Split from core.pipeline by concern."""

from __future__ import annotations

from core.errors import ConflictError
from core.governance.changes import inherit_merged
from core.ingest_plan import _Plan
from core.ingest_settings import IngestResult, IngestSettings
from core.ports import Changeset, ProfileStore
from core.split import split_customer

__all__ = ["_settle"]


def _settle(
    store: ProfileStore, plan: _Plan, written: list[Changeset], total: IngestResult, settings: IngestSettings
) -> None:
    """Count the written changesets of ``plan``; then what follows them: the survivor of a merge
    inherits the absorbed histories, a customer whose records no longer share identifiers is split."""
    for changeset in written:
        for record in plan.records_of[changeset.label]:
            counted = plan.recount.get(record.key)  # the stored content re-dated: as the version was
            if counted is None:
                total.written += 1
            elif counted == "unchanged":
                total.unchanged += 1
            else:
                total.stale += 1
        kind = plan.kinds[changeset.label]
        if kind == "new":
            total.new_customers += 1
        elif kind == "attach":
            total.attached += 1
        total.merged_customers += plan.absorbed[changeset.label]
        total.customers.add(plan.survivors[changeset.label])
    for changeset in written:
        if plan.kinds[changeset.label] == "merge":
            inherit_merged(store, [changeset])  # the survivor inherits the absorbed histories
        survivor = plan.survivors[changeset.label]
        if survivor in plan.splits:
            # The customer's records no longer share identifiers (see _changeset).
            try:
                total.split_customers += len(split_customer(store, survivor, settings))
            except (ConflictError, ValueError):
                total.unsplit.append(survivor)
