"""Sandbox times for tests that stay in this machine's past, whatever day the tests run on.

The product reads a time past its own clock as that clock (``core.time_bound``: every connector's
pull bound, ``NormaliseOptions.now``), and a vendor sandbox whose clock is left running reads real
time (``SandboxClock``): Stripe's sandbox keeps events 30 days by it. A test that pins its vendor
times to a fixed date therefore changes meaning as the calendar moves on: a date plus the test's
offsets lands in the machine's future (the rename is clamped to now), or a fixed date drifts more
than the event retention behind a running sandbox clock (the events are gone). ``days_ago(n)`` is a
fixed point relative to today instead: noon UTC ``n`` days before the machine's date, so a test that
moves a vendor's clock or stamps changes up to ``n - 1`` days on stays in the machine's past, and a
small ``n`` stays within a running sandbox's retention.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from types import TracebackType

from core.time_bound import use_clock


def days_ago(days: int, now: datetime | None = None) -> datetime:
    """Noon UTC, ``days`` (at least 1) days before the date of ``now`` (default: this machine's
    clock): at least ``days - 1`` days and 12 hours before ``now``."""
    if days < 1:
        raise ValueError(f"days_ago needs days >= 1 to stay in the past, got {days}")
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return datetime.combine(today - timedelta(days=days), time(12), tzinfo=UTC)


class OurClock:
    """Our clock (``core.time_bound.utc_now``: every run's bound, normalisation's ``now``, the running
    clock of the built-in sandboxes), moved on instead of waited for. ``with OurClock() as ours:``
    it runs with this machine's clock, and never goes back: ``next_second()`` moves it to just past
    the start of its next second (where a test slept up to a second of real time), ``freeze()``
    stops it (a pull that must begin and end within one second, whatever the machine's load) and
    ``run()`` lets it run on from there. On leaving, the clock read before is read again (the
    machine's, or an enclosing ``OurClock``'s)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._frozen: datetime | None = None
        self._lock = threading.Lock()
        self._previous: list[Callable[[], datetime]] = []

    def now(self) -> datetime:
        with self._lock:
            return self._frozen if self._frozen is not None else datetime.now(UTC) + self._offset

    def next_second(self, past: timedelta = timedelta(milliseconds=50)) -> datetime:
        """Move to ``past`` after the start of the next whole second; that second (whole)."""
        second = self.now().replace(microsecond=0) + timedelta(seconds=1)
        self.move_to(second + past)
        return second

    def move_to(self, moment: datetime) -> None:
        """Move on to ``moment`` (aware; not before now: the clock never goes back), running or
        frozen as it was."""
        with self._lock:
            current = self._frozen if self._frozen is not None else datetime.now(UTC) + self._offset
            if moment < current:
                raise ValueError(f"our clock never goes back: {moment} is before {current}")
            if self._frozen is not None:
                self._frozen = moment
            else:
                self._offset += moment - current

    def freeze(self) -> datetime:
        """Stop the clock where it is; that moment."""
        with self._lock:
            if self._frozen is None:
                self._frozen = datetime.now(UTC) + self._offset
            return self._frozen

    def run(self) -> None:
        """Let a frozen clock run on from where it stopped."""
        with self._lock:
            if self._frozen is not None:
                self._offset = self._frozen - datetime.now(UTC)
                self._frozen = None

    def __enter__(self) -> OurClock:
        self._previous.append(use_clock(self.now))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        use_clock(self._previous.pop())


__all__ = ["OurClock", "days_ago"]
