"""The in-memory ``SyncStateStore`` (core.storage.memory re-exports it): split from that module."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from core.errors import ConflictError
from core.ports import PushedState, QuarantineEntry, SyncState

__all__ = ["InMemorySyncStateStore"]


class InMemorySyncStateStore:
    """The ``SyncStateStore`` fake: same version check as the DynamoDB one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[str, SyncState] = {}
        self._pushed: dict[tuple[str, str], PushedState] = {}
        self.quarantined: list[QuarantineEntry] = []
        self.epoch_guard: tuple[threading.Lock, Callable[[], str]] | None = None
        """The lock and the erasure epoch of the profile store an ``InMemoryErasureStore`` deletes
        this store's items with (core.storage.memory_privacy links them): ``put_pushed_unless_erased``
        checks it."""

    def get_sync_state(self, connector: str) -> SyncState:
        with self._lock:
            return self._states.get(connector, SyncState(connector))

    def put_sync_state(self, state: SyncState) -> SyncState:
        with self._lock:
            current = self._states.get(state.connector, SyncState(state.connector))
            if current.version != state.version:
                raise ConflictError(
                    f"sync state of {state.connector!r} was saved by another run "
                    f"(version {current.version}, expected {state.version}); re-read it and go on"
                )
            saved = replace(state, version=state.version + 1)
            self._states[state.connector] = saved
            return saved

    def get_pushed(self, destination: str, customer_ids: Sequence[str]) -> dict[str, PushedState]:
        with self._lock:
            return {
                cid: self._pushed[(destination, cid)]
                for cid in customer_ids
                if (destination, cid) in self._pushed
            }

    def put_pushed(self, states: Sequence[PushedState]) -> None:
        with self._lock:
            for s in states:
                self._pushed[(s.destination, s.customer_id)] = s

    def put_pushed_unless_erased(self, states: Sequence[PushedState], epoch: str) -> bool:
        if self.epoch_guard is None:  # no erasure deletes from this store
            self.put_pushed(states)
            return True
        lock, read = self.epoch_guard
        with lock:  # the erasure's order: the profile store's lock, then this one's
            if read() != epoch:
                return False
            self.put_pushed(states)
            return True

    def put_quarantined(self, entries: Sequence[QuarantineEntry]) -> None:
        with self._lock:
            self.quarantined.extend(entries)
