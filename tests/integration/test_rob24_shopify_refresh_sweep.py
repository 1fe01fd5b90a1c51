"""rob24: a completed full refresh of Shopify retires the customers deleted there (``refresh_lists``).

Shopify's pulls report no deletion (deleted customers are announced by webhooks alone), but its full
refresh lists every customer the shop holds (the customers connection with no query): the stored
customers it did not list are gone at Shopify (core.refresh_sweep). Orders are not swept: without
``read_all_orders`` Shopify lists only the last 60 days of them.
"""

from __future__ import annotations

from connectors.shopify._sandbox_mutations import erase
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from tests.integration.test_attack13_hostile_values_on_the_wire import tool


def test_a_full_refresh_retires_the_customers_deleted_at_shopify_and_no_order() -> None:
    # GIVEN Shopify synced into the store
    sandbox, connector = tool("shopify", people=40)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    try:
        pull_into_store(connector, store, state, erasure=erasure)
        held = {f"{ref.object_type}:{ref.id}" for p in store.iter_profiles() for ref in p.sources}
        # AND two of its stored customers erased at Shopify (a data erasure request: they are deleted)
        gone = sorted(k for k in held if k.startswith("customer:"))[:2]
        with sandbox.lock:
            for key in gone:
                result = erase(sandbox, {"customerId": f"gid://shopify/Customer/{key.split(':', 1)[1]}"})
                assert not result["userErrors"], result
        # WHEN a full refresh completes
        run = pull_into_store(connector, store, state, cursor=None, erasure=erasure)
    finally:
        connector.close()
    # THEN exactly those two are retired; their orders and every other record stay
    assert run.sweep is not None
    assert run.sweep.as_dict()["swept"] == 2
    assert {f"{ref.object_type}:{ref.id}" for p in store.iter_profiles() for ref in p.sources} == held - set(
        gone
    )
