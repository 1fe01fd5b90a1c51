"""attack13: a vendor answers with one odd value, and every sync goes on, on every built-in connector.

Each connector's sandbox serves its objects as the vendor does; between it and the connector the
answer's JSON text is rewritten so that one person's email or name (a record added to the tool,
before the first run or between two runs) holds a value a vendor's JSON can carry: a lone UTF-16 surrogate
(``"\\ud800"``, which JavaScript's ``JSON.stringify`` writes for a string cut in the middle of an
emoji), a NUL, 10,000 characters, right-to-left and combining marks. Promises (docs/architecture.md
"Nothing is lost"): the run goes on (no exception), the odd record is quarantined with a reason and
counted (``pulled = normalised + quarantined``), every other record of the tool is in a profile, and
the next run writes nothing; a person whose only odd value is in her name is in a profile, on the
three stores (an odd name is no reason to drop a record).

Found and fixed (red before on six of the seven connectors, green on Stripe): a lone surrogate
anywhere in a raw object stopped the pull for good. ``connectors/cursor_tags.py`` ``content_digest``
encoded the object's canonical JSON with ``str.encode()`` (strict UTF-8), which raises
``UnicodeEncodeError`` on a surrogate; every connector that tags the versions it delivers calls it
before mapping (HubSpot ``_pull._tag``, Mailchimp ``_cursor.tag``, Shopify ``_pull._fresh``, and
Klaviyo, Salesforce and WooCommerce through ``connectors/sdk/_connector.py`` ``key_point``), so every
run raised at that page and the cursor never moved past it. Digests now encode with
``surrogatepass`` (the same bytes for every well-formed text, so the tags existing cursors hold are
unchanged).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
import pytest

from core.connector import Connector
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import PullReport, pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import PLUGINS, SETTINGS, _connect, _held
from tests.integration.test_erasure_attacks import STORES

#: Values a vendor's JSON carries in a text field, by what they are.
HOSTILE: dict[str, str] = {
    "lone surrogate": "\ud800",
    "NUL": "\x00",
    "10k characters": "x" * 10_000,
    "RTL override and combining marks": "\u202ee\u0301\u0336",
}
#: The email the sandboxes give the first person ``add_records`` makes.
MARKED = "new1@example.com"


def _rewriting(sandbox: Any, old: str, new: str) -> None:
    """Between the sandbox and its clients, ``old`` in an answer reads ``new``: every JSON string
    ``old``, or in a CSV answer (Salesforce's Bulk API) the text (a lone surrogate as the bytes a
    UTF-16 to UTF-8 conversion that lets it through writes)."""
    route = sandbox.route
    json_old, json_new = json.dumps(old).encode(), json.dumps(new).encode()
    text_old, text_new = old.encode(), new.encode("utf-8", "surrogatepass")

    def rewritten(request: httpx.Request) -> httpx.Response:
        response = route(request)
        body = response.read()
        is_json = "json" in response.headers.get("content-type", "")
        before, after = (json_old, json_new) if is_json else (text_old, text_new)
        if before not in body:
            return response
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        return httpx.Response(response.status_code, content=body.replace(before, after), headers=headers)

    sandbox.route = rewritten


def tool(name: str, people: int) -> tuple[Any, Connector]:
    """A seeded sandbox of the connector ``name`` (with the options attack4 runs it at), and a
    connector to it whose retries never sleep."""
    plugin, options = PLUGINS[name]
    assert plugin.sandbox is not None
    sandbox = plugin.sandbox(people=people, seed=5, **options)
    return sandbox, _connect(name, sandbox)


def synced_past_it(
    sandbox: Any,
    connector: Connector,
    store: InMemoryProfileStore,
    state: InMemorySyncStateStore,
    added: set[str],
) -> None:
    """A sync of a tool whose answers carry one odd record (of the ``added`` ones): the record is in a
    profile or quarantined with a reason, and counted; every other record of the tool is in a
    profile; and the cursor moved: the next run writes nothing."""
    run = pull_into_store(connector, store, state, settings=SETTINGS)
    _accounted(run)
    assert sum(run.quarantine_reasons.values()) == run.quarantined
    held = {k.split(":", 1)[1] for k in _held(store)}
    assert run.quarantined >= 1 or added <= held
    assert held - added == sandbox.record_keys() - added
    quiet = pull_into_store(connector, store, state, settings=SETTINGS)
    _accounted(quiet)
    assert (quiet.ingest.written, quiet.ingest.new_customers) == (0, 0)


def _accounted(report: PullReport) -> None:
    retired = 0 if report.retired is None else report.retired.received
    assert report.pulled == report.normalised + report.quarantined + report.suppressed_quarantined + retired


@pytest.mark.parametrize("when", ["before the first run", "between two runs"])
@pytest.mark.parametrize("value", sorted(HOSTILE))
@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_one_odd_email_on_the_wire_never_stops_a_run(name: str, value: str, when: str) -> None:
    sandbox, connector = tool(name, people=8)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    odd = MARKED.replace("@", HOSTILE[value] + "@")
    try:
        if when == "between two runs":
            # GIVEN a synced tool
            _accounted(pull_into_store(connector, store, state, settings=SETTINGS))
        # AND a person added to it whose email the vendor's answers carry with the odd value
        added = sandbox.add_records(1, at=T_CHANGES + timedelta(seconds=5))
        _rewriting(sandbox, MARKED, odd)
        # WHEN it is synced THEN the run goes on, and the next one writes nothing
        synced_past_it(sandbox, connector, store, state, added)
    finally:
        connector.close()


#: The first name (Stripe: the name) of the first person each sandbox's ``add_records`` makes.
ADDED_NAME: dict[str, str] = {
    "hubspot": "Bea",
    "klaviyo": "New",
    "mailchimp": "New",
    "salesforce": "New",
    "shopify": "Sam",
    "stripe": "New Person",
    "woocommerce": "New",
}


@pytest.mark.parametrize("store", sorted(STORES))
@pytest.mark.parametrize("value", sorted(HOSTILE))
@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_a_person_whose_name_holds_an_odd_value_is_in_a_profile(name: str, value: str, store: str) -> None:
    sandbox, connector = tool(name, people=4)
    with STORES[store]() as stores:
        try:
            # GIVEN a synced tool, and people added to it whose name the vendor's answers carry with
            # the odd value (the added person; anyone else of that name too)
            pull_into_store(connector, stores.profiles, stores.sync_state, settings=SETTINGS)
            added = sandbox.add_records(1, at=T_CHANGES + timedelta(seconds=5))
            _rewriting(sandbox, ADDED_NAME[name], ADDED_NAME[name] + HOSTILE[value])
            # WHEN it is synced, twice
            run = pull_into_store(connector, stores.profiles, stores.sync_state, settings=SETTINGS)
            quiet = pull_into_store(connector, stores.profiles, stores.sync_state, settings=SETTINGS)
            # THEN every record of the tool is in a profile (an odd name is no reason to drop one)
            _accounted(run)
            assert (run.quarantined, run.normalised) == (0, run.pulled)
            assert run.pulled >= len(added)
            keys = [f"source#{r.key}" for p in stores.profiles.iter_profiles() for r in p.sources]
            held = {k.split(":", 1)[1] for k in stores.profiles.get_owners(keys)}
            assert held == sandbox.record_keys()
            # AND the next run writes nothing
            assert (quiet.ingest.written, quiet.ingest.new_customers) == (0, 0)
        finally:
            connector.close()
