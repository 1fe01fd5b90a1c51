"""revB19 item 5 (fixed by tie21): two versions of one record, both stamped ahead of one read (a tool
clock hours fast, or a resolve file read as of one moment), share their ordering time; the later
stamp wins, where the content hash decided before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.merge import newest
from core.testing.records import make_record

NOW = datetime(2026, 12, 6, 12, 0, 0, 300_000, tzinfo=UTC)


def test_the_later_stamp_wins_among_versions_of_one_read() -> None:
    losers = []
    for i in range(20):
        older = make_record("hubspot", "1", email=f"old{i}@example.com").model_copy(
            update={"updated_at": NOW + timedelta(hours=1), "read_at": NOW}
        )
        newer = make_record("hubspot", "1", email=f"new{i}@example.com").model_copy(
            update={"updated_at": NOW + timedelta(hours=2), "read_at": NOW}
        )
        if newest(older, newer) is older:
            losers.append(i)
    assert losers == []
