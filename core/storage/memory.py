"""An in-memory ``ProfileStore`` with the same conditional semantics as the DynamoDB one.

It is the fake at the storage port: unit tests, property tests and the core throughput benchmark use
it. Commits are atomic under one lock and check every condition before applying anything; a
changeset DynamoDB would refuse (an item over 400 KB, a key too long, over one transaction) is
refused as there (core.storage.memory_sizes): ``RecordRejectedError``, naming the changesets of the
commit written before it; it and those after it are not written.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from core.erasure_epoch import epoch_text
from core.errors import RecordRejectedError
from core.link_changes import ChangeCounter
from core.ports import (
    RETIRED_OWNER,
    Changeset,
    CustomerState,
    DeleteHolder,
    DeleteIdent,
    DeleteSource,
    MarkAbsorbing,
    MarkMerging,
    NoErasureSince,
    Ownership,
    ProfileItem,
    PutHistory,
    PutHolder,
    PutIdent,
    PutProfile,
    PutSource,
    Tombstone,
    TouchSource,
    Unsuppressed,
)
from core.schema import Profile, SourceRecord
from core.storage.memory_history import InMemoryHistoryStore
from core.storage.memory_links import InMemoryLinkIndex
from core.storage.memory_parts import InMemoryCustomerParts
from core.storage.memory_sizes import check_changeset
from core.storage.memory_sync import InMemorySyncStateStore as InMemorySyncStateStore

# Ownerships are kept as plain tuples: the store holds every identifier of a run, and the garbage
# collector walks every container object that is alive, again and again as the heap grows. Tuples
# of strings and datetimes are untracked by it; Ownership objects are not.
#: customer_id, record_hash, updated_at, match, run
_Owner = tuple[str, str | None, datetime | None, str | None, str | None]


@dataclass
class MemoryEpoch:
    """The erasure epoch of one in-memory "table" (core.erasure_epoch), kept by its profile store and
    bumped by the suppression and erasure stores over it (core.storage.memory_privacy)."""

    value: int = 0
    key: str = field(default_factory=lambda: f"memory:{uuid.uuid4().hex}")
    token: str = ""

    def bump(self) -> None:
        self.value += 1
        self.token = uuid.uuid4().hex[:16]

    def read(self) -> str:
        return epoch_text(self.value, self.token)


@dataclass
class _Customer:
    version: int = 0
    profile: Profile | None = None
    profile_hash: str | None = None
    owned: frozenset[str] = frozenset()
    merged_into: str | None = None
    merging_into: str | None = None
    absorbing: frozenset[str] = frozenset()
    add_only: str | None = None
    exists: bool = False
    snapshots: dict[str, SourceRecord] = field(default_factory=dict)


class InMemoryProfileStore(InMemoryLinkIndex, InMemoryCustomerParts):
    """Dictionaries and a lock; ``writes`` counts applied operations for tests and benchmarks. It is
    also the in-memory ``LinkIndex`` (core.storage.memory_links)."""

    max_items_per_commit: int

    def __init__(self, max_items_per_commit: int = 100) -> None:
        self.max_items_per_commit = max_items_per_commit
        self._lock = threading.Lock()
        self._idents: dict[str, _Owner] = {}
        self._customers: dict[str, _Customer] = {}
        self._holders: dict[str, set[str]] = {}
        self.history = InMemoryHistoryStore()
        """The customers' histories: ``PutHistory`` operations land here, as HISTORY# items do in
        the customer's partition of the DynamoDB and SQLite stores."""
        self.suppressed_hashes: set[str] = set()
        """The hashes an ``InMemorySuppressionStore`` made over this store keeps suppressed (the
        ``SUPPRESS#`` items of the same table in DynamoDB and SQLite), read by ``Unsuppressed``."""
        self.epoch: MemoryEpoch | None = None
        """The erasure epoch, made by the first suppression or erasure store over this store (under
        its lock), read by ``NoErasureSince``."""
        self.writes = 0
        self.changes = ChangeCounter()
        """Writes to the index or to who owns a record, and whose (core.link_recheck: the re-check
        skipped when nobody else wrote)."""
        self._init_links()
        self._holds_by_type: dict[type, Callable[[Any], bool]] = {
            PutSource: self._always,
            DeleteSource: self._always,
            PutIdent: self._holds_put_ident,
            PutProfile: self._holds_version,
            MarkMerging: self._holds_version,
            MarkAbsorbing: self._holds_version,
            Tombstone: self._holds_version,
            DeleteIdent: self._holds_delete_ident,
            TouchSource: self._holds_touch,
            PutHolder: self._always,
            DeleteHolder: self._always,
            PutHistory: self._always,
            Unsuppressed: self._holds_unsuppressed,
            NoErasureSince: self._holds_epoch,
        }
        self._apply_by_type: dict[type, Callable[[Any], None]] = {
            PutSource: self._apply_put_source,
            DeleteSource: self._apply_delete_source,
            PutIdent: self._apply_put_ident,
            PutProfile: self._apply_put_profile,
            MarkMerging: self._apply_mark_merging,
            MarkAbsorbing: self._apply_mark_absorbing,
            Tombstone: self._apply_tombstone,
            DeleteIdent: self._apply_delete_ident,
            TouchSource: self._apply_touch,
            PutHolder: self._apply_put_holder,
            DeleteHolder: self._apply_delete_holder,
            PutHistory: self._apply_put_history,
            Unsuppressed: self._apply_nothing,
            NoErasureSince: self._apply_nothing,
        }

    def get_owners(self, keys: Sequence[str]) -> dict[str, Ownership]:
        with self._lock:
            idents = self._idents
            return {
                k: Ownership(k, *idents[k]) for k in keys if k in idents and idents[k][0] != RETIRED_OWNER
            }

    def get_owners_and_tombstones(self, keys: Sequence[str]) -> dict[str, Ownership]:
        with self._lock:
            idents = self._idents
            return {k: Ownership(k, *idents[k]) for k in keys if k in idents}

    def get_customers(self, customer_ids: Sequence[str]) -> dict[str, CustomerState]:
        with self._lock:
            out: dict[str, CustomerState] = {}
            for cid in customer_ids:
                c = self._customers.get(cid)
                if c is None or not (c.exists or c.snapshots):
                    continue
                out[cid] = CustomerState(
                    customer_id=cid,
                    version=c.version,
                    profile=c.profile,
                    profile_hash=c.profile_hash,
                    owned=c.owned,
                    snapshots=dict(c.snapshots),
                    merged_into=c.merged_into,
                    merging_into=c.merging_into,
                    absorbing=c.absorbing,
                    add_only=c.add_only,
                )
            return out

    def get_profiles(self, customer_ids: Sequence[str]) -> dict[str, ProfileItem]:
        with self._lock:
            out: dict[str, ProfileItem] = {}
            for cid in customer_ids:
                c = self._customers.get(cid)
                if c is not None and c.exists:
                    out[cid] = ProfileItem(cid, c.profile, c.merged_into)
            return out

    def commit(self, changesets: Sequence[Changeset]) -> list[Changeset]:
        failed: list[Changeset] = []
        holds, apply = self._holds_by_type, self._apply_by_type
        for changeset in changesets:
            if len(changeset.operations) > self.max_items_per_commit:
                # As the DynamoDB store (one transaction) and the SQLite one: the fake is no laxer.
                raise ValueError(
                    f"changeset {changeset.label!r} has {len(changeset.operations)} operations, more "
                    f"than one transaction holds ({self.max_items_per_commit}); split it before committing"
                )
        written: list[str] = []
        with self._lock:
            try:
                for changeset in changesets:
                    ops = changeset.operations
                    if all(holds[type(op)](op) for op in ops):
                        try:
                            check_changeset(changeset)  # DynamoDB's limits, as the SQLite store holds them
                        except RecordRejectedError as refused:
                            # As DynamoDB's commit (several transactions): what went before is written.
                            raise RecordRejectedError(str(refused), written=written) from None
                        for op in ops:
                            apply[type(op)](op)
                        self.writes += len(ops)
                        written.append(changeset.label)
                    else:
                        failed.append(changeset)
            finally:
                if written:
                    self.changes.wrote()
        return failed

    def iter_profiles(self) -> Iterator[Profile]:
        with self._lock:
            profiles = [
                c.profile
                for c in self._customers.values()
                if c.profile is not None and not c.merged_into and c.exists
            ]
        yield from sorted(profiles, key=lambda p: p.customer_id)

    def frozen_customers(self) -> list[tuple[str, str]]:
        """The customers with a ``merging_into`` mark (core.ports.ListsFrozen): a scan of the marks."""
        with self._lock:
            return sorted((cid, c.merging_into) for cid, c in self._customers.items() if c.merging_into)

    def ident_items(self) -> dict[str, Ownership]:
        """Every identifier ownership (for invariant checks in tests); tombstones left out."""
        with self._lock:
            return {k: Ownership(k, *o) for k, o in self._idents.items() if o[0] != RETIRED_OWNER}

    def ident_owners(self) -> dict[str, str]:
        """Every identifier key and its owner; tombstones left out."""
        with self._lock:
            return {k: o[0] for k, o in self._idents.items() if o[0] != RETIRED_OWNER}

    # One method per operation type, looked up by the operation's exact type: a commit checks and
    # applies every operation of a sync, and a ``match`` over nine class patterns tried them in turn.

    def _always(self, op: object) -> bool:
        return True

    def _holds_put_ident(self, op: PutIdent) -> bool:
        current = self._idents.get(op.key)
        if op.expected_at is not None and (current is None or current[2] != op.expected_at):
            return False
        if (
            op.expected_at is not None
            and op.checks_run
            and (current is None or current[4] != op.expected_run)
        ):
            return False  # a touch of the run alone since it was read
        return (current[0] if current else None) == op.expected_owner

    def _holds_version(self, op: PutProfile | MarkMerging | MarkAbsorbing | Tombstone) -> bool:
        c = self._customers.get(op.customer_id)
        return (c.version if c is not None and c.exists else None) == op.expected_version

    def _holds_delete_ident(self, op: DeleteIdent) -> bool:
        current = self._idents.get(op.key)
        return current is not None and current[0] == op.expected_owner

    def _holds_unsuppressed(self, op: Unsuppressed) -> bool:
        return op.hash not in self.suppressed_hashes

    def _holds_epoch(self, op: NoErasureSince) -> bool:
        return (self.epoch.read() if self.epoch is not None else "0") == op.epoch

    @property
    def erasure_epoch_key(self) -> str | None:
        """Which epoch ``NoErasureSince`` reads (core.ports.ChecksErasureEpoch)."""
        return self.epoch.key if self.epoch is not None else None

    def _apply_nothing(self, op: object) -> None:
        """A condition only (``Unsuppressed``, ``NoErasureSince``): nothing to write."""

    def _holds_touch(self, op: TouchSource) -> bool:
        current = self._idents.get(op.key)
        return (
            current is not None
            and current[1] == op.record_hash
            and current[2] == op.previous
            and (not op.checks_run or current[4] == op.previous_run)
        )

    def _customer(self, cid: str) -> _Customer:
        """The customer's entry, created if missing (``setdefault`` would build one on every call)."""
        c = self._customers.get(cid)
        if c is None:
            c = self._customers[cid] = _Customer()
        return c

    def _apply_put_source(self, op: PutSource) -> None:
        self._customer(op.customer_id).snapshots[op.record.key] = op.record

    def _apply_put_ident(self, op: PutIdent) -> None:
        self._idents[op.key] = (op.customer_id, op.record_hash, op.updated_at, op.match, op.run)

    def _apply_touch(self, op: TouchSource) -> None:
        owner, _, _, match, run = self._idents[op.key]
        self._idents[op.key] = (owner, op.record_hash, op.updated_at, match, op.run or run)

    def _apply_put_profile(self, op: PutProfile) -> None:
        c = self._customer(op.customer_id)
        c.version = op.profile.version
        c.profile, c.profile_hash, c.owned = op.profile, op.profile_hash, op.owned
        c.absorbing, c.add_only = op.absorbing, op.add_only
        c.merged_into = c.merging_into = None  # a Put replaces the whole item, as in DynamoDB
        c.exists = True

    def _apply_mark_absorbing(self, op: MarkAbsorbing) -> None:
        c = self._customers[op.customer_id]
        c.version += 1
        c.absorbing = c.absorbing | {op.absorbed}

    def _apply_mark_merging(self, op: MarkMerging) -> None:
        c = self._customers[op.customer_id]
        c.version += 1
        c.merging_into = op.into

    def _apply_tombstone(self, op: Tombstone) -> None:
        c = self._customers[op.customer_id]
        c.version += 1
        c.merged_into, c.merging_into = op.merged_into, None
        # The tombstone replaces the item: it keeps its version and merged_into only.
        c.profile, c.profile_hash, c.owned, c.absorbing = None, None, frozenset(), frozenset()
        c.add_only = None

    def _apply_delete_source(self, op: DeleteSource) -> None:
        if op.customer_id in self._customers:
            self._customers[op.customer_id].snapshots.pop(op.source_key, None)

    def _apply_delete_ident(self, op: DeleteIdent) -> None:
        self._idents.pop(op.key, None)

    def _apply_put_holder(self, op: PutHolder) -> None:
        self._holders.setdefault(op.key, set()).add(op.customer_id)

    def _apply_delete_holder(self, op: DeleteHolder) -> None:
        self._holders.get(op.key, set()).discard(op.customer_id)

    def _apply_put_history(self, op: PutHistory) -> None:
        self.history.append_history([op.event])

    def inherit_history(self, absorbed: str, survivor: str) -> int:
        """Copy ``absorbed``'s history to ``survivor`` (core.governance.history.HistoryStore)."""
        return self.history.inherit_history(absorbed, survivor)

    def holders(self, keys: Sequence[str]) -> dict[str, set[str]]:
        """The customers marked as holding each key another customer owns (``PutHolder``)."""
        with self._lock:
            return {k: set(self._holders[k]) for k in keys if self._holders.get(k)}

    def copy_state(self) -> InMemoryProfileStore:
        """A shallow copy, for tests that compare before and after."""
        other = InMemoryProfileStore(self.max_items_per_commit)
        with self._lock:
            other._idents = dict(self._idents)
            other._holders = {k: set(v) for k, v in self._holders.items()}
            other._customers = {
                k: replace(v, snapshots=dict(v.snapshots)) for k, v in self._customers.items()
            }
        self._copy_links_to(other)
        return other
