"""rob23: a record whose modification stamp comes as epoch digits or as junk is pulled once, not on
every run (attack13's leftover).

Between the sandbox and the connector, the stamp of one person's objects (her customer, her order)
is rewritten: as the same moment in epoch seconds or milliseconds (text or a JSON number: a plugin
or a proxy that re-serialises dates), or as text no reader can date. Promises: the first run
accounts for her (an epoch stamp is read as the moment it names and she is in a profile; a junk stamp
quarantines her record with its reason), and the next run pulls nothing and quarantines nothing again:
the cursor moves past her either way.

Red before (rob23): on WooCommerce, Shopify and Klaviyo every case came back on every run (their
cursors read ISO text only and returned an undated record on every walk), the junk ones quarantined
and counted again each time; on HubSpot epoch seconds (read as milliseconds by the cursor, as
seconds by normalise) and junk likewise; Mailchimp quarantined a member stamped with a JSON number
("updated_at missing") but did not pull it again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS
from tests.integration.test_attack13_hostile_values_on_the_wire import _accounted, tool
from tests.integration.wire_rewrites import holds_marked, rewrite_marked_answers

#: The fields each connector reads a record's modification time from.
STAMPS: dict[str, tuple[str, ...]] = {
    "woocommerce": ("date_modified_gmt", "date_created_gmt"),
    "shopify": ("updatedAt",),
    "klaviyo": ("updated",),
    "hubspot": ("updatedAt", "lastmodifieddate"),
    "mailchimp": ("last_changed",),
}
HER_TIME = T_CHANGES + timedelta(seconds=5)
_SECONDS = int(HER_TIME.timestamp())
ODD: dict[str, Any] = {
    "epoch seconds as text": str(_SECONDS),
    "epoch seconds as a number": _SECONDS,
    "epoch milliseconds as text": str(_SECONDS * 1000),
    "junk text": "last Tuesday",
    "an object": {"date": None},
}
READABLE = {"epoch seconds as text", "epoch seconds as a number", "epoch milliseconds as text"}


def _restamp(value: Any, fields: tuple[str, ...], stamp: Any) -> None:
    """Every stamp field of every object with an id that holds her email, rewritten to ``stamp``."""
    if isinstance(value, dict):
        if {"id"} & value.keys() and holds_marked(value):
            for holder in (value, value.get("attributes"), value.get("properties")):
                for name in fields if isinstance(holder, dict) else ():
                    if name in holder:
                        holder[name] = stamp
        for child in value.values():
            _restamp(child, fields, stamp)
    elif isinstance(value, list):
        for child in value:
            _restamp(child, fields, stamp)


def _stamping(sandbox: Any, fields: tuple[str, ...], stamp: Any) -> None:
    rewrite_marked_answers(sandbox, lambda data: _restamp(data, fields, stamp))


@pytest.mark.parametrize("odd", sorted(ODD))
@pytest.mark.parametrize("name", sorted(STAMPS))
def test_a_record_with_an_odd_stamp_is_pulled_once(name: str, odd: str) -> None:
    sandbox, connector = tool(name, people=6)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        # GIVEN a synced tool, and a person added to it whose objects' stamps the wire carries oddly
        _accounted(pull_into_store(connector, store, state, settings=SETTINGS))
        added = sandbox.add_records(1, at=HER_TIME)
        _stamping(sandbox, STAMPS[name], ODD[odd])
        # WHEN it is synced
        run = pull_into_store(connector, store, state, settings=SETTINGS)
        # THEN her records are accounted for: in a profile when the stamp names a moment, else
        # quarantined with the reason
        _accounted(run)
        assert run.pulled >= len(added)
        if odd in READABLE:
            assert run.quarantined == 0, run.quarantine_reasons
        else:
            assert run.quarantined >= 1
            assert any("updated_at" in reason for reason in run.quarantine_reasons), run.quarantine_reasons
        # AND the next run pulls nothing again and counts nothing again
        quiet = pull_into_store(connector, store, state, settings=SETTINGS)
        assert (quiet.pulled, quiet.quarantined) == (0, 0), (quiet.pulled, quiet.quarantine_reasons)
        assert (quiet.ingest.written, quiet.ingest.new_customers) == (0, 0)
    finally:
        connector.close()
