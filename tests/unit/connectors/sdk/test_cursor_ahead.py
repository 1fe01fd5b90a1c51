"""The versions a cursor delivered above a capped watermark (connectors.cursor_ahead): a later version
of one of them is dated after it, the state stays bounded, and a cursor written before reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.cursor_ahead import AHEAD_LIMIT, kept_ahead
from connectors.cursor_seconds import after
from connectors.cursor_tags import version_tag
from connectors.hubspot._cursor import FullState, IncrementalState, decode, encode
from connectors.sdk import PullCursor, StreamState, accept, parse_point
from core.time_bound import CLOCK_SKEW

KEY = b"k" * 32
S = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _key_point(record: dict[str, Any]) -> tuple[str, datetime | None]:
    return version_tag(KEY, record["id"], record), parse_point(record["at"])


def _rec(rid: str, at: datetime, body: str) -> dict[str, Any]:
    return {"id": rid, "at": at.isoformat(), "body": body}


def _walk(
    state: StreamState, records: list[dict[str, Any]], start: datetime
) -> tuple[list[Any], StreamState]:
    """One walk started at ``start`` (a record stamped ahead caps its watermark at start - CLOCK_SKEW)."""
    handoff = start - CLOCK_SKEW
    emitted, state = accept(state, records, _key_point, handoff)
    return emitted, state.finished(handoff)


def test_each_later_version_on_one_second_above_a_capped_watermark_is_dated_after_the_one_before() -> None:
    # GIVEN a walk that delivered r in A on S with many others, its watermark capped below S
    others = [_rec(f"o{i}", S - timedelta(seconds=i), "x") for i in range(1, 20)]
    emitted, state = _walk(
        StreamState(S - timedelta(hours=1)), [*others, _rec("r", S, "A")], S + timedelta(seconds=1)
    )
    assert after(emitted[-1]) == 0
    assert state.since is not None
    assert state.since < S
    # WHEN r is changed to B on S, and the next walk (started later: the others fell below its
    # watermark) pulls it again, then r is changed to C on S
    emitted_b, state = _walk(state, [_rec("r", S, "B")], S + CLOCK_SKEW - timedelta(seconds=2))
    emitted_c, state = _walk(state, [_rec("r", S, "C")], S + CLOCK_SKEW - timedelta(seconds=1))
    # THEN B is dated after A, and C after B
    assert 0 < after(emitted_b[0]) < after(emitted_c[0])
    # AND r delivered again unchanged is not marked
    again, _ = _walk(state, [_rec("r", S, "C")], S + CLOCK_SKEW)
    assert after(again[0]) == 0


def test_the_versions_kept_ahead_are_bounded_and_their_count_never_shrinks() -> None:
    tags = tuple(f"{i:016x}" for i in range(AHEAD_LIMIT - 1))
    fuller = kept_ahead(tags, [("a" * 16, S), ("b" * 16, S), ("c" * 16, S - timedelta(seconds=1))], S)
    assert len(fuller) == AHEAD_LIMIT
    assert fuller[-2:] == ("a" * 16, "b" * 16)
    assert len(kept_ahead(fuller, [("d" * 16, S)], S)) == AHEAD_LIMIT


def test_an_sdk_cursor_keeps_its_versions_ahead_and_one_written_before_them_reads() -> None:
    state = StreamState(S, ahead=("a" * 16,))
    assert PullCursor.decode(PullCursor({"s": state}).encode(), "x").state("s") == state
    old = json.dumps({"v": 2, "active": None, "streams": {"s": {"w": S.isoformat(), "skip": []}}})
    assert PullCursor.decode(old, "x").state("s") == StreamState(S)


def test_a_hubspot_cursor_keeps_its_versions_ahead_and_one_written_before_them_reads() -> None:
    state = IncrementalState(1000, ahead=("a" * 16,))
    assert decode(encode(state), KEY) == state
    assert decode(json.dumps({"v": 2, "m": "inc", "w": 1000, "t": None, "s": []}), KEY) == IncrementalState(
        1000
    )


def test_a_hubspot_full_refresh_cursor_keeps_its_versions_ahead_and_one_written_before_them_reads() -> None:
    state = FullState("tok", 1000, 7, ahead=("a" * 16, "b" * 16))
    assert decode(encode(state), KEY) == state
    old = json.dumps({"v": 2, "m": "full", "after": "tok", "w": 1000, "x": 7})
    assert decode(old, KEY) == FullState("tok", 1000, 7)
