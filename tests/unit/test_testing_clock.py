"""core.testing.clock: a sandbox time that stays in the machine's past, whatever the date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.testing.clock import days_ago

NOWS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))


@given(now=NOWS, days=st.integers(1, 3000))
def test_noon_days_before_the_date_and_offsets_below_days_stay_in_the_past(now: datetime, days: int) -> None:
    at = days_ago(days, now)
    assert (at.hour, at.minute, at.second, at.microsecond, at.tzinfo) == (12, 0, 0, 0, UTC)
    assert (now.date() - at.date()).days == days
    assert at + timedelta(days=days - 1) + timedelta(hours=12) <= now


def test_the_default_is_this_machines_date() -> None:
    assert days_ago(1).date() == datetime.now(UTC).date() - timedelta(days=1)


def test_a_day_not_in_the_past_is_refused() -> None:
    with pytest.raises(ValueError, match="days >= 1"):
        days_ago(0)
