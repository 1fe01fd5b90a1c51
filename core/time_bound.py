"""How far in the future a record's time may be: a clock that runs ahead must not stop the world.

A record stamped 2099 (a typo, a test fixture, a device clock) used to become a connector's
watermark: every later change was older than it and was never asked for again, and the record made
every later version of itself stale. So a time more than ``skew`` after the moment a pull (or a
normalisation) started is read as that moment: the record is kept, but for ordering and for
cursors it is "now". A vendor clock that runs a little ahead (within ``skew``) is left alone.

Pure: no I/O. Used by ``core.normalise`` for ``updated_at`` and consent times, and by every
connector's cursor for the watermark it keeps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final

#: The default tolerance for a clock ahead of ours; configurable per run (``NormaliseOptions`` and
#: each connector's ``TimeBound``).
DEFAULT_MAX_FUTURE_SKEW: Final = timedelta(days=1)


def describe_span(span: timedelta) -> str:
    """``1 day``, ``6 hours``, ``90 seconds``: a span in words, for reasons a person reads."""
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


@dataclass(frozen=True, slots=True)
class TimeBound:
    """The latest time a record may carry in one run: ``start + skew``. A later time is read as
    ``start``, the moment the run began, so it can neither carry a cursor past the run nor hide the
    changes made after it."""

    start: datetime
    skew: timedelta = field(default=DEFAULT_MAX_FUTURE_SKEW)

    @classmethod
    def from_now(cls, skew: timedelta = DEFAULT_MAX_FUTURE_SKEW) -> TimeBound:
        return cls(datetime.now(UTC), skew)

    @property
    def limit(self) -> datetime:
        return self.start + self.skew

    def too_late(self, moment: datetime) -> bool:
        """Whether ``moment`` (aware) is more than the skew ahead of the start."""
        return moment > self.start + self.skew

    def clamp(self, moment: datetime) -> datetime:
        """``moment``, or the start when it is too late."""
        return self.start if moment > self.start + self.skew else moment


__all__ = ["DEFAULT_MAX_FUTURE_SKEW", "TimeBound", "describe_span"]
