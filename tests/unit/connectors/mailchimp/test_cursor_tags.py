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
    assert json.loads(cursor)["v"] == 4
    assert not [i for i in _ids(added) if i in cursor]
    # AND the next pull returns none of them again
    assert [m for page in connector.pull(cursor) for m in page.records] == []


def test_a_version_1_or_2_cursor_is_a_walk_of_the_whole_audience_retiring_the_member_id_keys(
    sandbox: MailchimpSandbox, connector: MailchimpConnector
) -> None:
    *_, last = connector.pull(None)
    added = sandbox.add_records(3, at=T)
    cursor = list(connector.pull(last.cursor))[-1].cursor
    assert cursor is not None
    state = WalkState.decode(cursor, connector.cursor_tag_key)
    assert state.w is not None
    for version in (1, 2):
        # GIVEN a cursor an earlier version wrote (records then keyed by the member id; version 1
        # with the ids in clear)
        old = json.dumps({"v": version, "w": json.loads(cursor)["w"], "seen": sorted(_ids(added)), "pos": 1})
        # WHEN it is pulled from
        pages = list(connector.pull(old))
        # THEN the whole audience comes back, each member with a tombstone of its member-id key
        members = [m for p in pages for m in p.records]
        assert {f"member:{m['contact_id']}" for m in members} == sandbox.record_keys()
        drafts = [d for p in pages for d in connector.to_records(p)]
        gone = {d.source_id for d in drafts if d.deleted}
        assert gone == {m["id"] for m in members}
        # AND the cursor written last names none of them, and retires no more
        final = pages[-1].cursor or ""
        assert not [i for i in _ids(added) if i in final]
        assert "retire" not in json.loads(final)
        assert [d for p in connector.pull(final) for d in connector.to_records(p)] == []
