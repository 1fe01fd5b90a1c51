"""fix20b: a Shopify full refresh says in its report that it does not sweep orders, and why.

Shopify lists only the last 60 days of orders without the ``read_all_orders`` scope
(https://shopify.dev/docs/api/usage/access-scopes, "read_all_orders"), so a full refresh cannot tell
an order deleted at Shopify from an old one it was not shown: orders are never swept
(``ConnectorSpec.refresh_unswept``). Before, the run's report said nothing of it, and an operator
reading "0 of 40 stored records not listed" could take the orders for checked.
"""

from __future__ import annotations

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from profilesync.syncrun import SyncOutcome, summary_lines
from tests.integration.test_attack13_hostile_values_on_the_wire import tool


def test_a_shopify_full_refresh_reports_that_orders_are_not_swept_and_why() -> None:
    # GIVEN Shopify synced into the store
    _sandbox, connector = tool("shopify", people=12)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    try:
        pull_into_store(connector, store, state, erasure=erasure)
        # WHEN a full refresh completes
        run = pull_into_store(connector, store, state, cursor=None, erasure=erasure)
    finally:
        connector.close()
    # THEN its sweep's report names the orders as not swept, with the scope that would allow it
    assert run.sweep is not None
    unswept = run.sweep.as_dict()["not_swept"]
    assert set(unswept) == {"order"}
    assert "read_all_orders" in unswept["order"]
    # AND so does the summary profilesync sync prints
    text = "\n".join(summary_lines(SyncOutcome(pull=run, push=None)))
    assert "order not swept" in text
    assert "read_all_orders" in text
