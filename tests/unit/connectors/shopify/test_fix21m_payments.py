"""fix21m: Shopify orders count what was paid, through the connector's own query.

attack21's tests map hand-written nodes; these pull from the sandbox (which answers only the fields a
query asks for, checked against the 2026-01 schema), so they fail when the order query stops asking
for ``test`` or ``netPaymentSet``: a partially paid order counts its net payment, a test order is no
purchase, and a partially paid order with nothing received yet (or no net payment) is none yet.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.shopify import ShopifyConnector, ShopifySandbox
from connectors.shopify import _documents as docs
from connectors.shopify._mapping import draft, order_status
from connectors.shopify._sandbox_seed import payments
from core.normalise import normalise_record
from core.schema import Order, SourceRecord

from .test_pull import T, pull


def _pulled_orders(connector: ShopifyConnector) -> dict[str, Order]:
    pages, _ = pull(connector, None)
    out: dict[str, Order] = {}
    for page in pages:
        for node in page.records if page.object_type == "order" else ():
            record = normalise_record(draft(page.object_type, node))
            if isinstance(record, SourceRecord):  # the seeded shop has a few unusable on purpose
                out.update((order.id, order) for order in record.orders)
    return out


def _set(sandbox: ShopifySandbox, key: str, **fields: Any) -> dict[str, Any]:
    order: dict[str, Any] = sandbox.orders[int(key.partition(":")[2])]
    order.update(fields)
    return order


def test_the_order_query_asks_for_test_and_net_payment_within_its_cost() -> None:
    assert "test" in docs.ORDERS_PAGE.split()
    assert "test" in docs.ORDERS_BULK.split()
    assert "netPaymentSet" in docs.ORDERS_PAGE
    assert "netPaymentSet" in docs.ORDERS_BULK
    assert docs.ORDERS_PAGE_COST <= docs.MAX_QUERY_COST


def test_a_pulled_partially_paid_order_counts_its_net_payment_and_a_test_order_none(
    sandbox: ShopifySandbox, connector: ShopifyConnector
) -> None:
    # GIVEN three new orders of 50.00-ish GBP: one partially paid (two fifths received), one a test
    # order paid through the Bogus Gateway, one paid in full
    keys = sorted(k for k in sandbox.add_records(3, at=T) if k.startswith("order:"))
    partial = _set(sandbox, keys[0], displayFinancialStatus="PARTIALLY_PAID")
    partial.update(payments(partial["totalPriceSet"]["shopMoney"], "PARTIALLY_PAID"))
    _set(sandbox, keys[1], test=True)
    real = sandbox.orders[int(keys[2].partition(":")[2])]
    # WHEN the connector pulls everything and the orders are mapped
    orders = _pulled_orders(connector)
    # THEN the partially paid one counts what was received, not its value
    received = Decimal(partial["netPaymentSet"]["shopMoney"]["amount"])
    assert received < Decimal(partial["totalPriceSet"]["shopMoney"]["amount"])
    got = orders[keys[0].partition(":")[2]]
    assert (got.status, got.total) == ("paid", received)
    # AND the test order is no purchase, the real one is
    assert orders[keys[1].partition(":")[2]].status == "cancelled"
    paid = orders[keys[2].partition(":")[2]]
    assert (paid.status, str(paid.total)) == ("paid", real["totalPriceSet"]["shopMoney"]["amount"])


def _node(status: str, net: str | None, *, test: bool = False) -> dict[str, Any]:
    node: dict[str, Any] = {"displayFinancialStatus": status, "cancelledAt": None, "test": test}
    if net is not None:
        node["netPaymentSet"] = {"shopMoney": {"amount": net, "currencyCode": "EUR"}}
    return node


def test_a_partially_paid_order_with_nothing_received_is_no_purchase_yet() -> None:
    assert order_status(_node("PARTIALLY_PAID", "300.00")) == "paid"
    # a deposit refunded, or a node without the net payment: nothing known paid
    assert order_status(_node("PARTIALLY_PAID", "0.00")) == "pending"
    assert order_status(_node("PARTIALLY_PAID", None)) == "pending"


def test_a_test_order_is_no_purchase_whatever_its_payment_state() -> None:
    for status in ("PAID", "PARTIALLY_PAID", "PARTIALLY_REFUNDED"):
        assert order_status(_node(status, "10.00", test=True)) == "cancelled"
    assert order_status(_node("PAID", "10.00", test=False)) == "paid"
