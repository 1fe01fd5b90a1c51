"""revR23: more junk-stamped Mailchimp members than its cursor remembers.

rob23's promise (docs/architecture.md): a record whose stamp no reader can date is delivered and
quarantined once in each version; past the cursor's memory only those beyond it come back. 1,200 new
members are stamped ``"last Tuesday"`` on the wire. Mailchimp kept undated members among the
versions of its watermark block (connectors/mailchimp/_cursor.py ``advance``): the run after the one
that quarantined them pulled and quarantined all 1,200 again, and every run after. rob24: they are
remembered apart (``WalkState.undated``, connectors.cursor_undated), and only those past it come back.
(WooCommerce, Klaviyo and Shopify are covered by tests/unit/connectors/sdk/test_revr23_undated_memory.py.)
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS
from tests.integration.test_attack13_hostile_values_on_the_wire import _accounted, tool
from tests.integration.test_rob23_odd_stamps_move_cursors import HER_TIME, STAMPS

ADDED, PAST = 1200, 200


def _junk(value: Any, fields: tuple[str, ...]) -> None:
    """Every stamp of 2026 or later (the records added after the first run) as junk."""
    if isinstance(value, dict):
        if "id" in value:
            for holder in (value, value.get("attributes"), value.get("properties")):
                for name in fields if isinstance(holder, dict) else ():
                    stamp = holder.get(name)
                    if isinstance(stamp, str | int) and str(stamp)[:4] >= "2026":
                        holder[name] = "last Tuesday"
        for child in value.values():
            _junk(child, fields)
    elif isinstance(value, list):
        for child in value:
            _junk(child, fields)


def _junk_stamps(sandbox: Any, fields: tuple[str, ...]) -> None:
    route = sandbox.route

    def restamped(request: httpx.Request) -> httpx.Response:
        response = route(request)
        if "json" not in response.headers.get("content-type", ""):
            return response
        data = json.loads(response.read())
        _junk(data, fields)
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, content=json.dumps(data).encode(), headers=headers)

    sandbox.route = restamped


def test_mailchimp_only_the_junk_stamped_members_past_the_memory_come_back() -> None:
    name = "mailchimp"
    sandbox, connector = tool(name, people=6)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        _accounted(pull_into_store(connector, store, state, settings=SETTINGS))
        sandbox.add_records(ADDED, at=HER_TIME)
        _junk_stamps(sandbox, STAMPS[name])
        first = pull_into_store(connector, store, state, settings=SETTINGS)
        _accounted(first)
        assert first.quarantined >= ADDED
        again = pull_into_store(connector, store, state, settings=SETTINGS)
        assert again.quarantined <= PAST + 2, (again.pulled, again.quarantined)
    finally:
        connector.close()
