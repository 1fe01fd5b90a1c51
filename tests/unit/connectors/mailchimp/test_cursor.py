"""The watermark walk on its own: overlap check, either reading of ``since``, range ends, size cap,
and the versions it keeps on the watermark second."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.cursor_seconds import AFTER
from connectors.cursor_tags import id_tag
from connectors.mailchimp._cursor import SEEN_LIMIT, WalkState, advance, format_time

W = datetime(2026, 11, 20, 12, tzinfo=UTC)


def m(member_id: str, at: datetime, status: str = "subscribed") -> dict[str, str]:
    return {"id": member_id, "last_changed": format_time(at), "status": status}


def tags(*members: dict[str, Any]) -> tuple[str, ...]:
    return tuple(WalkState().tag(x) for x in members)


def ids(emit: list[dict[str, Any]]) -> list[str]:
    return [x["id"] for x in emit]


def test_the_next_request_overlaps_one_member_and_asks_from_a_second_before_the_watermark() -> None:
    state = WalkState(W, tags(m("a", W), m("b", W)), 2)
    assert state.query() == ("2026-11-20T11:59:59+00:00", 1, True)
    assert WalkState().query() == (None, 0, False)


def test_a_failed_overlap_check_reads_the_block_again_without_repeating_members() -> None:
    # GIVEN a walk that read a and b on W, and a block that lost b (it changed): c moved to offset 1
    state = WalkState(W, tags(m("a", W), m("b", W)), 2)
    step = advance(state, [m("c", W), m("d", W)], verify=True, page_size=1000)
    # THEN the walk restarts the block from offset 0
    assert step.restarted
    assert step.emit == []
    assert step.state.pos == 0
    # AND reading it again emits only what it had not seen
    again = advance(step.state, [m("a", W), m("c", W), m("d", W)], verify=False, page_size=1000)
    assert ids(again.emit) == ["c", "d"]
    assert again.done


def test_members_older_than_the_watermark_are_skipped_if_since_is_read_as_at_or_after() -> None:
    before = W - timedelta(seconds=1)
    # GIVEN a walk that read a on W; the API also serves z, changed a second earlier, at offset 0
    state = WalkState(W, tags(m("a", W)), 1)
    assert state.query()[1:] == (0, True)
    step = advance(state, [m("z", before), m("a", W), m("b", W)], verify=True, page_size=3)
    # THEN z passes the overlap check (it is behind the watermark) and only b is new
    assert not step.restarted
    assert ids(step.emit) == ["b"]
    assert step.state.pos == 3  # positions of the query, the older member included


def test_a_range_walk_stops_at_its_upper_bound() -> None:
    upper = W + timedelta(seconds=5)
    step = advance(WalkState(), [m("a", W), m("b", upper)], verify=False, page_size=2, upper=upper)
    assert ids(step.emit) == ["a"]
    assert step.done
    assert step.state == WalkState(W, tags(m("a", W)), 0)


def test_the_versions_kept_on_a_huge_tie_are_capped_and_its_offset_kept() -> None:
    page = [m(f"id{i:05d}", W) for i in range(SEEN_LIMIT + 500)]
    step = advance(WalkState(), page, verify=False, page_size=len(page) + 1)
    assert len(step.emit) == SEEN_LIMIT + 500
    assert len(step.state.seen) == SEEN_LIMIT
    assert step.state.seen[-1] == tags(page[-1])[0]  # the overlap check needs the last one read
    # (a block whose versions do not all fit is not read whole again: the walk keeps its offset,
    # and the block's size, which the next pull counts again first)
    assert (step.state.pos, step.state.block) == (SEEN_LIMIT + 500, SEEN_LIMIT + 500)
    assert WalkState.decode(step.state.encode()) == step.state
    # AND a walk still in the block (a page ended it, not the block) hands on no size
    assert advance(WalkState(), page, verify=False, page_size=len(page)).state.block is None


def test_a_walk_that_ends_hands_on_offset_0_and_a_member_changed_onto_the_watermark_is_read() -> None:
    # GIVEN a walk that ended on W having read b and c there
    done = advance(WalkState(), [m("b", W), m("c", W)], verify=False, page_size=1000)
    assert done.done
    # THEN the next pull reads W's block from its start (red before: offset 1, the overlap at b)
    assert done.state.query() == ("2026-11-20T11:59:59+00:00", 0, False)
    # AND a, changed onto W since and sorted before them, is read; b and c are not again
    step = advance(done.state, [m("a", W), m("b", W), m("c", W)], verify=False, page_size=1000)
    assert ids(step.emit) == ["a"]
    assert AFTER not in step.emit[0]  # new on W: dated as Mailchimp dates it
    assert step.state.pos == 0


def test_a_member_changed_again_on_the_watermark_second_is_read_and_dated_after() -> None:
    # GIVEN a walk that delivered a and b on W
    state = advance(WalkState(), [m("a", W), m("b", W)], verify=False, page_size=1000).state
    # WHEN b changes again within W (same second), and later back to its first version
    changed = advance(state, [m("a", W), m("b", W, "unsubscribed")], verify=False, page_size=1000)
    back = advance(changed.state, [m("a", W), m("b", W)], verify=False, page_size=1000)
    # THEN each change is read (red before: b's id was in seen), dated after the versions delivered
    assert ids(changed.emit) == ["b"]
    assert changed.emit[0][AFTER] == 3
    assert ids(back.emit) == ["b"]
    assert back.emit[0][AFTER] == 4
    # AND unchanged, nothing is read again
    assert advance(back.state, [m("a", W), m("b", W)], verify=False, page_size=1000).emit == []


def test_the_overlap_check_fails_on_a_member_changed_again_on_its_second() -> None:
    state = WalkState(W, tags(m("a", W), m("b", W)), 2)
    step = advance(state, [m("b", W, "unsubscribed")], verify=True, page_size=1000)
    assert step.restarted


def test_a_version_3_cursor_reads_its_block_again_from_the_start() -> None:
    key = b"k" * 32
    old = json.dumps({"v": 3, "w": format_time(W), "seen": [id_tag(key, "b")], "pos": 2})
    state = WalkState.decode(old, key)
    # THEN it asks from the start of W's block, and its tag of b (an id, no version) hides nothing
    assert (state.w, state.pos, state.query()[1:]) == (W, 0, (0, False))
    step = advance(state, [m("a", W), m("b", W)], verify=False, page_size=1000)
    assert ids(step.emit) == ["a", "b"]
    assert AFTER not in step.emit[0]
    assert AFTER in step.emit[1]  # (b was delivered on W in some version: dated after it)
    assert json.loads(step.state.encode())["v"] == 4
