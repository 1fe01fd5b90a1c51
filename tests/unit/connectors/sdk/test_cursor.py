"""The SDK's pull cursor: watermark, ids on it, page token; pure functions, no HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.sdk import SEEN_LIMIT, PullCursor, StreamState, accept, format_point, parse_point
from core.errors import ConnectorConfigError

W = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _key_point(record: dict[str, Any]) -> tuple[str, datetime | None]:
    return record["id"], parse_point(record.get("at"))


def _rec(rid: str, at: datetime | None) -> dict[str, Any]:
    return {"id": rid, "at": at.isoformat() if at else None}


def test_a_walk_remembers_the_newest_time_and_every_id_on_it() -> None:
    # GIVEN a full refresh reading three records, two of them on the newest second
    records = [_rec("a", W - timedelta(seconds=5)), _rec("b", W), _rec("c", W)]
    # WHEN they are accepted and the walk finishes
    emitted, state = accept(StreamState(), records, _key_point)
    done = state.finished()
    # THEN all are returned, and the next walk starts at W knowing b and c
    assert [r["id"] for r in emitted] == ["a", "b", "c"]
    assert done == StreamState(since=W, skip=("b", "c"))


def test_the_next_walk_drops_what_it_has_and_keeps_new_records_on_the_watermark() -> None:
    # GIVEN a state at W having seen b, and a vendor answering ">= W" (or "> W - 1 s")
    state = StreamState(since=W, skip=("b",))
    records = [
        _rec("old", W - timedelta(seconds=1)),
        _rec("b", W),
        _rec("late", W),
        _rec("d", W + timedelta(1)),
    ]
    # WHEN the page is accepted
    emitted, after = accept(state, records, _key_point)
    # THEN the older record and b are dropped; the record that arrived on W after the last walk is kept
    assert [r["id"] for r in emitted] == ["late", "d"]
    assert after.finished() == StreamState(since=W + timedelta(1), skip=("d",))


def test_a_walk_that_stays_on_the_watermark_adds_to_its_ids() -> None:
    emitted, state = accept(StreamState(since=W, skip=("a",)), [_rec("z", W)], _key_point)
    assert [r["id"] for r in emitted] == ["z"]
    assert state.finished() == StreamState(since=W, skip=("a", "z"))


def test_a_walk_with_nothing_new_keeps_its_state() -> None:
    state = StreamState(since=W, skip=("a",))
    emitted, after = accept(state, [_rec("a", W)], _key_point)
    assert emitted == []
    assert after.finished() == state


def test_records_without_a_time_are_returned_and_never_move_the_watermark() -> None:
    emitted, state = accept(StreamState(since=W), [_rec("x", None)], _key_point)
    assert [r["id"] for r in emitted] == ["x"]
    # (rob23: the version is remembered, so the next walk does not return it again)
    assert state.finished() == StreamState(since=W, undated=("x",))
    again, _ = accept(state.finished(), [_rec("x", None)], _key_point)
    assert again == []


def test_ids_on_one_watermark_are_capped() -> None:
    records = [_rec(f"r{i}", W) for i in range(SEEN_LIMIT + 5)]
    _, state = accept(StreamState(), records, _key_point)
    assert len(state.finished().skip) == SEEN_LIMIT


def test_a_cursor_round_trips_and_a_foreign_one_is_refused_with_the_way_out() -> None:
    cursor = PullCursor({"people": StreamState(W, ("a",), W, ("a",), "tok")}, active="people")
    assert PullCursor.decode(cursor.encode(), "tiny") == cursor
    assert PullCursor.decode(None, "tiny") == PullCursor({})
    with pytest.raises(ConnectorConfigError, match=r"tiny: .*full refresh"):
        PullCursor.decode('{"after": "abc"}', "tiny")
    with pytest.raises(ConnectorConfigError):
        PullCursor.decode("not json", "tiny")


def test_times_are_read_and_written_in_utc() -> None:
    assert parse_point("2026-03-01T13:00:00+01:00") == W
    assert parse_point("2026-03-01T12:00:00Z") == W
    assert parse_point(1772366400, "epoch") == W
    assert parse_point("yesterday") is None
    assert format_point(W) == "2026-03-01T12:00:00Z"
    assert format_point(W, "epoch") == "1772366400"


def test_a_walk_out_of_modification_order_starts_the_next_no_later_than_it_began() -> None:
    # GIVEN a walk by id that began at W: it read a (old), then b, changed after the walk began
    started = StreamState(since=W - timedelta(days=1), started=W)
    emitted, state = accept(
        started, [_rec("a", W - timedelta(hours=1)), _rec("b", W + timedelta(seconds=30))], _key_point
    )
    # WHEN the walk finishes
    done = state.finished()
    # THEN the next walk starts at W with no ids to skip, so a change to a made after W comes back
    assert [r["id"] for r in emitted] == ["a", "b"]
    assert done == StreamState(since=W, skip=())
    after, _ = accept(
        done, [_rec("a", W + timedelta(seconds=10)), _rec("b", W + timedelta(seconds=30))], _key_point
    )
    assert [r["id"] for r in after] == ["a", "b"]


def test_a_walk_that_read_nothing_newer_than_its_start_is_not_capped() -> None:
    _, state = accept(StreamState(started=W), [_rec("a", W - timedelta(seconds=3))], _key_point)
    assert state.finished() == StreamState(since=W - timedelta(seconds=3), skip=("a",))


def test_the_walk_start_survives_the_cursor_encoding() -> None:
    state = StreamState(since=W, skip=("a",), page="[99,null]", started=W + timedelta(seconds=2))
    cursor = PullCursor({"customers": state}, active="customers").encode()
    assert PullCursor.decode(cursor, "woocommerce").state("customers") == state
