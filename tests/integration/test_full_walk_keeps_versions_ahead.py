"""A full walk keeps the versions it delivered above its handoff (``connectors.cursor_ahead``), as
the incremental walks do: HubSpot's full refresh (the list of contacts) and Shopify's bulk operation.

A record changed shortly before a full walk (HubSpot: at or after the pull's start less
``CLOCK_SKEW``, its handoff) or while it ran (Shopify: after the bulk operation started, in its
snapshot) is delivered by it; the next walk asks from the handoff (Shopify: when the operation
started) and pulls it again. Changed again on its second, it carries that second twice, and ingest
orders two versions of one time by content hash. Before, the full walks kept no ``ahead``: the first
change was kept for about half such records (not covered in docs/connectors.md). Contract-style, as
tests/integration/test_cursor18_watermark_programs.py:
each pull through ``core.sync.pull_into_store``, and the store must hold what a fresh full pull of
the tool holds.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from tests.integration.test_attack4_pages_change_while_paged import _assert_as_the_tool_holds, _connect
from tests.integration.test_attack11_sync_cursors import _fresh, _pull, _sandbox

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", ["hubspot", "shopify"])
def test_records_a_full_walk_delivered_above_its_handoff_and_changed_again_on_their_second_are_kept(
    name: str,
) -> None:
    sandbox = _sandbox(name)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    with contextlib.closing(_connect(name, sandbox)) as connector:
        if name == "shopify":
            connector.bulk_threshold = 1  # type: ignore[attr-defined]  # a full pull by bulk operation
        # GIVEN records changed on a second ten seconds ago, then a full walk of the tool
        changed = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=10)
        if name == "shopify":
            # (the operation started before the change and its snapshot holds it, as Shopify's may:
            # the sandbox snapshots when the operation starts, so its clock says it started earlier)
            sandbox.clock.set(changed - timedelta(seconds=20))
        keys = {k for k in sorted(sandbox.record_keys()) if not k.startswith("order:")}
        picked = set(sorted(keys)[:12])
        sandbox.touch(picked, at=changed)
        _pull(connector, store, state)
        # WHEN they change again on that second, and the next walk (incremental) runs
        sandbox.clock.set(None)
        sandbox.touch(picked, at=changed)
        _pull(connector, store, state)
        # THEN the store holds each in its last change, as a full pull of the tool holds it, and a
        # run with nothing changed writes nothing
        _assert_as_the_tool_holds(store, _fresh(name, sandbox))
        assert _pull(connector, store, state).ingest.written == 0
