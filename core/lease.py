"""Leases: at most one holder of a named job at a time, for a bounded time.

A pull takes the lease of its connector before it reads the cursor, so a second schedule firing
while a pull still runs exits instead of pulling the same pages twice. A lease expires on its own
(``expires_at``), so a holder that crashed or timed out blocks nobody for longer than that; a
holder that is still working renews it after every page. The holder's id (a run id) is what a
continuation of the same run presents to take the lease over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds ``name`` and until when (seconds since the epoch)."""

    name: str
    owner: str
    expires_at: float


class LeaseStore(Protocol):
    """Where leases live; see core.storage.dynamodb_lease for the DynamoDB one."""

    def acquire(self, name: str, owner: str, seconds: float) -> Lease | None:
        """Take ``name`` for ``seconds`` if it is free, expired, or already ``owner``'s.

        Returns the lease taken, or None when somebody else holds it (see ``current``).
        """
        ...

    def renew(self, name: str, owner: str, seconds: float) -> bool:
        """Extend ``owner``'s lease to ``seconds`` from now; False if ``owner`` lost it."""
        ...

    def release(self, name: str, owner: str) -> None:
        """Give the lease back, if ``owner`` still holds it (otherwise do nothing)."""
        ...

    def current(self, name: str) -> Lease | None:
        """The lease on ``name`` as stored (possibly expired), or None."""
        ...


class InMemoryLeaseStore:
    """The ``LeaseStore`` fake, with the same rules as the DynamoDB one and an injectable clock."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._leases: dict[str, Lease] = {}
        self._lock = threading.Lock()

    def acquire(self, name: str, owner: str, seconds: float) -> Lease | None:
        with self._lock:
            now = self._clock()
            held = self._leases.get(name)
            if held is not None and held.owner != owner and held.expires_at > now:
                return None
            lease = Lease(name, owner, now + seconds)
            self._leases[name] = lease
            return lease

    def renew(self, name: str, owner: str, seconds: float) -> bool:
        with self._lock:
            held = self._leases.get(name)
            if held is None or held.owner != owner:
                return False
            self._leases[name] = Lease(name, owner, self._clock() + seconds)
            return True

    def release(self, name: str, owner: str) -> None:
        with self._lock:
            held = self._leases.get(name)
            if held is not None and held.owner == owner:
                del self._leases[name]

    def current(self, name: str) -> Lease | None:
        with self._lock:
            return self._leases.get(name)


__all__ = ["InMemoryLeaseStore", "Lease", "LeaseStore"]
