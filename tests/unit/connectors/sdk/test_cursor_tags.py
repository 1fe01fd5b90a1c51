"""A declared connector's pull cursor is stored in the table (``SYNC#<connector>``): it keeps keyed
tags of the record ids at its watermark, never the ids, so an erased person's ids do not stay there."""

from __future__ import annotations

import json

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
        # WHEN it is pulled from
        pages = list(connector.pull(json.dumps(old)))
    # THEN the records at its watermark are still known (none comes back), and the cursor written
    # next names none of them
    assert [r for p in pages for r in p.records] == []
    assert not [i for i in _ids(tied) if f'"{i}"' in (pages[-1].cursor or "")]
