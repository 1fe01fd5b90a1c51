"""HubSpot's full refresh resumed part-way, with the tool's clock behind ours, keeps the versions ahead.

A resumed full-refresh walk reads the tool's clock only from its first answer (``on_tool_clock``), so
the handoff that decides which listed versions are kept ``ahead`` must be taken after it, not before
the page loop: taken before, ``ahead`` was filtered on our clock while the watermark handed on rested
on the tool's earlier clock, and a record listed between the two, changed again on its second, kept
its old version (``[600-resumed]`` failed with ``kept in an old version``). Found by the review of
clock19 and tags19 on their merge.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from connectors import hubspot
from connectors.hubspot._cursor import FullState, decode
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from profilesync.testing.contract import FAR_FUTURE
from tests.integration.test_attack4_pages_change_while_paged import (
    SETTINGS,
    _assert_as_the_tool_holds,
    _connect,
)
from tests.integration.test_attack11_sync_cursors import _fresh


@pytest.mark.parametrize("max_pages", [None, 1], ids=["one_go", "resumed"])
@pytest.mark.parametrize("lag_s", [10, 600])
def test_full_refresh_keeps_ahead_on_the_tools_clock(max_pages: int | None, lag_s: int) -> None:
    sandbox = hubspot.PLUGIN.sandbox(people=250, seed=5)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    with contextlib.closing(_connect("hubspot", sandbox)) as connector:
        sandbox.add_records(1, at=FAR_FUTURE)  # the newest is stamped ahead: the hand-off is capped
        tool_now = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=lag_s)
        sandbox.clock.set(tool_now)
        changed = tool_now - timedelta(seconds=5)
        keys = sorted(k for k in sandbox.record_keys())
        picked = set(keys)
        sandbox.touch(picked, at=changed)
        for _ in range(20):
            pull_into_store(connector, store, state, settings=SETTINGS, max_pages=max_pages)
            cursor = state.get_sync_state("hubspot").cursor
            if max_pages is None or not isinstance(decode(cursor, connector.cursor_tag_key), FullState):
                break  # the full refresh is over
        sandbox.touch(picked, at=changed)  # changed again on that second
        pull_into_store(connector, store, state, settings=SETTINGS)
        _assert_as_the_tool_holds(store, _fresh("hubspot", sandbox))
