"""revB19: read_before leaves a version stamped in the last millisecond of the second before tied
(read in the first millisecond) or after (dated microseconds) the version read after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.testing.records import make_record
from core.time_bound import read_before

READ = datetime(2026, 12, 6, 12, 0, 0, 400, tzinfo=UTC)  # first millisecond of a second
OLDER = datetime(2026, 12, 6, 11, 59, 59, 999_000, tzinfo=UTC)  # HubSpot: to the millisecond, before the read


def test_a_version_stamped_ahead_orders_after_one_stamped_before_its_read() -> None:
    ahead = make_record("hubspot", "1", email="a@example.com").model_copy(
        update={"updated_at": datetime(2099, 1, 1, tzinfo=UTC), "read_at": READ}
    )
    older = make_record("hubspot", "1", email="b@example.com").model_copy(update={"updated_at": OLDER})
    assert older.ordered_at < ahead.ordered_at, (older.ordered_at, ahead.ordered_at)


def test_a_dated_version_stamped_before_the_read_orders_before_it() -> None:
    # the pull dated the older version a couple of microseconds past its stamp (cursor_seconds)
    assert OLDER + timedelta(microseconds=2) < read_before(READ + timedelta(microseconds=1000))
