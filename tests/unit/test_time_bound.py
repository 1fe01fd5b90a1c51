"""core.time_bound: the watermark a finished walk hands on leaves CLOCK_SKEW for a tool clock behind ours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from core.time_bound import CLOCK_SKEW, TimeBound

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
BOUND = TimeBound(START)


def test_a_watermark_at_or_after_the_start_is_handed_on_clock_skew_before_it() -> None:
    # A record stamped 2099 is read as the start (clamp); the next walk asks from CLOCK_SKEW before.
    assert BOUND.cap(BOUND.clamp(datetime(2099, 1, 1, tzinfo=UTC))) == START - CLOCK_SKEW
    assert BOUND.cap(START + timedelta(hours=10)) == START - CLOCK_SKEW


@given(st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=3)))
def test_the_cap_is_never_later_than_the_handoff_and_never_moves_an_earlier_time(offset: timedelta) -> None:
    moment = START + offset
    capped = BOUND.cap(moment)
    assert capped <= START - CLOCK_SKEW
    assert capped == min(moment, BOUND.handoff)
