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

from datetime import UTC, datetime, time, timedelta


def days_ago(days: int, now: datetime | None = None) -> datetime:
    """Noon UTC, ``days`` (at least 1) days before the date of ``now`` (default: this machine's
    clock): at least ``days - 1`` days and 12 hours before ``now``."""
    if days < 1:
        raise ValueError(f"days_ago needs days >= 1 to stay in the past, got {days}")
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    return datetime.combine(today - timedelta(days=days), time(12), tzinfo=UTC)


__all__ = ["days_ago"]
