"""Our clock (``core.time_bound.utc_now``), moved on by a test instead of waited for: every reader of
"now" in a pull follows it (a run's bound, normalisation without a fixed ``now``, a sandbox's running
clock and the fallback for an answer without a ``Date``), and it never goes back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors._sandbox.pacing import SandboxClock
from connectors.sdk._connector import vendor_time
from core.normalise import normalise_record
from core.schema import RecordDraft, SourceRecord
from core.testing.clock import OurClock
from core.time_bound import TimeBound, utc_now


def test_a_moved_clock_is_what_every_reader_of_now_in_a_pull_reads() -> None:
    with OurClock() as ours:
        # WHEN our clock is moved an hour on
        ours.move_to(datetime.now(UTC) + timedelta(hours=1))
        expected = ours.now().replace(microsecond=0)
        # THEN a run's bound, a sandbox's running clock and the fallback of an undated answer read it
        assert TimeBound.from_now().start in (expected, expected + timedelta(seconds=1))
        assert abs(SandboxClock().now() - ours.now()) < timedelta(seconds=1)
        assert vendor_time({}) in (expected, expected + timedelta(seconds=1))
        # AND normalisation reads a time half an hour after the machine's clock as not ahead of ours
        stamp = datetime.now(UTC) + timedelta(minutes=30)
        draft = RecordDraft(source="t", source_id="1", updated_at=stamp, emails=["ada@example.com"])
        record = normalise_record(draft)
        assert isinstance(record, SourceRecord)
        assert record.read_at is None, "a time our clock has passed is not ahead of it"
    # AND leaving puts the machine's clock back
    assert abs(utc_now() - datetime.now(UTC)) < timedelta(seconds=1)


def test_next_second_freeze_and_run() -> None:
    with OurClock() as ours:
        second = ours.next_second()
        assert second.microsecond == 0
        assert ours.now() >= second + timedelta(milliseconds=50)
        stopped = ours.freeze()
        assert utc_now() == stopped == ours.now()
        ours.move_to(stopped + timedelta(seconds=2))
        assert utc_now() == stopped + timedelta(seconds=2)
        ours.run()
        assert ours.now() >= stopped + timedelta(seconds=2)
        with pytest.raises(ValueError, match="never goes back"):
            ours.move_to(stopped)


def test_leaving_a_clock_inside_another_puts_the_outer_one_back() -> None:
    with OurClock() as outer:
        outer.move_to(datetime.now(UTC) + timedelta(hours=1))
        with OurClock() as inner:
            inner.move_to(datetime.now(UTC) + timedelta(hours=2))
            assert utc_now() - datetime.now(UTC) > timedelta(minutes=110)
        # WHEN the inner one is left THEN the outer one is read again, not the machine's
        assert abs(utc_now() - outer.now()) < timedelta(seconds=1)
        assert utc_now() - datetime.now(UTC) > timedelta(minutes=50)
    assert abs(utc_now() - datetime.now(UTC)) < timedelta(seconds=1)


def test_shopify_s_search_term_now_is_our_clock() -> None:
    from connectors.shopify._search import parse_query, time_matches

    # GIVEN a customer updated half an hour after the machine's clock
    stamp = (datetime.now(UTC) + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (before_now,) = parse_query("updated_at:<now")
    assert not time_matches(stamp, before_now)
    with OurClock() as ours:
        # WHEN our clock is moved an hour on THEN Shopify's `updated_at:<now` finds it
        ours.move_to(datetime.now(UTC) + timedelta(hours=1))
        assert time_matches(stamp, before_now)
