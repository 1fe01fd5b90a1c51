"""The watermark walk on its own: overlap check, either reading of ``since``, range ends, size cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.mailchimp._cursor import SEEN_LIMIT, WalkState, advance, format_time

W = datetime(2026, 11, 20, 12, tzinfo=UTC)


def m(member_id: str, at: datetime) -> dict[str, str]:
    return {"id": member_id, "last_changed": format_time(at)}


def test_the_next_request_overlaps_one_member_and_asks_from_a_second_before_the_watermark() -> None:
    state = WalkState(W, ("a", "b"), 2)
    assert state.query() == ("2026-11-20T11:59:59+00:00", 1, True)
    assert WalkState().query() == (None, 0, False)


def test_a_failed_overlap_check_reads_the_block_again_without_repeating_members() -> None:
    # GIVEN a walk that read a and b on W, and a block that lost b (it changed): c moved to offset 1
    state = WalkState(W, ("a", "b"), 2)
    step = advance(state, [m("c", W), m("d", W)], verify=True, page_size=1000)
    # THEN the walk restarts the block from offset 0
    assert step.restarted
    assert step.emit == []
    assert step.state.pos == 0
    # AND reading it again emits only what it had not seen
    again = advance(step.state, [m("a", W), m("c", W), m("d", W)], verify=False, page_size=1000)
    assert [x["id"] for x in again.emit] == ["c", "d"]
    assert again.done


def test_members_older_than_the_watermark_are_skipped_if_since_is_read_as_at_or_after() -> None:
    before = W - timedelta(seconds=1)
    # GIVEN a walk that read a on W; the API also serves z, changed a second earlier, at offset 0
    state = WalkState(W, ("a",), 1)
    assert state.query()[1:] == (0, True)
    step = advance(state, [m("z", before), m("a", W), m("b", W)], verify=True, page_size=1000)
    # THEN z passes the overlap check (it is behind the watermark) and only b is new
    assert not step.restarted
    assert [x["id"] for x in step.emit] == ["b"]
    assert step.state.pos == 3  # positions of the query, the older member included


def test_a_range_walk_stops_at_its_upper_bound() -> None:
    upper = W + timedelta(seconds=5)
    step = advance(WalkState(), [m("a", W), m("b", upper)], verify=False, page_size=2, upper=upper)
    assert [x["id"] for x in step.emit] == ["a"]
    assert step.done
    assert step.state == WalkState(W, ("a",), 1)


def test_the_ids_kept_on_a_huge_tie_are_capped() -> None:
    page = [m(f"id{i:05d}", W) for i in range(SEEN_LIMIT + 500)]
    step = advance(WalkState(), page, verify=False, page_size=len(page) + 1)
    assert len(step.emit) == SEEN_LIMIT + 500
    assert len(step.state.seen) == SEEN_LIMIT
    assert step.state.seen[-1] == page[-1]["id"]  # the overlap check needs the last one read
    assert step.state.pos == SEEN_LIMIT + 500
