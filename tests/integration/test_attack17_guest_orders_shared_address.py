"""attack17: strangers' guest orders that all carry the shop's own address.

A shop takes orders by telephone and at the counter, and its staff key them in as guest orders in
the admin. WooCommerce's order screen asks for a billing email, and staff type the shop's own
(``orders@<the shop's domain>``) for everyone who gave none, so that the receipt reaches the shop;
the same happens with a Stripe integration that sets ``receipt_email`` to the business's address to
keep a copy. Each guest order carries its buyer's own name and phone, and the one address.

core/identity.py keeps an identifier that more than ``DEFAULT_LIMITS`` records hold (8 for email)
from matching: "more holders than this means the value is shared by several people (a family inbox,
an office switchboard)". Only people-level records count as holders (``counts_toward_limits``): a
child object "repeats its buyer's email; counting it made a shopper's ninth order a 'shared'
address". A guest order is a child without an owner, which joins "by email or phone like anyone"
and never counts: so no number of strangers' guest orders on one address ever overloads it, and
every stranger whose order carries it becomes one profile (twelve names, twelve phones, all their
orders and lifetime value under one customer id). The same twelve people as WooCommerce customers
(people-level records) stay twelve profiles. This is exact identity, the default (``identity.mode:
exact``); with ``identity.mode: probabilistic`` the holders' different first names keep the twelve
apart (checked below, green).

Promise: one person, one profile; two people never merge on an address shared by more people than
the guardrail allows. A repeat guest buyer (one name, one phone, many orders on her own address)
must stay one profile too (tests/e2e/test_repeat_buyers_every_connector.py), so a fix has to tell
her apart from strangers: e.g. count a guest child as a holder by the person it names (its phone,
its name) rather than by its record key.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from connectors.woocommerce._mapping import customer_draft, order_draft
from connectors.woocommerce._sandbox_shop import address
from core.link_scope import LinkageSettings
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS
from tests.integration.test_attack13_hostile_values_on_the_wire import tool
from tests.unit.test_guest_holders import NAMES as PEOPLE
from tests.unit.test_guest_holders import SHOP


def _billing(i: int, email: str) -> dict[str, str]:
    first, last = PEOPLE[i]
    return {
        "first_name": first,
        "last_name": last,
        "country": "GB",
        "email": email,
        "phone": f"07911 1230{i:02d}",
    }


def _stamp(i: int) -> str:
    return f"2026-03-{i + 1:02d}T10:00:00"


def _guest_order(i: int, email: str) -> dict[str, Any]:
    """Person ``i``'s guest order as ``GET /wp-json/wc/v3/orders`` lists it (``customer_id`` 0)."""
    return {
        "id": 200 + i,
        "customer_id": 0,
        "status": "completed",
        "currency": "GBP",
        "total": "49.00",
        "date_created_gmt": _stamp(i),
        "date_modified_gmt": _stamp(i),
        "billing": _billing(i, email),
    }


def _customer(i: int, email: str) -> dict[str, Any]:
    """Person ``i`` as a WooCommerce customer (``GET /wp-json/wc/v3/customers``)."""
    first, last = PEOPLE[i]
    return {
        "id": 300 + i,
        "email": email,
        "first_name": first,
        "last_name": last,
        "billing": _billing(i, email),
        "date_created_gmt": _stamp(i),
        "date_modified_gmt": _stamp(i),
    }


def _profiles(objects: list[Any], settings: IngestSettings | None = None) -> list[Any]:
    records = [normalise_record(order_draft(o) if "customer_id" in o else customer_draft(o)) for o in objects]
    assert all(isinstance(r, SourceRecord) for r in records)
    store = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord)], store, settings)
    return list(store.iter_profiles())


def test_strangers_as_customers_on_the_shops_address_stay_apart() -> None:
    """The guard: twelve people-level records on one address overload it (green before and after)."""
    profiles = _profiles([_customer(i, SHOP) for i in range(len(PEOPLE))])
    assert len(profiles) == len(PEOPLE)


def test_a_repeat_guest_buyer_on_her_own_address_is_one_profile() -> None:
    """The other side of the fix: one guest, twelve orders, her own address and phone (green)."""
    orders = [{**_guest_order(0, "amelia.hart@example.co.uk"), "id": 200 + i} for i in range(len(PEOPLE))]
    assert len(_profiles(orders)) == 1


def test_with_probabilistic_identity_strangers_guest_orders_stay_apart() -> None:
    """Their first names conflict, so the link graph never joins them (green before and after)."""
    linked = IngestSettings(linkage=LinkageSettings())
    profiles = _profiles([_guest_order(i, SHOP) for i in range(len(PEOPLE))], linked)
    assert len(profiles) == len(PEOPLE)


def test_strangers_guest_orders_on_the_shops_address_are_not_one_profile() -> None:
    # GIVEN twelve people's guest orders, each with its buyer's name and phone, all with the shop's
    # own address as billing email
    # WHEN they are resolved
    profiles = _profiles([_guest_order(i, SHOP) for i in range(len(PEOPLE))])
    # THEN no profile holds more than one of them: the address is shared by more than the limit
    assert len(profiles) == len(PEOPLE)


def test_through_a_sync_of_the_woocommerce_sandbox_the_strangers_are_not_one_profile() -> None:
    sandbox, connector = tool("woocommerce", people=4)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    when = T_CHANGES + timedelta(seconds=5)
    # GIVEN twelve guest orders keyed in by the shop's staff, each with its buyer's name and phone and
    # the shop's own address
    with sandbox.lock:
        orders = [
            sandbox.shop.add_order(
                None,
                {
                    **address(first_name=PEOPLE[i][0], last_name=PEOPLE[i][1], country="GB"),
                    "email": SHOP,
                    "phone": _billing(i, SHOP)["phone"],
                },
                total=Decimal("49.00"),
                currency="GBP",
                status="completed",
                created=when + timedelta(minutes=i),
                modified=when + timedelta(minutes=i),
            )
            for i in range(len(PEOPLE))
        ]
    try:
        # WHEN the shop is synced
        run = pull_into_store(connector, store, state, settings=SETTINGS)
    finally:
        connector.close()
    assert run.quarantined == 0
    keys = {f"woocommerce:order:{o['id']}" for o in orders}
    holding = [p for p in store.iter_profiles() if keys & {r.key for r in p.sources}]
    # THEN no profile holds two strangers' orders
    assert all(len(keys & {r.key for r in p.sources}) == 1 for p in holding)
