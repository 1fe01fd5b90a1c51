"""revR27: a partially paid Shopify order whose net payment is no amount is reported, not hidden.

``connectors/shopify/_mapping.py`` ``_received`` reads a malformed ``netPaymentSet`` amount as
received, so the order is mapped as paid with that amount, and normalisation drops the order from
the record with its reason (``SourceRecord.dropped``: counted and reported). No fix21m test went red
when it read it as nothing received instead (``return True`` made ``return False``): the order
then passed as pending, at its full price, and the bad amount was never reported. This one does.
"""

from __future__ import annotations

from typing import Any

from connectors.shopify._mapping import order_draft
from core.normalise import normalise_record
from core.schema import SourceRecord


def _money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount, "currencyCode": "EUR"}}


def test_a_malformed_net_payment_drops_the_order_with_its_reason() -> None:
    # GIVEN a partially paid 1,000.00 order whose net payment reads "3OO.00" (letters O)
    at = "2026-03-01T10:00:00Z"
    node = {
        "id": "gid://shopify/Order/7",
        "createdAt": at,
        "processedAt": at,
        "updatedAt": at,
        "cancelledAt": None,
        "test": False,
        "displayFinancialStatus": "PARTIALLY_PAID",
        "totalPriceSet": _money("1000.00"),
        "currentTotalPriceSet": _money("1000.00"),
        "netPaymentSet": _money("3OO.00"),
        "customer": {"id": "gid://shopify/Customer/1"},
    }
    # WHEN mapped and normalised
    record = normalise_record(order_draft(node))
    # THEN the record stays (her customer's child), without the order, and says why
    assert isinstance(record, SourceRecord)
    assert record.orders == ()
    assert [(d.field, d.reason) for d in record.dropped] == [("orders[0]", "total: not a number: '3OO.00'")]
