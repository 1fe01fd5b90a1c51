"""attack15: a WooCommerce order moved to the trash after it was synced.

"Move to Trash" is how a shop removes an order in WooCommerce's admin (a test order, a fraudulent
one, a duplicate); the REST API does the same on ``DELETE /wp-json/wc/v3/orders/<id>`` without
``force`` (woocommerce-rest-api-docs, "Delete an order": ``force`` "Use true whether to permanently
delete the order, Default is false"). The order keeps its id with status ``trash`` (restorable; the
trash is emptied after 30 days, WordPress' ``EMPTY_TRASH_DAYS``), and ``GET /orders`` lists it only
when asked for ``status=trash``: the default ``status=any`` is "every status but trash" (the
connector's own declaration says so). The mapping reads ``trash`` as ``cancelled``
(connectors/woocommerce/_mapping.py ``ORDER_STATUSES``), so it was meant to be seen.

Promise: the profile is what the vendor holds: an order the shop trashed no longer counts as paid in
the customer's lifetime value and order count (pushed back to every tool as enriched traits).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS
from tests.integration.test_attack13_hostile_values_on_the_wire import tool
from tests.integration.test_attack15_woocommerce_subscriber_role import _subscriber


def test_an_order_trashed_after_a_sync_stops_counting() -> None:
    sandbox, connector = tool("woocommerce", people=6)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    shopper, order = _subscriber(sandbox, "customer")
    try:
        # GIVEN a customer with one completed order of 49.00 GBP, synced
        pull_into_store(connector, store, state, settings=SETTINGS)
        (before,) = [p for p in store.iter_profiles() if any(r.id == str(shopper) for r in p.sources)]
        assert before.computed.lifetime_value.get("GBP") == Decimal("49.00")
        # AND the order then moved to the trash, as DELETE /orders/<id> without force does
        with sandbox.lock:
            trashed = sandbox.shop.orders[order]
            trashed["status"] = "trash"
            trashed["date_modified"] = T_CHANGES + timedelta(seconds=20)
        # WHEN the shop is synced
        pull_into_store(connector, store, state, settings=SETTINGS)
    finally:
        connector.close()
    # THEN her profile no longer counts it
    (after,) = [p for p in store.iter_profiles() if any(r.id == str(shopper) for r in p.sources)]
    assert after.computed.lifetime_value.get("GBP", Decimal(0)) == Decimal(0)
    assert after.computed.order_count == 0
