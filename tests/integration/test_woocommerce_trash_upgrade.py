"""The WooCommerce trash walk after an upgrade: a cursor written before it has no state for it.

docs/woocommerce.md ("What it reads", upgrade): the first pull from such a cursor reads the whole
trash once, so an order trashed before the upgrade (which the earlier walks never listed, and which
is older than every watermark) arrives as cancelled.
"""

from __future__ import annotations

import json
from datetime import timedelta

from connectors.woocommerce._declaration import TRASHED_ORDER
from connectors.woocommerce._mapping import order_status
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack13_hostile_values_on_the_wire import tool
from tests.integration.test_attack15_woocommerce_subscriber_role import _subscriber


def test_the_first_pull_from_a_cursor_without_the_trash_walk_reads_the_whole_trash() -> None:
    sandbox, connector = tool("woocommerce", people=6)
    _, order = _subscriber(sandbox, "customer")
    try:
        # GIVEN an order trashed long before the last sync
        with sandbox.lock:
            sandbox.shop.orders[order]["status"] = "trash"
            sandbox.shop.orders[order]["date_modified"] = T_CHANGES - timedelta(days=30)
        # AND the cursor of that sync, as a version without the trash walk wrote it
        cursor = [page.cursor for page in connector.pull(None)][-1]
        assert cursor is not None
        data = json.loads(cursor)
        del data["streams"]["orders_trash"]
        # WHEN the upgraded connector pulls from it
        pages = list(connector.pull(json.dumps(data)))
    finally:
        connector.close()
    # THEN the trash walk reads the trashed order, which maps to a cancelled order
    trashed = [r for p in pages if p.object_type == TRASHED_ORDER for r in p.records]
    assert [r["id"] for r in trashed] == [order]
    assert order_status(trashed[0]) == "cancelled"
