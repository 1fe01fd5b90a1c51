"""Records deleted at the vendor are retired: gone from their customer, the person is not erased.

A connector whose vendor reports deletions (Salesforce ``IsDeleted`` rows through ``queryAll``, a
Stripe ``customer.deleted`` event, a HubSpot contact listed with ``archived=true``) returns a
tombstone for each: a ``RecordDraft`` with ``deleted=True`` that names the record and when it was
deleted (``updated_at``), nothing else. ``split_tombstones`` takes them out of a page's drafts;
``retire_records`` applies them:

    tombstone -> the owner of its ``source#`` key (absent, or only the owner link of other records
                 such as a charge's customer: nothing to do; stored version newer than the
                 deletion: the record came back at the vendor, so the tombstone is stale, unless
                 that version is undated: read before the deletion, core.undated)
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
    ProfileStore,
    SyncStateStore,
)
from core.privacy_store import ErasureStore
from core.retirement_steps import RemovalRacedError, _retire_from
from core.schema import Quarantined, RecordDraft, SourceDeletion
from core.undated import undated_stored

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
    # A stored undated version is retired whatever its time: the record existed when it was read.
    later = [
        key
        for key, deletion in pending.items()
        if (owner := owners.get(f"source#{key}")) is not None
        and owner.record_hash not in (None, RETIRED_HASH)
        and owner.updated_at is not None
        and owner.updated_at > deletion.deleted_at
    ]
    # One whose stored version changed since the owners were read is judged again on a new read.
    undated, changed = undated_stored(store, owners, later) if later else (set(), set())
    lost = {key: pending[key] for key in changed}
    by_customer: dict[str, list[SourceDeletion]] = {}
    for key, deletion in pending.items():
        owner = owners.get(f"source#{key}")
        if key in lost:
            continue
        if owner is None or owner.record_hash in (None, RETIRED_HASH):
            # Absent, or held only as the owner link of other records (a Stripe charge names its
            # customer; one claimed after the record was retired keeps RETIRED_HASH): the record
            # itself was never stored, or was retired already.
            result.absent += 1
        elif owner.updated_at is not None and owner.updated_at > deletion.deleted_at and key not in undated:
            result.stale += 1
        else:
            by_customer.setdefault(owner.customer_id, []).append(deletion)
    for customer_id, gone in sorted(by_customer.items()):
        try:
            read = {d.key: owners[f"source#{d.key}"].updated_at for d in gone}
            judged = {d.key: owners[f"source#{d.key}"].record_hash for d in gone}
            _retire_from(customer_id, gone, store, erasure, settings, result, pushed, read, judged)
        except RemovalRacedError as raced:
            lost.update((d.key, d) for d in raced.deletions)
        except ConflictError:
            lost.update((d.key, d) for d in gone)
    return lost


__all__ = [
    "RetireResult",
    "SourceDeletion",
    "retire_records",
    "split_tombstones",
    "tombstone_of",
]
