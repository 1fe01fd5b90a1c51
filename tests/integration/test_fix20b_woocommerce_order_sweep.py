"""fix20b: a WooCommerce order deleted for good (``DELETE /orders/<id>?force=true``) leaves the profile.

WooCommerce keeps no trace of a permanently deleted order: no status, no modified time, no log
(woocommerce-rest-api-docs, "Delete an order": ``force`` "Use true whether to permanently delete the
order"). An incremental pull cannot see it. A full refresh lists every order (``status=any`` and the
trash, walked apart), so one that completed without listing a stored order means the shop no longer
holds it: the sweep retires it (``ConnectorSpec.refresh_lists``), within the same guard as customers.
Before, orders were not declared, and such an order counted in the lifetime value for ever.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from connectors.woocommerce import _sandbox_writes as writes
from connectors.woocommerce._push import META_PREFIX
from core.refresh_sweep import SweepGuard
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import pull_into_store
from core.sync_push import changed_profiles, push_profiles
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS
from tests.integration.test_attack13_hostile_values_on_the_wire import tool
from tests.integration.test_attack15_woocommerce_subscriber_role import EMAIL, _subscriber

API = "/wp-json/wc/v3"


def _orders(sandbox: Any, shopper: int, totals: list[str]) -> list[int]:
    """More completed GBP orders of the shopper ``shopper``; their ids."""
    when = T_CHANGES + timedelta(seconds=7)
    with sandbox.lock:
        customer = sandbox.shop.customers[shopper]
        return [
            sandbox.shop.add_order(
                customer,
                dict(customer["billing"]),
                total=Decimal(total),
                currency="GBP",
                status="completed",
                created=when,
                modified=when,
            )["id"]
            for total in totals
        ]


def _delete_for_good(sandbox: Any, order: int) -> None:
    with sandbox.lock:
        answer = writes.item(sandbox, "orders", order, "DELETE", {}, {"force": "true"}, API)
    assert answer.status_code == 200


def _hers(store: InMemoryProfileStore) -> Any:
    (profile,) = [p for p in store.iter_profiles() if any(i.value == EMAIL for i in p.identifiers)]
    return profile


def test_an_order_deleted_for_good_is_retired_by_the_next_full_refresh() -> None:
    sandbox, connector = tool("woocommerce", people=6)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    shopper, first = _subscriber(sandbox, "customer")
    (second, trashed) = _orders(sandbox, shopper, ["20.00", "5.00"])
    try:
        # GIVEN a customer with orders of 49.00, 20.00 and 5.00 GBP, synced
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        assert _hers(store).computed.lifetime_value["GBP"] == Decimal("74.00")
        # AND then the 49.00 order deleted for good, and the 5.00 one moved to the trash
        _delete_for_good(sandbox, first)
        with sandbox.lock:
            writes.item(sandbox, "orders", trashed, "DELETE", {}, {}, API)
        # WHEN the shop is refreshed in full
        run = pull_into_store(connector, store, state, cursor=None, settings=SETTINGS, erasure=erasure)
        # AND what the run changed is pushed (as profilesync sync does after its pull)
        push_profiles(connector, changed_profiles(store, run.ingest.customers), state)
    finally:
        connector.close()
    # THEN the deleted order is retired (the trashed one was listed: it stays, cancelled) and her
    # order count and lifetime value follow (before fix20b: still 49.00 + 20.00, two orders)
    assert run.sweep is not None
    assert (run.sweep.unlisted, run.sweep.swept, run.sweep.refused) == (1, 1, None)
    hers = _hers(store)
    assert hers.computed.lifetime_value == {"GBP": Decimal("20.00")}
    assert hers.computed.order_count == 1
    assert {r.id for r in hers.sources if r.object_type == "order"} == {str(second), str(trashed)}
    # AND the shop holds her new figures
    pushed = sandbox.pushed_traits(EMAIL)
    assert (pushed[f"{META_PREFIX}lifetime_value"], pushed[f"{META_PREFIX}order_count"]) == ("20.00", "1")


def test_a_full_refresh_missing_many_orders_retires_none_unless_allowed() -> None:
    sandbox, connector = tool("woocommerce", people=6)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    shopper, first = _subscriber(sandbox, "customer")
    extra = _orders(sandbox, shopper, ["1.00"] * 9)
    try:
        # GIVEN a customer with ten orders, synced
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
        assert _hers(store).computed.order_count == 10
        # AND then eight of them gone from every listing (a filter, a plugin, or deleted for good)
        for order in [first, *extra[:7]]:
            _delete_for_good(sandbox, order)
        # WHEN the shop is refreshed in full
        refused = pull_into_store(connector, store, state, cursor=None, settings=SETTINGS, erasure=erasure)
        # THEN the sweep is refused past the mass-retirement limit, and nothing is retired
        assert refused.sweep is not None
        assert refused.sweep.refused is not None
        assert "allow-mass-retirement" in refused.sweep.refused
        assert _hers(store).computed.order_count == 10
        # AND the operator's --allow-mass-retirement retires them
        allowed = pull_into_store(
            connector,
            store,
            state,
            cursor=None,
            settings=SETTINGS,
            erasure=erasure,
            sweep=SweepGuard(allow_mass=True),
        )
    finally:
        connector.close()
    assert allowed.sweep is not None
    assert allowed.sweep.swept == 8
    assert _hers(store).computed.order_count == 2
    assert _hers(store).computed.lifetime_value == {"GBP": Decimal("2.00")}
