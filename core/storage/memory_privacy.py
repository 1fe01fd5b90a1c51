"""In-memory ``SuppressionStore`` and ``ErasureStore``, with the DynamoDB ones' semantics.

The fakes at the privacy ports: unit and property tests run erasures against them. The erasure
store works on an ``InMemoryProfileStore`` and an ``InMemorySyncStateStore`` (the items a table
would hold, addressed by the same keys as in DynamoDB) under the profile store's lock, checking
every guard of a step before applying any of it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC

from core.errors import ConflictError
from core.governance.reading import ReadRecord
from core.privacy_store import AuditRecord, DeleteItem, ItemKey, PendingErasure, QuarantineItem
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore, MemoryEpoch
from core.storage.memory_history import InMemoryHistoryStore
from core.storage.memory_reads import InMemoryReadAudit
from core.suppression import SuppressionEntry
from core.suppression_prints import merged, without


def _epoch_of(profiles: InMemoryProfileStore | None) -> MemoryEpoch:
    if profiles is None:
        return MemoryEpoch()
    with profiles._lock:
        return _epoch_of_locked(profiles)


def _epoch_of_locked(profiles: InMemoryProfileStore) -> MemoryEpoch:
    """The epoch the profile store keeps, shared by every suppression and erasure store over it."""
    if profiles.epoch is None:
        profiles.epoch = MemoryEpoch()
    return profiles.epoch


class InMemorySuppressionStore:
    """Suppression entries by hash, and each erasure's hashes.

    Given the ``InMemoryProfileStore`` of the same "table", it keeps that store's
    ``suppressed_hashes`` in step under the store's lock, so that the store's commits see an entry
    from the moment it is written (``core.ports.Unsuppressed``), as the DynamoDB and SQLite ones do;
    and the table's erasure epoch, bumped with every ``suppress`` (core.erasure_epoch).
    """

    def __init__(self, profiles: InMemoryProfileStore | None = None) -> None:
        self._lock = profiles._lock if profiles is not None else threading.Lock()
        self._entries: dict[str, SuppressionEntry] = {}
        self._erasures: dict[str, set[str]] = {}
        self._mirror = profiles.suppressed_hashes if profiles is not None else set()
        self._epoch = _epoch_of(profiles)

    @property
    def epoch_key(self) -> str:
        return self._epoch.key

    def erasure_epoch(self) -> str:
        with self._lock:
            return self._epoch.read()

    def suppressed(self, hashes: Sequence[str]) -> set[str]:
        with self._lock:
            return {h for h in hashes if h in self._entries}

    def suppress(self, entries: Sequence[SuppressionEntry]) -> None:
        with self._lock:
            self._epoch.bump()
            for entry in entries:
                # A fuzzy entry holds every erasure's fingerprints under its key (suppression_prints).
                held = self._entries.get(entry.hash)
                self._entries[entry.hash] = merged(held, entry) if entry.kind == "fuzzy" else entry
                self._erasures.setdefault(entry.erasure, set()).add(entry.hash)
                self._mirror.add(entry.hash)

    def entry(self, hash_: str) -> SuppressionEntry | None:
        with self._lock:
            return self._entries.get(hash_)

    def lift(self, hash_: str) -> list[SuppressionEntry]:
        with self._lock:
            first = self._entries.get(hash_)
            if first is None:
                return []
            lifted: list[SuppressionEntry] = []
            for h in sorted(self._erasures.pop(first.erasure, set()) | {hash_}):
                held = self._entries.get(h)
                if held is not None and held.kind == "fuzzy":
                    left, mine = without(held, first.erasure)
                    if left is not None:
                        self._entries[h] = left
                    else:
                        del self._entries[h]
                        self._mirror.discard(h)
                    lifted.extend([mine] if mine is not None else [])
                elif held is not None and held.erasure == first.erasure:
                    lifted.append(self._entries.pop(h))
                    self._mirror.discard(h)
            return lifted

    def hashes(self) -> set[str]:
        """Every suppressed hash (for tests)."""
        with self._lock:
            return set(self._entries)


class InMemoryErasureStore:
    """``ErasureStore`` over the in-memory profile and sync-state stores."""

    def __init__(
        self,
        profiles: InMemoryProfileStore,
        sync_state: InMemorySyncStateStore,
        *,
        max_items_per_step: int = 100,
        history: InMemoryHistoryStore | None = None,
        reads: InMemoryReadAudit | None = None,
    ) -> None:
        self.profiles = profiles
        self.sync_state = sync_state
        self.max_items_per_step = max_items_per_step
        # A push's write of its states is made only while no erasure bumped the epoch since the
        # push looked at suppression (core.ports.PushedUnlessErased): the same lock as ``apply``'s.
        sync_state.epoch_guard = (profiles._lock, lambda: _epoch_of_locked(profiles).read())
        # The history ingest writes is the profile store's own (``PutHistory``).
        self.history = history if history is not None else profiles.history
        self.reads = reads
        self.audits: list[AuditRecord] = []
        self._pending: dict[str, PendingErasure] = {}

    def customer_items(self, customer_id: str) -> list[ItemKey]:
        pk = f"CUSTOMER#{customer_id}"
        keys: list[ItemKey] = []
        with self.profiles._lock:
            customer = self.profiles._customers.get(customer_id)
            if customer is not None and customer.exists:
                keys.append(ItemKey(pk, "PROFILE"))
            if customer is not None:
                keys.extend(ItemKey(pk, f"SOURCE#{k}") for k in sorted(customer.snapshots))
        with self.sync_state._lock:
            keys.extend(
                ItemKey(pk, f"PUSHED#{destination}")
                for destination, cid in sorted(self.sync_state._pushed)
                if cid == customer_id
            )
        if self.history is not None:
            with self.history._lock:
                keys.extend(ItemKey(pk, f"HISTORY#{k}") for k in self.history._keys.get(customer_id, []))
        if self.reads is not None:
            with self.reads._lock:
                keys.extend(
                    ItemKey(f"READ#{customer_id}", _read_sk(r))
                    for r in sorted(self.reads.records, key=_read_sk)
                    if r.customer_id == customer_id
                )
        return keys

    def apply(self, step: Sequence[DeleteItem]) -> None:
        store = self.profiles
        with store._lock, self.sync_state._lock:
            for delete in step:
                if not self._holds(delete):
                    raise ConflictError(
                        f"an erasure step lost a race at {delete.key}; re-read and plan again"
                    )
            for delete in step:
                self._delete(delete.key)
            if step:  # what a batch read of hers since the suppress bump is forgotten (epoch)
                _epoch_of_locked(store).bump()

    def _holds(self, delete: DeleteItem) -> bool:
        key = delete.key
        if delete.expected_owner is not None:
            owner = self.profiles._idents.get(key.pk[len("IDENT#") :])
            if owner is not None and delete.expected_at is not None and owner[2] != delete.expected_at:
                return False  # a touch moved the time since it was read
            return owner is not None and owner[0] == delete.expected_owner
        if delete.expected_version is not None:
            customer = self.profiles._customers.get(key.pk[len("CUSTOMER#") :])
            version = customer.version if customer is not None and customer.exists else None
            return version == delete.expected_version or (delete.expected_version == 0 and version is None)
        return True

    def _delete(self, key: ItemKey) -> None:
        store = self.profiles
        if key.pk.startswith("IDENT#"):
            ident = key.pk[len("IDENT#") :]
            if key.sk == "IDENT":
                store._idents.pop(ident, None)
            elif key.sk.startswith("HOLDER#"):
                store._holders.get(ident, set()).discard(key.sk[len("HOLDER#") :])
        elif key.pk.startswith("QUARANTINE#"):
            connector = key.pk[len("QUARANTINE#") :]
            self.sync_state.quarantined[:] = [
                e
                for e in self.sync_state.quarantined
                if (e.connector, f"{e.at.isoformat()}#{e.key}") != (connector, key.sk)
            ]
        elif key.pk.startswith("READ#"):
            if self.reads is not None:
                cid = key.pk[len("READ#") :]
                with self.reads._lock:
                    self.reads.records[:] = [
                        r for r in self.reads.records if (r.customer_id, _read_sk(r)) != (cid, key.sk)
                    ]
        elif key.pk.startswith("CUSTOMER#") and key.sk.startswith("HISTORY#"):
            if self.history is not None:
                cid, sort_key = key.pk[len("CUSTOMER#") :], key.sk[len("HISTORY#") :]
                with self.history._lock:
                    self.history._events.get(cid, {}).pop(sort_key, None)
                    if sort_key in self.history._keys.get(cid, []):
                        self.history._keys[cid].remove(sort_key)
        elif key.pk.startswith("CUSTOMER#"):
            cid = key.pk[len("CUSTOMER#") :]
            customer = store._customers.get(cid)
            if key.sk.startswith("PUSHED#"):
                self.sync_state._pushed.pop((key.sk[len("PUSHED#") :], cid), None)
            elif customer is None:
                return
            elif key.sk == "PROFILE":
                snapshots = customer.snapshots
                store._customers[cid] = type(customer)(snapshots=snapshots)
            elif key.sk.startswith("SOURCE#"):
                customer.snapshots.pop(key.sk[len("SOURCE#") :], None)
            if cid in store._customers and not (
                store._customers[cid].exists or store._customers[cid].snapshots
            ):
                del store._customers[cid]

    def put_audit(self, record: AuditRecord) -> None:
        with self.profiles._lock:
            if any(
                (a.action, a.at, a.request_id) == (record.action, record.at, record.request_id)
                for a in self.audits
            ):
                raise ConflictError(f"an audit record of request {record.request_id!r} exists already")
            self.audits.append(record)
            if record.action == "erase":  # what the erasure read is forgotten everywhere (epoch)
                _epoch_of_locked(self.profiles).bump()

    def quarantined_items(self, connector: str) -> list[QuarantineItem]:
        with self.sync_state._lock:
            return [
                QuarantineItem(
                    ItemKey(f"QUARANTINE#{e.connector}", f"{e.at.isoformat()}#{e.key}"),
                    frozenset(e.subjects) if e.subjects else None,
                    e.raw,
                    e.reason,
                )
                for e in self.sync_state.quarantined
                if e.connector == connector
            ]

    def holders(self, keys: Sequence[str]) -> dict[str, set[str]]:
        return self.profiles.holders(keys)

    def held_markers(self, customer_ids: Sequence[str]) -> dict[str, set[str]]:
        wanted = set(customer_ids)
        found: dict[str, set[str]] = {}
        with self.profiles._lock:
            for key, holders in self.profiles._holders.items():
                for customer_id in holders & wanted:
                    found.setdefault(customer_id, set()).add(key)
        return found

    def put_pending(self, pending: PendingErasure) -> None:
        self._pending[pending.request_id] = replace(pending, tools=dict(pending.tools))

    def pending_erasures(self) -> list[PendingErasure]:
        return sorted(self._pending.values(), key=lambda p: (p.created_at, p.request_id))

    def delete_pending(self, request_id: str) -> None:
        self._pending.pop(request_id, None)


def _read_sk(record: ReadRecord) -> str:
    """The sort key of a read in the table (core.storage.dynamodb_reads)."""
    return f"{record.at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}#{record.request_id}"


__all__ = ["InMemoryErasureStore", "InMemorySuppressionStore"]
