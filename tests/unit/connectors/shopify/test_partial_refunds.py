"""Shopify's partially refunded orders: what the buyer kept paying is in lifetime value.

``displayFinancialStatus: PARTIALLY_REFUNDED`` maps to a refund of the whole order, so a 100.00 order
with 30.00 refunded adds nothing to lifetime value (Stripe's partial refunds count what was kept).
Shopify's ``currentTotalPriceSet`` is the total after refunds and edits
(https://shopify.dev/docs/api/admin-graphql/latest/objects/Order#field-currentTotalPriceSet).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.shopify._mapping import order_draft
from core.normalise import normalise_record
from core.schema import SourceRecord


@pytest.mark.xfail(
    strict=True,
    reason=(
        "the order query does not read currentTotalPriceSet (2 more query-cost points per order, "
        "ORDER_PAGE_SIZE 249 -> 166) and the mapping reads PARTIALLY_REFUNDED as a whole refund; "
        "a decision for the Shopify connector's owner"
    ),
)
def test_a_partially_refunded_order_counts_what_was_kept() -> None:
    # GIVEN an order of 100.00 GBP with 30.00 refunded, as Shopify's Admin GraphQL API answers it
    money = {"amount": "100.00", "currencyCode": "GBP"}
    kept = {"amount": "70.00", "currencyCode": "GBP"}
    node = {
        "id": "gid://shopify/Order/1",
        "email": "ann@example.com",
        "createdAt": "2026-03-01T10:00:00Z",
        "processedAt": "2026-03-01T10:00:00Z",
        "updatedAt": "2026-03-05T10:00:00Z",
        "cancelledAt": None,
        "displayFinancialStatus": "PARTIALLY_REFUNDED",
        "totalPriceSet": {"shopMoney": money},
        "currentTotalPriceSet": {"shopMoney": kept},
        "customer": {"id": "gid://shopify/Customer/7"},
    }
    # WHEN mapped and normalised
    record = normalise_record(order_draft(node))
    # THEN it is a paid order of the 70.00 kept
    assert isinstance(record, SourceRecord)
    [order] = record.orders
    assert (order.status, order.total) == ("paid", Decimal("70.00"))
