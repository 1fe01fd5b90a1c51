"""WooCommerce's customers of any role: who the walk keeps, and a deployment that upgrades.

The connector walks ``GET /customers?role=all`` and keeps the users WooCommerce holds as customers
(``connectors/woocommerce/_connector.py`` ``is_customer``); attack15's tests
(``test_attack15_woocommerce_subscriber_role.py``) prove a subscriber's orders join her. These prove
what it leaves out, and what the upgrade from the ``role=customer`` walk does to profiles stored.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from decimal import Decimal

from connectors.woocommerce import PLUGIN
from connectors.woocommerce._declaration import ROLE_OPTION
from connectors.woocommerce._sandbox_shop import address
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS
from tests.integration.test_attack13_hostile_values_on_the_wire import tool
from tests.integration.test_attack15_woocommerce_subscriber_role import EMAIL, _subscriber


def _keys(store: InMemoryProfileStore) -> set[str]:
    return {r.key for p in store.iter_profiles() for r in p.sources}


def test_staff_who_never_paid_are_not_pulled_and_a_subscriber_is() -> None:
    sandbox, connector = tool("woocommerce", people=6)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    when = T_CHANGES + timedelta(seconds=5)
    # GIVEN a shop manager with only a pending order, and a subscriber with no order at all
    with sandbox.lock:
        staff = sandbox.shop.add_customer(
            "manager@example.com", address(), created=when, modified=when, role="shop_manager"
        )
        sandbox.shop.add_order(
            staff,
            address(),
            total=Decimal("9.00"),
            currency="GBP",
            status="pending",
            created=when,
            modified=when,
        )
        reader = sandbox.shop.add_customer(
            "reader@example.com", address(), created=when, modified=when, role="subscriber"
        )
    try:
        # WHEN the shop is synced
        pull_into_store(connector, store, state, settings=SETTINGS)
    finally:
        connector.close()
    # THEN the staff account is not a customer (it never paid), and the subscriber is
    keys = _keys(store)
    assert f"woocommerce:customer:{staff['id']}" not in keys
    assert f"woocommerce:customer:{reader['id']}" in keys


def test_a_role_named_in_the_option_is_walked_with_nothing_left_out() -> None:
    sandbox, _ = tool("woocommerce", people=6)
    when = T_CHANGES + timedelta(seconds=5)
    with sandbox.lock:
        staff = sandbox.shop.add_customer(
            "manager@example.com", address(), created=when, modified=when, role="shop_manager"
        )
    settings = sandbox.settings()
    options = {**settings.options, ROLE_OPTION: "shop_manager"}
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    with PLUGIN.build(dataclasses.replace(settings, options=options)) as connector:
        pull_into_store(connector, store, state, settings=SETTINGS)
    assert f"woocommerce:customer:{staff['id']}" in _keys(store)


def test_after_the_upgrade_a_subscribers_stored_orders_join_her() -> None:
    sandbox, connector = tool("woocommerce", people=6)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    shopper, order = _subscriber(sandbox, "subscriber")
    settings = sandbox.settings()
    before = dataclasses.replace(settings, options={**settings.options, ROLE_OPTION: "customer"})
    try:
        # GIVEN a deployment that synced with the walk of role=customer: her order stands apart
        with PLUGIN.build(before) as old:
            pull_into_store(old, store, state, settings=SETTINGS)
        (alone,) = [p for p in store.iter_profiles() if any(r.id == str(order) for r in p.sources)]
        assert not [i for i in alone.identifiers if i.kind == "email" and i.value == EMAIL]
        # WHEN it upgrades (the default walk) and syncs
        pull_into_store(connector, store, state, settings=SETTINGS)
    finally:
        connector.close()
    # THEN her account is held, and her order, stored before, is in her profile
    (held,) = [p for p in store.iter_profiles() if any(r.id == str(order) for r in p.sources)]
    assert f"woocommerce:customer:{shopper}" in {r.key for r in held.sources}
    assert EMAIL in {i.value for i in held.identifiers if i.kind == "email"}
