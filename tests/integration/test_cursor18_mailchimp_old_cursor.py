"""mail18: a Mailchimp cursor of version 3 (tags of the ids on its watermark second, and an offset
past them) continues under the cursor that keeps versions and ends a walk at offset 0, losing
nothing and writing nothing again; and a watermark second holding more members than the cursor
keeps versions of loses none that joins it (connectors/mailchimp/_cursor.py)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from connectors.cursor_tags import id_tag
from connectors.mailchimp import MailchimpConnector
from connectors.mailchimp._cursor import SEEN_LIMIT
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import _assert_as_the_tool_holds, _connect, _held
from tests.integration.test_attack11_sync_cursors import _fresh, _pull, _sandbox

pytestmark = pytest.mark.slow


def test_a_version_3_cursor_continues_without_losing_or_writing_anything_again() -> None:
    sandbox = _sandbox("mailchimp")
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect("mailchimp", sandbox)
    assert isinstance(connector, MailchimpConnector)
    try:
        # GIVEN a synced audience, two of whose members changed on one second and were synced
        _pull(connector, store, state)
        keys = sorted(k.split(":", 1)[1] for k in _held(store))
        at = T_CHANGES.replace(microsecond=0) + timedelta(seconds=30)
        sandbox.touch({keys[1], keys[2]}, at=at)
        _pull(connector, store, state)
        # AND the cursor the version before wrote there: tags of their ids, the offset past them
        stamp = json.loads(state.get_sync_state("mailchimp").cursor or "")["w"]
        members = sandbox.members.values()
        on_w = sorted((m for m in members if m["last_changed"] == stamp), key=lambda m: m["web_id"])
        assert len(on_w) == 2
        seen = [id_tag(connector.cursor_tag_key, m["id"]) for m in on_w]
        old = json.dumps({"v": 3, "w": stamp, "seen": seen, "pos": len(seen)})
        state.put_sync_state(replace(state.get_sync_state("mailchimp"), cursor=old))
        # WHEN nothing changed, it is synced
        quiet = _pull(connector, store, state)
        # THEN nothing is written again, and the cursor it writes is one of versions
        assert (quiet.ingest.written, quiet.ingest.new_customers) == (0, 0)
        assert json.loads(state.get_sync_state("mailchimp").cursor or "")["v"] == 4
        # AND from the old cursor again, a member changed onto its second since is pulled, alone
        state.put_sync_state(replace(state.get_sync_state("mailchimp"), cursor=old))
        sandbox.touch({keys[0]}, at=at)
        report = _pull(connector, store, state)
        assert (report.ingest.written, report.ingest.new_customers) == (1, 0)
        _assert_as_the_tool_holds(store, _fresh("mailchimp", sandbox))
        again = _pull(connector, store, state)
        assert (again.ingest.written, again.ingest.new_customers) == (0, 0)
    finally:
        connector.close()


def test_a_member_changed_onto_a_watermark_second_larger_than_the_cursor_is_pulled() -> None:
    sandbox = _sandbox("mailchimp")
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect("mailchimp", sandbox)
    try:
        # GIVEN a synced audience into which more members were imported on one second than the
        # cursor keeps versions of, and synced
        _pull(connector, store, state)
        keys = sorted(k.split(":", 1)[1] for k in _held(store))
        at = T_CHANGES.replace(microsecond=0) + timedelta(seconds=30)
        sandbox.add_records(SEEN_LIMIT + 200, at=at)
        _pull(connector, store, state)
        # WHEN a member older than them (sorted before them on that second) changes on it
        sandbox.touch({keys[0]}, at=at)
        _pull(connector, store, state)
        # THEN it is pulled (red before: the cursor's offset stepped over it)
        _assert_as_the_tool_holds(store, _fresh("mailchimp", sandbox))
        quiet = _pull(connector, store, state)
        assert (quiet.ingest.written, quiet.ingest.new_customers) == (0, 0)
    finally:
        connector.close()
