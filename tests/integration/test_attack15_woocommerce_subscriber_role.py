"""attack15: a WooCommerce shopper whose WordPress role is not ``customer``, and her orders.

WooCommerce Subscriptions, the official subscriptions extension, gives whoever starts a subscription
its "Subscriber Default Role", "by default WordPress' built-in Subscriber role", and the "Inactive
Subscriber Role" (WooCommerce's Customer) when it ends (woocommerce.com, Subscriptions store manager
guide, "Role Settings"). Wholesale and membership plugins do the same with roles of their own, and a
shop's staff buy too (``shop_manager``, ``administrator``): the WooCommerce 8.0.2 order Pipedream
recorded as its "new order" test event (PipedreamHQ/pipedream,
components/woocommerce/sources/new-order-event/test-event.mjs) has ``customer_id: 1``, the user
WordPress creates at install, an administrator. ``GET /wp-json/wc/v3/customers`` lists
only ``role=customer`` unless asked otherwise (the REST controller's default, which the connector
keeps: option ``customer_role``), while her orders name her in ``customer_id`` whatever her role.

Promises: one person, one profile (her orders are in the profile that holds her, found by her email
like any record of her in other tools); every record of the vendor is stored or quarantined (her
account is a customer: she placed the orders).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from connectors.woocommerce._sandbox import WooCommerceSandbox
from connectors.woocommerce._sandbox_shop import address
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS
from tests.integration.test_attack13_hostile_values_on_the_wire import tool

EMAIL = "sub.scriber@example.com"


def _subscriber(sandbox: WooCommerceSandbox, role: str) -> tuple[int, int]:
    """A registered shopper with the given role and one completed order; her id and the order's."""
    when = T_CHANGES + timedelta(seconds=5)
    billing = {**address(first_name="Sue", last_name="Scriber", country="GB"), "email": EMAIL, "phone": ""}
    with sandbox.lock:
        shopper = sandbox.shop.add_customer(
            EMAIL, billing, created=when, modified=when, first_name="Sue", last_name="Scriber", role=role
        )
        order = sandbox.shop.add_order(
            shopper,
            billing,
            total=Decimal("49.00"),
            currency="GBP",
            status="completed",
            created=when,
            modified=when,
        )
    return shopper["id"], order["id"]


@pytest.mark.parametrize("role", ["subscriber", "shop_manager", "administrator"])
def test_the_orders_of_a_shopper_of_another_role_are_in_her_profile(role: str) -> None:
    sandbox, connector = tool("woocommerce", people=6)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    # GIVEN a shopper whose role is not customer, with an order
    shopper, order = _subscriber(sandbox, role)
    try:
        # WHEN the shop is synced
        run = pull_into_store(connector, store, state, settings=SETTINGS)
    finally:
        connector.close()
    assert run.quarantined == 0
    # THEN her order is in a profile that holds her email and name (where her other tools' records go)
    holding = [
        p for p in store.iter_profiles() if any(r.key == f"woocommerce:order:{order}" for r in p.sources)
    ]
    assert len(holding) == 1
    emails = {i.value for i in holding[0].identifiers if i.kind == "email"}
    assert EMAIL in emails
    assert holding[0].traits["first_name"].value == "Sue"
    # AND her account, which the order names, is held
    assert f"woocommerce:customer:{shopper}" in {r.key for r in holding[0].sources}


def test_a_customer_who_becomes_a_subscriber_keeps_being_pulled() -> None:
    sandbox, connector = tool("woocommerce", people=6)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    shopper, _ = _subscriber(sandbox, "customer")
    try:
        # GIVEN a customer, synced
        pull_into_store(connector, store, state, settings=SETTINGS)
        assert f"woocommerce:customer:{shopper}" in {r.key for p in store.iter_profiles() for r in p.sources}
        # AND her subscription then started (WooCommerce Subscriptions makes her a subscriber), and she
        # changed her address in her account
        with sandbox.lock:
            account = sandbox.shop.customers[shopper]
            account["role"] = "subscriber"
            account["email"] = account["billing"]["email"] = "sue.new@example.com"
            account["date_modified"] = T_CHANGES + timedelta(seconds=20)
        # WHEN the shop is synced
        pull_into_store(connector, store, state, settings=SETTINGS)
    finally:
        connector.close()
    # THEN her profile holds her new address
    emails = {i.value for p in store.iter_profiles() for i in p.identifiers if i.kind == "email"}
    assert "sue.new@example.com" in emails
