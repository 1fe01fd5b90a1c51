"""The HubSpot pull cursor is stored in the table (``SYNC#hubspot``): it keeps keyed tags of the
contact ids at its watermark, never the ids, so an erased person's ids do not stay there."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from connectors.cursor_tags import id_tag
from connectors.hubspot import HubSpotConnector, HubSpotSandbox
from connectors.hubspot._cursor import IncrementalState, decode
from core.testing.clock import days_ago

#: Noon three days ago: after the sandbox's seeded times and, with the offsets the tests add, still
#: in the machine's past whatever its date (a time ahead of a pull's start is read as that start).
T = days_ago(3)


def _ids(keys: set[str]) -> set[str]:
    return {k.rsplit(":", 1)[1] for k in keys}


def test_the_cursor_after_an_incremental_pull_names_no_contact(
    sandbox: HubSpotSandbox, hubspot: HubSpotConnector
) -> None:
    # GIVEN a full pull, then three contacts changed on one millisecond, the newest
    cursor = list(hubspot.pull(None))[-1].cursor
    tied = sandbox.add_records(3, at=T + timedelta(seconds=5))
    # WHEN an incremental pull reads them
    cursor = list(hubspot.pull(cursor))[-1].cursor
    assert cursor is not None
    # THEN the cursor remembers them by tags only: no id of theirs in it, and none is the tie
    stored = json.loads(cursor)
    assert stored["v"] == 2
    assert not [i for i in _ids(tied) if i in cursor]
    # AND the next pull returns none of them again
    again = [r for page in hubspot.pull(cursor) for r in page.records]
    assert again == []


def test_a_full_pull_leaves_no_contact_id_in_its_last_cursor(
    sandbox: HubSpotSandbox, hubspot: HubSpotConnector
) -> None:
    # GIVEN contacts (the highest id is the one a full pull once kept as its tie)
    keys = sandbox.add_records(5, at=T)
    # WHEN they are pulled in full
    cursor = list(hubspot.pull(None))[-1].cursor
    # THEN the incremental cursor it hands on holds none of their ids
    assert not [i for i in _ids(keys) if f":{i}" in (cursor or "") or f'"{i}"' in (cursor or "")]
    assert [r for page in hubspot.pull(cursor) for r in page.records] == []


def test_a_version_1_cursor_with_ids_in_clear_is_read_and_re_keyed(
    sandbox: HubSpotSandbox, hubspot: HubSpotConnector
) -> None:
    # GIVEN a full pull, contacts changed on one millisecond, and the cursor an earlier version wrote
    # after reading them: their ids in clear
    list(hubspot.pull(None))
    at = T + timedelta(seconds=5)
    tied = sandbox.add_records(3, at=at)
    ms = int(at.timestamp() * 1000)
    old = json.dumps({"v": 1, "m": "inc", "w": ms, "t": None, "s": sorted(_ids(tied)), "p": "time"})
    # WHEN it is pulled from, and then from the cursor that pull writes
    pages = list(hubspot.pull(old))
    after = [r for p in hubspot.pull(pages[-1].cursor) for r in p.records]
    # THEN they come back once (its tags name ids, not the versions delivered: a repeat, never a
    # loss), the cursor written next names none of them, and the pull after returns none of them
    assert sorted(str(r["id"]) for p in pages for r in p.records) == sorted(_ids(tied))
    assert not [i for i in _ids(tied) if i in (pages[-1].cursor or "")]
    state = decode(pages[-1].cursor, hubspot.cursor_tag_key)
    assert isinstance(state, IncrementalState)
    assert after == []


def _three_pulled_on_one_millisecond_then_one_changed(
    sandbox: HubSpotSandbox, hubspot: HubSpotConnector
) -> tuple[str | None, list[str], datetime]:
    """After a full pull, three contacts changed on one millisecond and pulled, then the first of them
    changed again on it: the cursor to pull from, their keys, the millisecond."""
    cursor = list(hubspot.pull(None))[-1].cursor
    at = T + timedelta(seconds=5)
    tied = sorted(sandbox.add_records(3, at=at))
    cursor = list(hubspot.pull(cursor))[-1].cursor
    sandbox.touch({tied[0]}, at=at)
    return cursor, tied, at


def test_a_contact_changed_again_on_the_watermark_millisecond_comes_back_dated_after(
    sandbox: HubSpotSandbox, hubspot: HubSpotConnector
) -> None:
    # GIVEN a full pull, then three contacts changed on one millisecond and pulled
    # WHEN one of them changes again on that millisecond
    cursor, tied, at = _three_pulled_on_one_millisecond_then_one_changed(sandbox, hubspot)
    pages = list(hubspot.pull(cursor))
    # THEN the next pull returns it alone, dated after the three versions returned on it
    drafts = [d for p in pages for d in hubspot.to_records(p)]
    assert [d.source_id for d in drafts] == [tied[0].rsplit(":", 1)[1]]
    assert drafts[0].updated_at == at + timedelta(microseconds=4)
    # AND the pull after returns nothing
    assert [r for p in hubspot.pull(pages[-1].cursor) for r in p.records] == []


def test_seen_keeps_the_order_returned_and_a_pull_with_nothing_new_hands_the_cursor_back(
    sandbox: HubSpotSandbox, hubspot: HubSpotConnector
) -> None:
    # GIVEN three contacts pulled on one millisecond, then one of them changed on it and pulled
    cursor, tied, _ = _three_pulled_on_one_millisecond_then_one_changed(sandbox, hubspot)
    cursor = list(hubspot.pull(cursor))[-1].cursor
    # THEN the cursor keeps the four versions, the one returned last last
    state = decode(cursor, hubspot.cursor_tag_key)
    assert isinstance(state, IncrementalState)
    assert len(state.seen) == 4
    assert state.seen[-1][:8] == id_tag(hubspot.cursor_tag_key, tied[0].rsplit(":", 1)[1])[:8]
    # AND a pull with nothing new returns nothing and hands the same cursor back (a search that
    # repeats what it returned adds nothing to ``seen``)
    pages = list(hubspot.pull(cursor))
    assert [r for p in pages for r in p.records] == []
    assert pages[-1].cursor == cursor


def test_seen_is_bounded() -> None:
    from connectors.hubspot._pull import SEEN_LIMIT, _returned

    tags = [f"{n:08x}00000000" for n in range(SEEN_LIMIT + 50)]
    assert _returned((), tags) == tuple(tags[-SEEN_LIMIT:])
