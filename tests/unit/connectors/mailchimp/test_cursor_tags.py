"""The Mailchimp pull cursor is stored in the table (``SYNC#mailchimp``) and a member id is the MD5 of
the member's address: the cursor keeps keyed tags of the ids at its watermark, never the ids."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from connectors.mailchimp import MailchimpConnector, MailchimpSandbox, WalkState

T = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


def _ids(keys: set[str]) -> set[str]:
    return {k.rsplit(":", 1)[1] for k in keys}


def test_the_cursor_names_no_member_at_its_watermark_and_still_skips_them(
    sandbox: MailchimpSandbox, connector: MailchimpConnector
) -> None:
    # GIVEN members changed on one second, the newest of the audience, read by an incremental pull
    *_, last = connector.pull(None)
    added = sandbox.add_records(5, at=T)
    cursor = list(connector.pull(last.cursor))[-1].cursor
    assert cursor is not None
    # THEN the cursor holds none of their ids (the MD5 of their addresses)
    assert json.loads(cursor)["v"] == 2
    assert not [i for i in _ids(added) if i in cursor]
    # AND the next pull returns none of them again
    assert [m for page in connector.pull(cursor) for m in page.records] == []


def test_a_version_1_cursor_with_ids_in_clear_is_read_and_re_keyed(
    sandbox: MailchimpSandbox, connector: MailchimpConnector
) -> None:
    *_, last = connector.pull(None)
    added = sandbox.add_records(3, at=T)
    cursor = list(connector.pull(last.cursor))[-1].cursor
    assert cursor is not None
    state = WalkState.decode(cursor, connector.cursor_tag_key)
    assert state.w is not None
    # GIVEN the cursor an earlier version wrote after reading them: their ids in clear
    old = json.dumps({"v": 1, "w": json.loads(cursor)["w"], "seen": sorted(_ids(added)), "pos": state.pos})
    # WHEN it is pulled from
    pages = list(connector.pull(old))
    # THEN they are still known (none comes back), and the cursor written next names none of them
    assert [m for p in pages for m in p.records] == []
    assert not [i for i in _ids(added) if i in (pages[-1].cursor or "")]
