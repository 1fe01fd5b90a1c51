"""The small protocols core/ talks through, and the write operations a store must apply atomically.

A store is read in two ways (``get_owners`` for identifier keys, ``get_customers`` for everything one
customer owns) and written in one: ``commit`` applies each ``Changeset`` all-or-nothing, with the
conditions its operations carry, and hands back the changesets that lost a race so the caller can
re-read and plan again. Both the DynamoDB store and the in-memory store implement exactly this.
The sync-state port (cursors, push states, quarantined records) is core.sync_state, re-exported here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol, runtime_checkable

from core.governance.history import HistoryEvent
from core.schema import Profile, SourceRecord

# The sync-state port (cursors, what was pushed where, quarantined records) is core.sync_state; its
# names are offered here too, where they were defined before it was split off.
from core.sync_state import PushedState as PushedState
from core.sync_state import PushedUnlessErased as PushedUnlessErased
from core.sync_state import QuarantineEntry as QuarantineEntry
from core.sync_state import SyncState as SyncState
from core.sync_state import SyncStateStore as SyncStateStore


@dataclass(frozen=True, slots=True)
class Ownership:
    """Who owns one identifier key. Source keys also carry the stored record's hash and timestamp,
    so an unchanged or stale record is recognised from this one read, with no write."""

    key: str
    customer_id: str
    record_hash: str | None = None
    updated_at: datetime | None = None
    match: str | None = None
    """On a source key: the record's fields the matcher reads (core.link_index.match_document), when
    probabilistic identity wrote them."""
    run: str | None = None
    """On a source key: the content run of the record's versions (core.content_run: the times of the
    current content's latest run, the newest version of another content), ``ContentRun.encode``d;
    None on an item written before it was kept (read as ``ContentRun.legacy``)."""


@dataclass(frozen=True, slots=True)
class CustomerState:
    """Everything stored under one customer: its profile item and its source snapshots."""

    customer_id: str
    version: int
    profile: Profile | None
    profile_hash: str | None
    owned: frozenset[str]
    snapshots: dict[str, SourceRecord]
    merged_into: str | None = None
    merging_into: str | None = None
    absorbing: frozenset[str] = frozenset()
    add_only: str | None = None
    """The profile item's add-only mark (core.grow_mark), None when it has none."""


# --- write operations ---------------------------------------------------------------------------
# ``expected_version=None`` means "the item must not exist yet"; ``expected_owner=None`` likewise.


@dataclass(frozen=True, slots=True)
class PutProfile:
    customer_id: str
    profile: Profile
    profile_hash: str
    owned: frozenset[str]
    expected_version: int | None
    absorbing: frozenset[str] = frozenset()
    add_only: str | None = None
    """What core.ingest_grow may assume of the customer's records (core.grow_mark); None: nothing,
    its next batch is planned in full."""


@dataclass(frozen=True, slots=True)
class MarkAbsorbing:
    """Goes with ``MarkMerging``: the survivor records the merge in flight, so that whoever loads it
    next finishes the merge even after every identifier has been handed over."""

    customer_id: str
    absorbed: str
    expected_version: int


@dataclass(frozen=True, slots=True)
class MarkMerging:
    """First step of a merge too large for one transaction: freeze the absorbed customer."""

    customer_id: str
    into: str
    expected_version: int


@dataclass(frozen=True, slots=True)
class Tombstone:
    """The absorbed customer of a finished merge: readers follow ``merged_into``."""

    customer_id: str
    merged_into: str
    expected_version: int


@dataclass(frozen=True, slots=True)
class PutSource:
    customer_id: str
    record: SourceRecord
    record_hash: str


@dataclass(frozen=True, slots=True)
class DeleteSource:
    customer_id: str
    source_key: str


@dataclass(frozen=True, slots=True)
class PutIdent:
    key: str
    customer_id: str
    expected_owner: str | None
    record_hash: str | None = None
    updated_at: datetime | None = None
    match: str | None = None
    expected_at: datetime | None = None
    """The ``updated_at`` read from the item, when a ``source#`` key is handed over unchanged (a
    merge, a split): the write then also needs the item to hold that time still, so that a
    ``TouchSource`` committed since by another writer is not undone (the handover loses, and is
    planned again from fresh reads). Only with an ``expected_owner``."""
    run: str | None = None
    """On a source key: the record's content run (``Ownership.run``)."""
    checks_run: bool = False
    """Whether the item must still hold ``expected_run`` (the run read; None: no ``run``) too, with
    ``expected_at``: a touch that changes the run alone leaves ``updated_at`` as it was, so a
    handover that writes back the run it read would undo it (as ``TouchSource.checks_run``). Only
    with an ``expected_at``."""
    expected_run: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteIdent:
    key: str
    expected_owner: str


