"""attack21: a Shopify test order counts as a purchase: lifetime value, order count, segment.

Shopify's ``Order.test`` (``specs/shopify-admin-2026-01.graphql.gz``, ``type Order``): "Whether the
order is a test. Test orders are made using the Shopify Bogus Gateway or a payment provider with test
mode enabled. A test order can't be converted into a real order and vice versa." Merchants place them
on the live shop to try a theme, a checkout app or Shopify Payments' test mode, usually with their own
or a colleague's email; they stay in the admin's order list and in the API with
``displayFinancialStatus: PAID``.

``connectors/shopify/_documents.py:62`` (``_ORDER_FIELDS``) never asks for ``test``, and
``connectors/shopify/_mapping.py:177`` ``order_draft`` makes every order with a paid status a paid
order. A staff member who tried the checkout five times is a ``repeat`` (or ``vip``) customer with the
test totals as lifetime value, pushed to every tool; a real customer whose email a tester typed gets
the test orders added to her own.

Promise: the profile's numbers are right (only real purchases count).
Fix: ask for ``test`` in the orders query (page and bulk) and map a test order as not a purchase
(``cancelled``, or no order at all, the record kept), or leave test orders out with the search
filter ``test:false`` (then a test order already stored needs its record retired).
"""

from __future__ import annotations

from typing import Any

from connectors.shopify._mapping import order_draft
from core.normalise import normalise_record
from core.pipeline import ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore


def _order(number: int, *, test: bool) -> dict[str, Any]:
    """A paid order of 120.00 EUR as the Admin GraphQL API answers it (with ``test`` asked for)."""
    money = {"amount": "120.00", "currencyCode": "EUR"}
    return {
        "id": f"gid://shopify/Order/59123456789{number:02d}",
        "name": f"#10{number:02d}",
        "email": "lena.vogt@example.de",
        "phone": None,
        "createdAt": f"2026-10-{number:02d}T09:00:00Z",
        "processedAt": f"2026-10-{number:02d}T09:00:00Z",
        "updatedAt": f"2026-10-{number:02d}T09:00:05Z",
        "cancelledAt": None,
        "test": test,
        "displayFinancialStatus": "PAID",
        "totalPriceSet": {"shopMoney": money},
        "currentTotalPriceSet": {"shopMoney": money},
        "customer": {"id": "gid://shopify/Customer/7712345678901"},
        "billingAddress": {"firstName": "Lena", "lastName": "Vogt", "countryCodeV2": "DE"},
        "shippingAddress": {"countryCodeV2": "DE"},
    }


def _computed(nodes: list[dict[str, Any]]) -> Any:
    records = [normalise_record(order_draft(node)) for node in nodes]
    assert all(isinstance(r, SourceRecord) for r in records), records
    store = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord)], store)
    (profile,) = list(store.iter_profiles())
    return profile.computed


def test_real_orders_count() -> None:
    """The guard (green before and after): two real paid orders are two purchases of 240.00 EUR."""
    computed = _computed([_order(1, test=False), _order(2, test=False)])
    assert computed.order_count == 2
    assert {c: str(v) for c, v in computed.lifetime_value.items()} == {"EUR": "240.00"}


def test_test_orders_are_not_purchases() -> None:
    # GIVEN one real order and three test orders (Bogus Gateway) of the same customer
    nodes = [_order(1, test=False), *(_order(n, test=True) for n in (2, 3, 4))]
    # WHEN they are mapped and resolved
    computed = _computed(nodes)
    # THEN only the real one counts: one order of 120.00 EUR, a 'customer' (before: 4, 480.00, 'repeat')
    assert computed.order_count == 1
    assert {c: str(v) for c, v in computed.lifetime_value.items()} == {"EUR": "120.00"}
    assert computed.segment == "customer"
