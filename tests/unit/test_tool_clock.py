"""The tool's clock (``connectors.tool_clock``) and the hand-off it caps (``TimeBound.handoff``).

A walk hands on a watermark no later than the earlier of our start and the tool's clock when it
first answered, less ``CLOCK_SKEW``: a tool whose clock runs behind ours stamps the changes made after
the pull before our start; one whose clock runs ahead must not carry the hand-off past our own.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.tool_clock import UNDATED_ANSWERS, answered_at, on_tool_clock
from core.time_bound import CLOCK_SKEW, TimeBound, ordered_by_read, read_before

START = datetime(2026, 12, 6, 12, 0, 0, tzinfo=UTC)
_OFFSETS = st.integers(-3 * 86400, 86400).map(lambda s: timedelta(seconds=s))


@pytest.mark.parametrize(
    "text",
    [
        # RFC 9110, 5.6.7: the preferred format and the two obsolete ones a recipient must accept
        "Sun, 06 Nov 1994 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
    ],
)
def test_every_http_date_format_is_read_as_gmt(text: str) -> None:
    assert answered_at({"date": text}) == datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"date": ""},
        {"date": "garbled"},
        {"date": "Sun, 32 Nov 1994 08:49:37 GMT"},
        None,
        # a day and a second behind ours: an old answer (a cache's), not the tool's clock now
        {"date": "Sat, 05 Dec 2026 11:59:59 GMT"},
    ],
    ids=["missing", "empty", "garbled", "no-such-day", "no-answer", "a-day-old"],
)
def test_an_answer_without_a_readable_date_keeps_our_clock_and_is_counted(
    headers: dict[str, str] | None, caplog: pytest.LogCaptureFixture
) -> None:
    name = f"acme-{len(UNDATED_ANSWERS)}"
    with caplog.at_level(logging.DEBUG, logger="connectors.tool_clock"):
        first = on_tool_clock(TimeBound(START), headers, name)
        on_tool_clock(TimeBound(START), headers, name)
    assert (first.tool, first.handoff) == (START, START - CLOCK_SKEW)
    assert UNDATED_ANSWERS[name] == 2
    assert len([r for r in caplog.records if name in r.getMessage()]) == 1  # logged once


@given(behind=_OFFSETS, later=_OFFSETS)
def test_the_handoff_is_no_later_than_either_clock_and_read_once(behind: timedelta, later: timedelta) -> None:
    # (a tool clock up to a day behind ours, or ahead of it by up to three days)
    tool = START - behind
    bound = on_tool_clock(TimeBound(START), {"Date": _http(tool)}, "acme")
    # the earlier of the two clocks, less CLOCK_SKEW
    assert bound.handoff == min(START, tool) - CLOCK_SKEW
    assert bound.cap(START + timedelta(days=1)) == bound.handoff
    # a later answer of the walk changes nothing
    assert on_tool_clock(bound, {"Date": _http(tool + later)}, "acme") == bound


@given(
    read=st.datetimes(min_value=datetime(2000, 1, 1), timezones=st.just(UTC)),
    later=st.integers(1000, 3 * 10**6).map(lambda us: timedelta(microseconds=us)),
)
def test_a_time_read_as_its_read_orders_before_every_stamp_of_that_second_in_read_order(
    read: datetime, later: timedelta
) -> None:
    # a version stamped ahead and read at ``read`` orders after the second before it, to the
    # millisecond (HubSpot's ``...59.999``, and that stamp dated by a pull a few microseconds past
    # it: core.version_marks.AFTER), and before its own second's stamps
    second = read.replace(microsecond=0)
    last_ms = second - timedelta(milliseconds=1)
    assert last_ms + timedelta(microseconds=9) < read_before(read) < second
    # and before a version read a millisecond or more later; the reads of the last few milliseconds
    # of a second share the last microsecond before it (their stamps order them)
    after = read + later
    if after.replace(microsecond=0) > second or after.microsecond < 990_000:
        assert read_before(read) < read_before(after)
    else:
        assert read_before(read) <= read_before(after) == second - timedelta(microseconds=1)


def _http(moment: datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


def test_a_version_a_second_ahead_orders_at_its_read_and_one_hours_ahead_just_before_its_second() -> None:
    read = START + timedelta(milliseconds=300)
    # a tool clock a second fast: its next change, stamped a second ahead, is newer than one stamped
    # on the read's second (tests/unit/connectors/mailchimp/test_address_moves.py: an address moved)
    assert ordered_by_read(START + timedelta(seconds=1), read) == read > START
    assert ordered_by_read(START + CLOCK_SKEW + timedelta(milliseconds=300), read) == read
    # a clock hours off: no later than the read, before every stamp of its second
    assert ordered_by_read(START + timedelta(hours=10), read) == read_before(read) < START