@dataclass(frozen=True, slots=True)
class TouchSource:
    """A source record came back with the same content and a newer timestamp (typically the echo of
    a push): move only its ``source#`` identifier's ``updated_at`` forward, so an older version that
    arrives later is still recognised as stale. The snapshot, the profile and every other item stay
    as they are; the content's own time (the start of its run, core.content_run) keeps deciding
    survivorship. Conditional on the item still
    holding ``record_hash`` and ``previous`` (what was read); a touch that loses that race is planned
    again (core.pipeline): mostly whatever won is at least as new and the record is then unchanged
    or stale, but a deletion older than it may have retired the record, which it then re-creates."""

    key: str
    record_hash: str
    previous: datetime
    updated_at: datetime
    run: str | None = None
    """The content run (``Ownership.run``) the touch gives the item; None keeps the item's."""
    checks_run: bool = False
    """Whether the item must still hold ``previous_run`` (the run read; None: no ``run``) too: a
    touch that changes the run alone leaves ``updated_at`` as it was, so two of them would both
    hold the time condition and the second would undo the first."""
    previous_run: str | None = None


@dataclass(frozen=True, slots=True)
class PutHolder:
    """Records of ``customer_id`` hold ``key``, which another customer owns: a value shared by people
    the guardrails keep apart, or one a split left with the other group. Kept next to the key's
    IDENT item (``IDENT#<key>`` / ``HOLDER#<customer_id>``), it is how an erasure knows that the value
    is not the erased person's alone, so it neither suppresses it nor asks a tool to forget it.
    Unconditional and idempotent. A marker may go stale (its customer merged away, erased, or no
    longer holding the value): readers check it against the live customer it leads to."""

    key: str
    customer_id: str


@dataclass(frozen=True, slots=True)
class DeleteHolder:
    """Take back a ``PutHolder`` marker (``IDENT#<key>`` / ``HOLDER#<customer_id>``): written ahead of a
    changeset too large for one transaction (core.ingest_markers), whose customer an erasure deleted
    before that changeset could commit. Unconditional and idempotent; the writer checks first that
    the customer is gone."""

    key: str
    customer_id: str


@dataclass(frozen=True, slots=True)
class PutHistory:
    """An event of a customer's history (core.governance.history), written in the same transaction
    as the change it records, so a change is never stored without its event nor an event without
    its change. Unconditional and idempotent: the item's key is the event's time and id."""

    event: HistoryEvent


@dataclass(frozen=True, slots=True)
class Unsuppressed:
    """A condition, no write: the changeset applies only while no suppression entry of ``hash`` (a
    keyed hash, core.suppression.keyed_hash) exists. Ingest adds one for each email or phone whose
    IDENT item a changeset creates, so that a merge that checked the suppression before an erasure
    suppressed a person not yet stored cannot create them after it (DynamoDB: a ``ConditionCheck``
    on ``SUPPRESS#<hash>``; docs/privacy.md, "A merge racing an erasure")."""

    hash: str


@dataclass(frozen=True, slots=True)
class NoErasureSince:
    """A condition, no write: the changeset applies only while the store's erasure epoch
    (core.erasure_epoch) is still ``epoch``. It stands for a changeset's ``Unsuppressed`` guards when
    they would not fit one transaction beside its writes (core.ingest_epoch_guard): the epoch was
    read before a second suppression check found none of the guarded hashes, and every store writes
    suppression entries in the same transaction (or lock) as a bump of the epoch, so an erasure that
    suppressed one of them since has moved it (DynamoDB: a ``ConditionCheck`` on ``SUPPRESS#epoch``)."""

    epoch: str


@runtime_checkable
class ChecksErasureEpoch(Protocol):
    """A profile store whose commits can hold a ``NoErasureSince`` condition."""

    @property
    def erasure_epoch_key(self) -> str | None:
        """The ``epoch_key`` (core.erasure_epoch) of the epoch its commits check: the suppression
        store over the same table, file or in-memory store has the same; None while it has none."""
        ...


