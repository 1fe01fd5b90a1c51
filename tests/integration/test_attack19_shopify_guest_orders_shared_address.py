"""attack19: strangers' Shopify guest orders on the shop's own address are still one profile.

Last round (attack17) fixed this for WooCommerce and Stripe: a guest child (an order without an owner)
now counts under the guardrail as the person its billing name names (``core.identity.limit_holder``),
so twelve strangers' guest orders keyed in on the shop's own address are twelve holders, past the
email limit of 8, and stay apart. docs/connectors.md ("Child objects") tells connector authors to
"map the billing name of guest orders as traits, as WooCommerce's and Stripe's do; a guest child
with neither name nor phone does not count".

The built-in Shopify connector does not: ``connectors/shopify/_mapping.py:150`` ``order_draft`` maps an
order's ``email`` and ``phone`` and no traits, and its query never asks for the order's
``billingAddress`` (``MailingAddress``: ``firstName``, ``lastName``, ``name``, ``phone``,
``countryCodeV2``; ``specs/shopify-admin-2026-01.graphql.gz``, ``Order.billingAddress``). A Shopify
guest order (``customer`` null: a draft order or POS sale the staff made out to the shop's own email,
a deleted customer's order) without an order-level phone names nobody and never counts, so the
twelve are one profile: twelve strangers' orders and lifetime value under one customer id.

Nodes: Shopify Admin GraphQL ``Order`` objects as the sandbox builds them
(``connectors/shopify/_sandbox_seed.py`` ``add_order``), with the ``billingAddress`` Shopify answers
when it is asked for.

Promise: one person, one profile (strangers are never one profile).

Fixed (fix19a): the order query asks for ``billingAddress`` and ``order_draft`` maps a guest order's
billing names and country (``connectors/shopify/_mapping.py`` ``guest_order_traits``); the neighbours
are in ``tests/unit/connectors/shopify/test_fix19a_guest_orders.py``.
"""

from __future__ import annotations

from typing import Any

from connectors.shopify._mapping import order_draft
from core.normalise import normalise_record
from core.pipeline import ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from tests.integration.test_attack17_guest_orders_shared_address import PEOPLE

SHOP = "orders@lakeside-bikes.example"


def _guest_order(i: int, first: str, last: str) -> dict[str, Any]:
    """A Shopify guest order (no customer), made out to the shop's address, billed to its buyer."""
    money = {"amount": "49.00", "currencyCode": "GBP"}
    return {
        "id": f"gid://shopify/Order/{5000 + i}",
        "legacyResourceId": str(5000 + i),
        "name": f"#{1000 + i}",
        "email": SHOP,
        "phone": None,
        "customer": None,
        "createdAt": f"2026-03-{i + 1:02d}T10:00:00Z",
        "processedAt": f"2026-03-{i + 1:02d}T10:00:00Z",
        "updatedAt": f"2026-03-{i + 1:02d}T10:00:05Z",
        "cancelledAt": None,
        "closedAt": None,
        "displayFinancialStatus": "PAID",
        "currencyCode": "GBP",
        "test": False,
        "totalPriceSet": {"shopMoney": money, "presentmentMoney": dict(money)},
        "currentTotalPriceSet": {"shopMoney": money, "presentmentMoney": dict(money)},
        "billingAddress": {
            "firstName": first,
            "lastName": last,
            "name": f"{first} {last}",
            "phone": None,
            "countryCodeV2": "GB",
            "city": "Keswick",
            "zip": "CA12 5DJ",
        },
    }


def _profiles(orders: list[dict[str, Any]]) -> list[Any]:
    records = [normalise_record(order_draft(o)) for o in orders]
    assert all(isinstance(r, SourceRecord) for r in records)
    store = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord)], store)
    return list(store.iter_profiles())


def test_one_guest_buying_twelve_times_on_the_shops_address_is_one_profile() -> None:
    """The guard (green before and after a fix): one buyer's twelve guest orders are one person."""
    assert len(_profiles([_guest_order(i, "Amelia", "Hart") for i in range(len(PEOPLE))])) == 1


def test_strangers_shopify_guest_orders_on_the_shops_address_are_not_one_profile() -> None:
    # GIVEN twelve people's Shopify guest orders, each billed to its buyer, all made out to the
    # shop's own address
    orders = [_guest_order(i, first, last) for i, (first, last) in enumerate(PEOPLE)]
    # WHEN they are resolved
    profiles = _profiles(orders)
    # THEN no profile holds two of them (on main: one profile holds all twelve)
    assert len(profiles) == len(PEOPLE)
