"""revR23: more than a page of HubSpot contacts whose stamps no reader can date.

rob23's promise (docs/architecture.md, "Every cursor moves past a record whatever its stamp says"):
a contact whose ``lastmodifieddate`` comes as junk never moves the watermark, and is returned and
quarantined once. HubSpot's incremental pull pages by that watermark (``after`` is always ``"0"``,
connectors/hubspot/_pull.py ``_query``): when a whole search page (200) held junk-stamped
contacts, the next query was the same as the last, the state did not move, and the pull stopped with
``PaginationError`` ("made no progress") on that run and on every run after: no contact changed
later was pulled again. 250 junk-stamped contacts were enough (150 were not: less than a page).
rob24: such a page was followed by search's ``paging.next.after``; fix20b walks it by record id (at
scale: tests/unit/connectors/hubspot/test_pull_junk_pages.py).
"""

from __future__ import annotations

import json

import httpx

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS
from tests.integration.test_attack13_hostile_values_on_the_wire import _accounted, tool
from tests.integration.test_rob23_odd_stamps_move_cursors import HER_TIME


def _junk_stamps_on_new_contacts(sandbox: object) -> None:
    route = sandbox.route  # type: ignore[attr-defined]

    def restamped(request: httpx.Request) -> httpx.Response:
        response = route(request)
        if "json" not in response.headers.get("content-type", ""):
            return response
        data = json.loads(response.read())
        for contact in data.get("results", []) if isinstance(data, dict) else []:
            properties = contact.get("properties") if isinstance(contact, dict) else None
            if isinstance(properties, dict) and str(properties.get("email", "")).startswith("new"):
                properties["lastmodifieddate"] = contact["updatedAt"] = "last Tuesday"
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, content=json.dumps(data).encode(), headers=headers)

    sandbox.route = restamped  # type: ignore[attr-defined]


def test_three_pages_of_junk_stamped_contacts_do_not_stop_the_pull() -> None:
    sandbox, connector = tool("hubspot", people=6)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        _accounted(pull_into_store(connector, store, state, settings=SETTINGS))
        added = sandbox.add_records(250, at=HER_TIME)
        _junk_stamps_on_new_contacts(sandbox)
        run = pull_into_store(connector, store, state, settings=SETTINGS)
        _accounted(run)
        assert run.quarantined >= len(added)
        quiet = pull_into_store(connector, store, state, settings=SETTINGS)
        assert (quiet.pulled, quiet.quarantined) == (0, 0)
    finally:
        connector.close()
