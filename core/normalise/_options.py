"""``NormaliseOptions``: how ``normalise_record`` reads values that are ambiguous without context, and
how it marks a time too far in the future (read as "now"), which ``is_future_dated`` finds again."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Final

from core.schema import SourceRecord
from core.time_bound import DEFAULT_MAX_FUTURE_SKEW, describe_span, utc_now


@dataclass(frozen=True)
class NormaliseOptions:
    """How ``normalise_record`` reads values that are ambiguous without context.

    ``default_region`` is the ISO 3166-1 alpha-2 region a phone number without an international
    prefix is read in when the record itself names no country (a connector for a UK shop sets
    "GB"); a record's own ``country`` trait comes first.

    ``max_future_skew``: a time further ahead of ``now`` than this (``updated_at``, a consent's
    ``changed_at``) is taken for a wrong clock and read as ``now`` (``updated_at``) or as the
    record's ``updated_at`` (consent); the record is kept and the value listed in ``dropped``.
    An ``updated_at`` ahead of ``now`` by less is kept as stamped, with ``now`` as the record's
    ``read_at``: the record is ordered by the earlier of the two (``SourceRecord.ordered_at``).
    ``now`` is the clock (None: ``core.time_bound.utc_now`` at each call).
    """

    default_region: str = "US"
    max_future_skew: timedelta = DEFAULT_MAX_FUTURE_SKEW
    now: datetime | None = field(default=None, compare=False)


_DEFAULT_OPTIONS: Final = NormaliseOptions()

#: The ``reason`` of the ``DroppedValue`` that flags a future time read as "now" (its field is
#: ``updated_at`` or ``consent.<channel>.changed_at``); ``is_future_dated`` looks for it.
_FUTURE_REASON_PREFIX: Final = "more than "
_FUTURE_REASON_SUFFIX: Final = " in the future (a clock ahead?); "


def _future_reason(skew: timedelta, read_as: str) -> str:
    """The reason recorded when a time too far ahead is read as ``read_as``."""
    return f"{_FUTURE_REASON_PREFIX}{describe_span(skew)}{_FUTURE_REASON_SUFFIX}read as {read_as}"


def read_on_tool_clock(options: NormaliseOptions | None, read: datetime | None) -> NormaliseOptions | None:
    """``options`` for the records of a page the tool answered at ``read`` by its own clock
    (``RawPage.read``): ``now`` is that clock when it runs behind ours (within ``max_future_skew``:
    an older ``Date`` is a cache's answer, not the tool's clock), else ``options`` as they are.

    A record stamped far ahead is read as made just before the second of ``now``
    (``core.time_bound.read_before``). By our clock, a tool whose clock runs 10 s behind ours
    stamped its correction, made a second after our read, 9 s before that: ingest took the correction
    for older than the version it corrects, and kept the wrong one. By the tool's clock at the read,
    the correction is a second after it (tests/integration/test_skew17_lagging_clock.py)."""
    if read is None:
        return options
    base = options or NormaliseOptions()
    now = base.now or utc_now().astimezone(UTC)
    # (a tool in step with ours answers in our second, its Date floored: our clock is as good)
    if not now - base.max_future_skew <= read <= now - timedelta(seconds=1):
        return options
    return replace(base, now=read)


def is_future_dated(record: SourceRecord) -> bool:
    """Whether normalisation read the record's ``updated_at`` as "now" because it was too far ahead."""
    return any(
        d.field == "updated_at"
        and _FUTURE_REASON_SUFFIX in d.reason
        and d.reason.startswith(_FUTURE_REASON_PREFIX)
        for d in record.dropped
    )
