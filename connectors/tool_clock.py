"""The tool's own clock, as its answers tell it: the ``Date`` header every HTTP origin server with a
clock sends (RFC 9110, section 6.6.1), in whole seconds.

A walk hands on a watermark no later than its start less ``CLOCK_SKEW`` (``core.time_bound``). That
alone rests on our clock: a tool whose clock runs further behind ours stamps a change made just
after the pull before that watermark, and the next walk never asks for it. So every connector reads
the ``Date`` of its walk's first answer (``on_tool_clock``) and the hand-off is no later than that
less ``CLOCK_SKEW`` either (``TimeBound.handoff``: the earlier of the two; a tool whose clock runs
ahead of ours does not move it). An answer without a readable ``Date`` (a proxy that drops it, a
garbled value) falls back to our own clock: counted in ``UNDATED_ANSWERS`` by connector, and logged
once per connector, at debug. So does a ``Date`` more than the bound's skew (a day) behind our
clock: that is an old answer rather than the tool's clock now (a cache serves a stored answer with
the ``Date`` it was made with, RFC 9111), or a clock too wrong to trust; a tool whose clock truly
runs that far behind ours can lose a change made just after a pull whose watermark was capped, as
every tool further than ``CLOCK_SKEW`` behind did before.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from core.time_bound import TimeBound, describe_span

logger = logging.getLogger(__name__)

#: The walks whose first answer had no readable ``Date``, by connector (their hand-off rested on our
#: clock alone).
UNDATED_ANSWERS: Counter[str] = Counter()
_logged: set[str] = set()
_lock = threading.Lock()


def answered_at(headers: Mapping[str, str] | None) -> datetime | None:
    """When the tool answered, by its own clock (the ``Date`` header, aware UTC), or None when the
    answer has none or one that is not a date. Each of the three formats RFC 9110 (5.6.7) has a
    recipient accept is read; all three are GMT, the asctime one without saying so."""
    if headers is None:
        return None
    text = headers.get("date") or headers.get("Date")
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        answered = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if answered is None:
        return None
    return answered.replace(tzinfo=UTC) if answered.tzinfo is None else answered.astimezone(UTC)


def on_tool_clock(bound: TimeBound, headers: Mapping[str, str] | None, connector: str) -> TimeBound:
    """``bound`` with the tool's clock of the walk's first answer (``headers``), once: a bound that
    has read it is returned as it is. Without a readable ``Date`` the bound keeps our own clock, and
    the answer is counted (and logged once per connector)."""
    if bound.tool is not None:
        return bound
    tool = answered_at(headers)
    if tool is not None and tool < bound.start - bound.skew:
        tool = None  # (not the tool's clock now: an old answer, a cache's, keeps its first Date)
    if tool is None:
        with _lock:
            UNDATED_ANSWERS[connector] += 1
            first = connector not in _logged
            _logged.add(connector)
        if first:
            logger.debug(
                "%s: an answer without a readable Date header, or one more than %s behind this "
                "machine's clock; the cursor hand-off rests on this machine's clock (counted in "
                "connectors.tool_clock.UNDATED_ANSWERS)",
                connector,
                describe_span(bound.skew),
            )
    return bound.answered(tool)


__all__ = ["UNDATED_ANSWERS", "answered_at", "on_tool_clock"]
