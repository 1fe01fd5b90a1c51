"""How far in the future a record's time may be: a clock that runs ahead must not stop the world.

A record stamped 2099 (a typo, a test fixture, a device clock) used to become a connector's
watermark: every later change was older than it and was never asked for again, and the record made
every later version of itself stale. So a time more than ``skew`` after the moment a pull (or a
normalisation) started is read as that moment: the record is kept, but for ordering and for
cursors it is "now". A vendor clock that runs a little ahead (within ``skew``) is left alone while
a walk runs, but the watermark a finished walk hands to the next is never later than the walk's
start less ``CLOCK_SKEW`` (``TimeBound.cap``): a record a few hours ahead must not hide the edits of
those hours, and a tool whose clock runs behind ours (up to ``CLOCK_SKEW``) stamps the changes made
after the pull no earlier than that. When the walk read the tool's own clock (the ``Date`` of its
first answer, ``TimeBound.answered``), the hand-off is no later than that less ``CLOCK_SKEW`` either:
a tool whose clock runs further behind ours stamps the changes made after the pull after it.

A time stamped more than ``CLOCK_SKEW`` ahead of the moment it was read is known only to be no later
than that moment: it orders just before the second it was read in (``read_before``), so a correction
the tool stamps on that second (made just after the read, on whole seconds) wins over it. One less
ahead orders at the read (``ordered_by_read``): a tool clock a second fast stamps its next change a
second ahead, and that change is the newer.

Pure: no I/O. Used by ``core.normalise`` for ``updated_at`` and consent times, and by every
connector's cursor for the watermark it keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Final

#: The default tolerance for a clock ahead of ours; configurable per run (``NormaliseOptions`` and
#: each connector's ``TimeBound``).
DEFAULT_MAX_FUTURE_SKEW: Final = timedelta(days=1)

#: How far a tool's clock may run behind ours. The watermark a finished walk hands to the next is no
#: later than ``start - CLOCK_SKEW`` (``TimeBound.cap``): a tool 10 s behind stamps a change made
#: just after the pull 10 s before our start, and a watermark at our start never asked for it
#: (tests/integration/test_skew17_lagging_clock.py). The records re-pulled from that window are
#: unchanged and write nothing. A tool further behind can still lose such a change: a documented limit.
CLOCK_SKEW: Final = timedelta(minutes=5)


def _machine_clock() -> datetime:
    return datetime.now(UTC)


#: The clock ``utc_now`` reads: this machine's, unless a test moved it (``use_clock``).
_CLOCK: list[Callable[[], datetime]] = [_machine_clock]


def utc_now() -> datetime:
    """Our clock, aware UTC: this machine's, as every run's bound (``TimeBound.from_now``), the
    normalisation of a run without a fixed ``now`` and the built-in sandboxes' running clocks read
    it. One place, so a test moves it on a second (``core.testing.clock.OurClock``) where it
    waited for the wall clock to pass one."""
    return _CLOCK[0]()


def use_clock(clock: Callable[[], datetime] | None) -> Callable[[], datetime]:
    """Make ``clock`` (aware UTC) the one ``utc_now`` reads; None puts this machine's back. Returns
    the clock it replaces (to put back: clocks nest)."""
    previous = _CLOCK[0]
    _CLOCK[0] = clock or _machine_clock
    return previous


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
    tool: datetime | None = None
    """When the tool answered the walk's first request, by its own clock (its ``Date`` header):
    ``answered``. None until then."""

    @classmethod
    def from_now(cls, skew: timedelta = DEFAULT_MAX_FUTURE_SKEW) -> TimeBound:
        """From the start of the current second: tools stamp whole seconds, so a change made later
        in the second a pull began is stamped before that moment; a watermark capped with its
        microseconds (``cap``) never asked for it again (tests/integration/test_attack11_sync_cursors.py)."""
        return cls(utc_now().replace(microsecond=0), skew)

    @property
    def limit(self) -> datetime:
        return self.start + self.skew

    def too_late(self, moment: datetime) -> bool:
        """Whether ``moment`` (aware) is more than the skew ahead of the start."""
        return moment > self.start + self.skew

    def clamp(self, moment: datetime) -> datetime:
        """``moment``, or the start when it is too late."""
        return self.start if moment > self.start + self.skew else moment

    def answered(self, tool: datetime | None) -> TimeBound:
        """This bound with the tool's clock read from the walk's first answer (``tool``, aware; None
        when the answer had no readable ``Date``: our own start stands for it). Read once: a later
        answer of the walk changes nothing, so the hand-off never moves later within a walk."""
        if self.tool is not None:
            return self
        return replace(self, tool=self.start if tool is None else tool)

    @property
    def handoff(self) -> datetime:
        """The latest watermark a finished walk hands to the next: the earlier of our start and the
        tool's clock when it first answered (``tool``), less ``CLOCK_SKEW``. A tool whose clock runs
        behind ours stamps a change made just after the pull before our start; one whose clock runs
        ahead must not carry the watermark past our own start (we would skip our own changes)."""
        tool = self.tool
        return (self.start if tool is None or tool > self.start else tool) - CLOCK_SKEW

    def cap(self, moment: datetime) -> datetime:
        """``moment``, or ``handoff`` when it is later: the watermark a finished walk hands to the next.

        A time within the skew is read as it is while the walk runs (a vendor clock a little ahead;
        the changes made while the pull runs), but the next walk starts no later than this one
        began, less ``CLOCK_SKEW``. Starting at a record's time hours ahead (a local time written as
        UTC, Sydney's 10 hours) would never again ask for the changes made before that time: every
        edit of those hours was lost. Starting at our own start lost the changes a tool whose clock
        runs behind ours stamps after the pull but before our start. Starting earlier repeats the
        records after it, which change nothing."""
        return self.handoff if moment > self.handoff else moment


def ordered_by_read(stamped: datetime, read: datetime) -> datetime:
    """When a version stamped ``stamped``, later than ``read`` (when it was read), is ordered: at the
    read when it is at most ``CLOCK_SKEW`` ahead (a tool clock a little fast: its stamp is nearly
    right, and a version it stamps a second ahead is the newer one), else just before the second of
    the read (``read_before``: a clock hours or years off says nothing but that the version was
    made no later than the read)."""
    return read if stamped - read <= CLOCK_SKEW else read_before(read)


#: The span just before a second that the versions read in it with a time stamped ahead are ordered
#: in (``read_before``): the last millisecond of the second before, so a version stamped in the
#: second before to the second (most tools) stays before them.
_BEFORE: Final = timedelta(milliseconds=1)
#: Where in that millisecond the span starts: strictly after its first microsecond, so a version
#: HubSpot stamped in the last millisecond of the second before (``...59.999``), and a pull dated a few
#: microseconds past that stamp (``core.version_marks.AFTER``), stays before them too.
_FIRST: Final = 10
#: The last microsecond of that millisecond the span may reach (``...59.999999``).
_LAST: Final = 999


def read_before(read: datetime) -> datetime:
    """When a version read at ``read`` with a time stamped ahead of it is ordered: in the last
    millisecond of the second before the one ``read`` is in, ``_FIRST`` microseconds past its start
    plus a microsecond for each millisecond of ``read`` (at most ``_LAST``: the reads of the last few
    milliseconds of a second share the last microsecond, and their stamps order them,
    ``core.merge.newest``).

    Such a version was made no later than the read, and that is all that is known of it. A version
    the tool stamps on that second (tools stamp whole seconds: a correction made just after the read)
    or later was made after it, and wins; one stamped before that second (even ``...59.999``, HubSpot's
    milliseconds, dated by a pull up to ``_FIRST - 1`` microseconds past it) was made before and loses.
    Two such versions of one record keep the order they were read in (to the millisecond): each was
    the tool's version when it was read, so the later read is the newer (a 2099 record corrected,
    still stamped 2099, on the second it was read: Stripe stamps a change no earlier than the object's
    creation). A version stamped on that second and made before the read loses to it, until the next
    pull reads the version stamped ahead again (a walk hands off no later than its start less
    ``CLOCK_SKEW``: such a version is pulled again on every walk while it is ahead, and is then read on
    a later second)."""
    offset = min(_FIRST + read.microsecond // 1000, _LAST)
    return read.replace(microsecond=0) - _BEFORE + timedelta(microseconds=offset)


__all__ = [
    "CLOCK_SKEW",
    "DEFAULT_MAX_FUTURE_SKEW",
    "TimeBound",
    "describe_span",
    "ordered_by_read",
    "read_before",
    "use_clock",
    "utc_now",
]
