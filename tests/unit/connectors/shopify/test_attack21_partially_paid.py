"""attack21: a Shopify order with a 300.00 deposit of 1,000.00 counts 1,000.00 as paid.

``OrderDisplayFinancialStatus.PARTIALLY_PAID`` (``specs/shopify-admin-2026-01.graphql.gz``): "Displayed
as **Partially paid**. A payment was manually captured for the order with an amount less than the full
order value" -- a deposit on a made-to-order sofa, a B2B order on payment terms whose first instalment
came in, an order paid partly by gift card and partly by a failed card. What the customer paid is the
order's ``netPaymentSet`` ("the total amount received minus the total amount refunded") and
``totalOutstandingSet`` is what she still owes.

``connectors/shopify/_mapping.py:55`` maps ``PARTIALLY_PAID`` to ``paid`` and ``order_draft`` then counts
``currentTotalPriceSet``, the full order value: 1,000.00 EUR of lifetime value (and a 'vip' segment at
the default threshold) for 300.00 EUR received, pushed to every tool; if she never pays the rest the
order stays so. The query (``connectors/shopify/_documents.py:62`` ``_ORDER_FIELDS``) never asks for
``netPaymentSet``.

Promise: the profile's numbers are right (only money paid counts towards lifetime value).
Fix: ask for ``netPaymentSet { shopMoney { amount currencyCode } }`` and count a ``PARTIALLY_PAID``
order at it (the received amount less refunds), as a Stripe charge counts what was captured and kept.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.shopify._mapping import order_draft
from core.normalise import normalise_record
from core.schema import SourceRecord


def _money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "EUR"}}


def _order(status: str, received: str, outstanding: str) -> dict[str, Any]:
    """A 1,000.00 EUR order as the Admin GraphQL API answers it (payment fields asked for)."""
    return {
        "id": "gid://shopify/Order/5912345670001",
        "name": "#2041",
        "email": "noor.haddad@example.nl",
        "phone": None,
        "createdAt": "2026-10-02T09:00:00Z",
        "processedAt": "2026-10-02T09:00:00Z",
        "updatedAt": "2026-10-02T09:05:00Z",
        "cancelledAt": None,
        "displayFinancialStatus": status,
        "totalPriceSet": _money("1000.00"),
        "currentTotalPriceSet": _money("1000.00"),
        "netPaymentSet": _money(received),
        "totalReceivedSet": _money(received),
        "totalOutstandingSet": _money(outstanding),
        "customer": {"id": "gid://shopify/Customer/7712345670002"},
        "billingAddress": None,
        "shippingAddress": None,
    }


def _counted(node: dict[str, Any]) -> tuple[str, Decimal]:
    record = normalise_record(order_draft(node))
    assert isinstance(record, SourceRecord), record
    [order] = record.orders
    return order.status, order.total


def test_a_paid_order_counts_its_total() -> None:
    """The guard (green before and after): an order paid in full counts 1,000.00."""
    assert _counted(_order("PAID", "1000.00", "0.00")) == ("paid", Decimal("1000.00"))


def test_a_partially_paid_order_counts_what_was_paid() -> None:
    # GIVEN a 1,000.00 EUR order of which a 300.00 deposit was captured (700.00 outstanding)
    # WHEN it is mapped and normalised
    # THEN it counts what she paid (before: 1,000.00)
    assert _counted(_order("PARTIALLY_PAID", "300.00", "700.00")) == ("paid", Decimal("300.00"))
