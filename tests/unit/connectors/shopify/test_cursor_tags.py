"""The Shopify pull cursor is stored in the table: it keeps tags of record ids, never the ids."""

from __future__ import annotations

import json

from connectors.shopify._cursor import PullState, id_tag, tag_key

KEY = tag_key("demo-shop.myshopify.com", "shpat_token")
ORDER = "gid://shopify/Order/5912345678901"
AT = "2026-11-30T10:00:00Z"


def test_a_cursor_holds_tags_of_the_records_at_its_watermark_and_no_id() -> None:
    # GIVEN a walk that delivered one order at the watermark second
    state = PullState()
    stream = state.streams["orders"]
    stream.delivered(id_tag(KEY, ORDER), AT)
    stream.finish_walk()
    # WHEN the cursor is encoded and read back
    cursor = state.encode()
    back = PullState.decode(cursor, KEY).streams["orders"]
    # THEN the order is recognised as delivered at that second, and its id is nowhere in the cursor
    assert back.already_delivered(id_tag(KEY, ORDER), AT)
    assert not back.already_delivered(id_tag(KEY, ORDER), "2026-11-30T10:00:01Z")
    assert "5912345678901" not in cursor


def test_tags_depend_on_the_token_so_the_table_alone_names_nobody() -> None:
    other = tag_key("demo-shop.myshopify.com", "shpat_rotated")
    assert id_tag(KEY, ORDER) != id_tag(other, ORDER)
    assert id_tag(KEY, ORDER) != id_tag(KEY, "gid://shopify/Order/5912345678902")


def test_a_version_1_cursor_with_ids_in_clear_is_read_and_re_keyed() -> None:
    # GIVEN a cursor an earlier version wrote, with the ids in clear
    stream = {
        "since": AT,
        "skip": {ORDER: AT},
        "after": None,
        "walked": 0,
        "high": AT,
        "high_ids": {ORDER: AT},
        "mode": None,
        "bulk": None,
    }
    old = json.dumps({"v": 1, "phase": 2, "customers": dict(stream, skip={}, high_ids={}), "orders": stream})
    # WHEN it is read
    state = PullState.decode(old, KEY)
    # THEN the order's id is re-keyed as a tag (of the id alone: a pull delivers the watermark's
    # records once more, and keeps the versions it delivered), and the cursor written next names it not
    assert state.streams["orders"].already_delivered(id_tag(KEY, ORDER), AT)
    assert "5912345678901" not in state.encode()
