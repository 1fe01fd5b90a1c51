"""A sandbox's pacing: the vendor's clock (``SandboxClock``) and a server-side request limit
(``SlidingWindow``)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from core.time_bound import utc_now


class SandboxClock:
    """Vendor time. Runs with our clock by default (``core.time_bound.utc_now``: this machine's, or
    the one a test moved on); ``set(at)`` freezes it (tests put many changes on one
    timestamp), ``advance(seconds)`` moves a frozen clock on. Never goes backwards."""

    def __init__(self, frozen_at: datetime | None = None) -> None:
        self._frozen = frozen_at
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._frozen if self._frozen is not None else utc_now()

    def set(self, at: datetime | None) -> None:
        with self._lock:
            self._frozen = at

    def advance(self, seconds: float) -> None:
        with self._lock:
            base = self._frozen or utc_now()
            self._frozen = base + timedelta(seconds=seconds)


class SlidingWindow:
    """Server side of a "N requests per T seconds" limit: ``admit()`` returns 0 when the request may
    go on, or the seconds until it could (the 429's Retry-After)."""

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or seconds <= 0:
            raise ValueError("SlidingWindow needs limit >= 1 and seconds > 0")
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> float:
        with self._lock:
            now = self._clock()
            while self._times and now - self._times[0] >= self.seconds:
                self._times.popleft()
            if len(self._times) >= self.limit:
                return self.seconds - (now - self._times[0])
            self._times.append(now)
            return 0.0

    def remaining(self) -> int:
        with self._lock:
            now = self._clock()
            live = sum(1 for t in self._times if now - t < self.seconds)
            return max(0, self.limit - live)