Operation = (
    PutProfile
    | MarkAbsorbing
    | MarkMerging
    | Tombstone
    | PutSource
    | DeleteSource
    | PutIdent
    | DeleteIdent
    | TouchSource
    | PutHolder
    | DeleteHolder
    | PutHistory
    | Unsuppressed
    | NoErasureSince
)


@dataclass(frozen=True, slots=True)
class Changeset:
    """Operations that must apply together or not at all (one component of a batch)."""

    label: str
    operations: tuple[Operation, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.operations)


RETIRED_OWNER: Final = "~retired"
"""The owner a ``source#`` IDENT item names once its record was deleted at the vendor
(core.retirement): a tombstone keeping the deletion's time as ``updated_at`` (and ``RETIRED_HASH`` as
``record_hash``), so that an older version of the record arriving late is stale. ``get_owners``
leaves tombstones out; ingest reads them with ``get_owners_and_tombstones`` and replaces one with the
record re-created at the vendor after its deletion (a ``PutIdent`` expecting this owner)."""
RETIRED_HASH: Final = "~retired"
"""A tombstone's ``record_hash`` (and that of an owner link to a retired record, which keeps the
deletion's time under a live customer): after every hex hash, so that a version stamped with the
deletion's own time is stale too."""


@runtime_checkable
class ReadsTombstones(Protocol):
    """A store that keeps tombstones of retired records (the three stores of core.storage)."""

    def get_owners_and_tombstones(self, keys: Sequence[str]) -> dict[str, Ownership]:
        """``get_owners``, with the tombstones (owner ``RETIRED_OWNER``) among them."""
        ...


@runtime_checkable
class ListsFrozen(Protocol):
    """A store that lists the customers a merge in flight froze without reading every customer (the
    three stores of core.storage; ``core.merge_undo.find_frozen`` reads every customer of another)."""

    def frozen_customers(self) -> list[tuple[str, str]]:
        """Each customer whose profile item holds a ``merging_into`` mark, with the customer the
        mark names, in customer id order."""
        ...


class ProfileStore(Protocol):
    """Storage behind identity resolution; see core.storage for the implementations."""

    def get_owners(self, keys: Sequence[str]) -> dict[str, Ownership]:
        """Owners of the given identifier keys; keys nobody owns are absent from the result."""
        ...

    def get_customers(self, customer_ids: Sequence[str]) -> dict[str, CustomerState]:
        """Profile item and source snapshots of each customer; unknown ids are absent."""
        ...

    def commit(self, changesets: Sequence[Changeset]) -> list[Changeset]:
        """Apply each changeset atomically; return the ones whose conditions failed (not applied)."""
        ...

    def iter_profiles(self) -> Iterator[Profile]:
        """Every live (not merged-away) profile."""
        ...

    @property
    def max_items_per_commit(self) -> int:
        """How many operations one atomic changeset may hold (DynamoDB: 100 per transaction)."""
        ...


@dataclass(frozen=True, slots=True)
class ProfileItem:
    """A customer's profile item alone: its profile, or where it was merged to."""

    customer_id: str
    profile: Profile | None
    merged_into: str | None = None


@runtime_checkable
class ReadsProfiles(Protocol):
    """Optional store capability: read profile items only (no source snapshots), in batches.
    The push path needs nothing else, and a profile item is one read instead of a Query."""

    def get_profiles(self, customer_ids: Sequence[str]) -> dict[str, ProfileItem]: ...


@runtime_checkable
class ReadsCustomerParts(Protocol):
    """Optional store capability: a customer's profile item without its source snapshots, and the
    snapshots of a few named records. What an add-only batch of a growing customer reads
    (core.ingest_grow): in proportion to the batch, not to the customer (the three stores)."""

    def get_customer_head(self, customer_id: str) -> CustomerState | None:
        """The customer's profile item as ``get_customers`` reads it, with ``snapshots`` empty;
        None when it has no profile item."""
        ...

    def get_snapshots(self, customer_id: str, keys: Sequence[str]) -> dict[str, SourceRecord]:
        """The stored snapshots of the records ``keys`` (source keys) under ``customer_id``; a key
        with no snapshot there is absent."""
        ...
