"""revR23: a cursor's memory of versions with no readable time (rob23's ``undated``) past its cap.

rob23's promise (connectors/sdk/_cursor.py ``StreamState.undated``, connectors/shopify/_cursor.py
``UNDATED_LIMIT``): a record whose stamp no reader can date is delivered once in each version, and
"beyond [the limit] the oldest come back once more (a repeat, quarantined again, never a loss)".

Red on main (5d6f051): the memory dropped its oldest tag for each new one, so with one more undated
version than it holds, a walk meeting them in the same order evicted each just before it was met
again: all 1,001 (not the one past the limit) came back on every walk, and every one was
quarantined and counted again each time. Fixed: a walk keeps what it met (a new version takes the
place of the oldest one not met on this walk; none left: it is not remembered), so only the versions
past the limit come back, and a version no walk meets any more still gives its place to a new one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.sdk._cursor import SEEN_LIMIT, PullCursor, StreamState, accept
from connectors.shopify._cursor import UNDATED_LIMIT
from connectors.shopify._cursor import PullState as ShopifyState


def _key_point(record: Mapping[str, Any]) -> tuple[str, datetime | None]:
    return f"tag-{record['id']}", None  # (a stamp no reader dates: "last Tuesday")


def _walk(state: StreamState, ids: range) -> tuple[int, StreamState]:
    """One walk over undated records in pages of 100, through the cursor's text as a pull keeps it."""
    delivered, listed = 0, list(ids)
    for start in range(0, len(listed), 100):
        emitted, state = accept(state, [{"id": i} for i in listed[start : start + 100]], _key_point)
        delivered += len(emitted)
        state = PullCursor.decode(PullCursor({"s": state}).encode(), "t").state("s")
    return delivered, state.finished()


def test_sdk_only_the_undated_versions_past_the_limit_come_back() -> None:
    past = 7
    state = StreamState(since=datetime(2026, 1, 1, tzinfo=UTC))
    first, state = _walk(state, range(SEEN_LIMIT + past))
    assert first == SEEN_LIMIT + past
    # every later walk meets the same versions: only those past the memory are delivered again
    for _ in range(2):
        again, state = _walk(state, range(SEEN_LIMIT + past))
        assert again == past


def test_sdk_a_version_no_walk_meets_gives_its_place_to_a_new_one() -> None:
    state = StreamState()
    _, state = _walk(state, range(SEEN_LIMIT))
    # the vendor fixed those stamps (or they changed): a thousand other undated versions come
    _, state = _walk(state, range(SEEN_LIMIT, 2 * SEEN_LIMIT))
    again, state = _walk(state, range(SEEN_LIMIT, 2 * SEEN_LIMIT))
    assert again == 0
    # and one remembered but changed (another version, another tag) is delivered
    emitted, _ = accept(state, [{"id": "changed"}], _key_point)
    assert len(emitted) == 1


def test_sdk_a_cursor_of_the_previous_release_reads() -> None:
    old = {"v": 2, "active": None, "streams": {"s": {"w": None, "skip": [], "hi": None, "at_hi": []}}}
    state = PullCursor.decode(json.dumps(old), "t").state("s")
    emitted, state = accept(state, [{"id": 1}], _key_point)
    assert len(emitted) == 1
    assert accept(state, [{"id": 1}], _key_point)[0] == []


def _shopify_walk(state: ShopifyState, ids: range) -> tuple[int, ShopifyState]:
    stream = state.streams["customers"]
    delivered = 0
    for i in ids:
        if not stream.undated_again(f"tag-{i}"):
            delivered += 1
        if i % 100 == 99:  # (a page: the cursor as stored)
            state = ShopifyState.decode(state.encode(), b"k")
            stream = state.streams["customers"]
    state.next_run()
    return delivered, ShopifyState.decode(state.encode(), b"k")


def test_shopify_only_the_undated_versions_past_the_limit_come_back() -> None:
    past = 7
    state = ShopifyState()
    first, state = _shopify_walk(state, range(UNDATED_LIMIT + past))
    assert first == UNDATED_LIMIT + past
    for _ in range(2):
        again, state = _shopify_walk(state, range(UNDATED_LIMIT + past))
        assert again == past
