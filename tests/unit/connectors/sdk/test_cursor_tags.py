"""A declared connector's pull cursor is stored in the table (``SYNC#<connector>``): it keeps keyed
tags of the record versions at its watermark (id and content), never the ids, so an erased person's
ids do not stay there, and a record changed again within the watermark second comes back."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

from connectors.cursor_tags import tagged
from connectors.sdk import PullCursor, RestConnector
from profilesync.testing.contract import T_CHANGES

from .conftest import TinySandbox, declaration


def _ids(keys: set[str]) -> set[str]:
    return {k.rsplit(":", 1)[1] for k in keys}


def test_a_cursor_names_no_record_at_its_watermark_and_still_skips_them() -> None:
    # GIVEN records stamped with one second, the newest of the account
    sandbox = TinySandbox(people=5)
    with RestConnector(declaration(page_size=7), sandbox.settings()) as connector:
        cursor = list(connector.pull(None))[-1].cursor
        tied = sandbox.add_records(12, at=T_CHANGES)
        # WHEN an incremental pull reads them
        cursor = list(connector.pull(cursor))[-1].cursor
        assert cursor is not None
        # THEN the cursor holds none of their ids, in any stream's state
        stored = json.loads(cursor)
        assert stored["v"] == 2
        assert not [i for i in _ids(tied) if f'"{i}"' in cursor]
        # AND the next pull (asking from that second again) returns none of them a second time
        again = [r for page in connector.pull(cursor) for r in page.records]
    assert again == []


def test_a_version_1_cursor_with_ids_in_clear_is_read_and_re_keyed() -> None:
    sandbox = TinySandbox(people=5)
    with RestConnector(declaration(page_size=7), sandbox.settings()) as connector:
        cursor = list(connector.pull(None))[-1].cursor
        tied = sandbox.add_records(3, at=T_CHANGES)
        assert cursor is not None
        cursor = list(connector.pull(cursor))[-1].cursor
        assert cursor is not None
        # GIVEN the cursor an earlier version would have written: the same state, the ids in clear
        state = PullCursor.decode(cursor, "tiny", connector.cursor_tag_key)
        people = state.streams["people"]
        assert people.since is not None
        old = {
            "v": 1,
            "active": None,
            "streams": {
                "people": {"w": people.since.isoformat(), "skip": sorted(_ids(tied)), "hi": None, "at_hi": []}
            },
        }
        # WHEN it is pulled from, and then from the cursor that pull writes
        pages = list(connector.pull(json.dumps(old)))
        after = list(connector.pull(pages[-1].cursor))
    # THEN the records at its watermark come back once (its tags name ids, not the versions
    # delivered: a repeat, never a loss), the cursor written next names none of them, and the pull
    # after it returns none of them again
    assert sorted(str(r["id"]) for p in pages for r in p.records) == sorted(_ids(tied))
    assert not [i for i in _ids(tied) if f'"{i}"' in (pages[-1].cursor or "")]
    assert [r for p in after for r in p.records] == []


def test_a_record_changed_again_on_the_watermark_second_comes_back_and_only_it() -> None:
    # GIVEN records stamped with one second, pulled: the cursor's watermark is that second
    sandbox = TinySandbox(people=5)
    with RestConnector(declaration(page_size=7), sandbox.settings()) as connector:
        cursor = list(connector.pull(None))[-1].cursor
        tied = sorted(sandbox.add_records(4, at=T_CHANGES))
        cursor = list(connector.pull(cursor))[-1].cursor
        # WHEN one of them changes again within that second
        sandbox.touch({tied[0]}, at=T_CHANGES)
        pages = list(connector.pull(cursor))
        quiet = list(connector.pull(pages[-1].cursor))
    # THEN the next pull returns it, in its new version, and nothing else; the one after returns nothing
    assert [str(r["id"]) for p in pages for r in p.records] == [tied[0].rsplit(":", 1)[1]]
    assert [r for p in quiet for r in p.records] == []


def test_a_cursor_whose_tags_name_ids_alone_repeats_its_second_once_and_goes_on() -> None:
    # GIVEN a cursor as the version before this one wrote it: version 2, tags of the ids alone
    sandbox = TinySandbox(people=5)
    with RestConnector(declaration(page_size=7), sandbox.settings()) as connector:
        cursor = list(connector.pull(None))[-1].cursor
        tied = sorted(sandbox.add_records(3, at=T_CHANGES))
        cursor = list(connector.pull(cursor))[-1].cursor
        state = PullCursor.decode(cursor, "tiny", connector.cursor_tag_key)
        people = state.streams["people"]
        ids = sorted(_ids(set(tied)))
        old = PullCursor({"people": replace(people, skip=tagged(connector.cursor_tag_key, ids))}).encode()
        # WHEN it is pulled from after one of the records changed again on its second, and once more
        sandbox.touch({tied[1]}, at=T_CHANGES)
        pages = list(connector.pull(old))
        quiet = list(connector.pull(pages[-1].cursor))
    # THEN the records of its watermark second come back once, the changed one in its new version,
    # and the pull after returns nothing
    records = [r for p in pages for r in p.records]
    assert sorted(str(r["id"]) for r in records) == ids
    assert [r for p in quiet for r in p.records] == []


def test_a_record_changed_back_to_a_version_delivered_on_the_second_comes_back() -> None:
    # GIVEN a record delivered on the watermark second, changed within it and pulled again
    sandbox = TinySandbox(people=5)
    with RestConnector(declaration(page_size=7), sandbox.settings()) as connector:
        cursor = list(connector.pull(None))[-1].cursor
        (key,) = sandbox.add_records(1, at=T_CHANGES)
        record = sandbox.records[key.rsplit(":", 1)[1]]
        first = record["last_name"]
        cursor = list(connector.pull(cursor))[-1].cursor
        sandbox.touch({key}, at=T_CHANGES)
        cursor = list(connector.pull(cursor))[-1].cursor
        # WHEN it is changed back to its first version within that second
        with sandbox.lock:
            record["last_name"] = first
        pages = list(connector.pull(cursor))
        quiet = list(connector.pull(pages[-1].cursor))
    # THEN the next pull returns it in that version, dated after both delivered on the second, and the
    # pull after returns nothing
    drafts = [d for p in pages for d in connector.to_records(p)]
    assert [(d.source_id, d.traits.get("last_name")) for d in drafts] == [(key.rsplit(":", 1)[1], first)]
    assert drafts[0].updated_at > T_CHANGES + timedelta(microseconds=2)
    assert [r for p in quiet for r in p.records] == []
