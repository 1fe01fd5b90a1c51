"""Shopify's partially refunded orders: what the buyer kept paying is in lifetime value.

``displayFinancialStatus: PARTIALLY_REFUNDED`` was read as a refund of the whole order, so a 100.00 order
with 30.00 refunded added nothing to lifetime value (Stripe's partial refunds count what was kept).
Shopify's ``currentTotalPriceSet`` is the total after refunds and edits
(https://shopify.dev/docs/api/admin-graphql/latest/objects/Order#field-currentTotalPriceSet).
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from connectors.shopify._mapping import order_draft
from core.normalise import normalise_record
from core.schema import SourceRecord

from .conftest import fast_retry


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


def test_a_wholly_refunded_order_keeps_what_was_ordered_and_counts_nothing() -> None:
    # GIVEN an order of 100.00 GBP refunded in full (its current total is 0.00)
    node = {
        "id": "gid://shopify/Order/2",
        "email": "ann@example.com",
        "createdAt": "2026-03-01T10:00:00Z",
        "updatedAt": "2026-03-05T10:00:00Z",
        "cancelledAt": None,
        "displayFinancialStatus": "REFUNDED",
        "totalPriceSet": {"shopMoney": {"amount": "100.00", "currencyCode": "GBP"}},
        "currentTotalPriceSet": {"shopMoney": {"amount": "0.00", "currencyCode": "GBP"}},
        "customer": {"id": "gid://shopify/Customer/7"},
    }
    record = normalise_record(order_draft(node))
    # THEN it is a refunded order of what was ordered (as Stripe keeps a refunded charge's amount)
    assert isinstance(record, SourceRecord)
    [order] = record.orders
    assert (order.status, order.total) == ("refunded", Decimal("100.00"))


def test_partially_refunded_orders_pulled_from_the_sandbox_count_what_was_kept() -> None:
    # GIVEN the Shopify sandbox, whose partially refunded orders kept three quarters of their total
    from connectors.shopify import PLUGIN

    # (its bucket restored fast and the bulk operation's polls not waited for: nothing here is timed)
    sandbox = PLUGIN.sandbox(people=150, seed=11, rate_scale=1000.0)  # type: ignore[misc]
    connector = PLUGIN.build(dataclasses.replace(sandbox.settings(), retry=fast_retry([])))
    with sandbox.lock:
        partial = {
            str(o["_num"]): Decimal(o["totalPriceSet"]["shopMoney"]["amount"])
            for o in sandbox.orders.values()
            if o["displayFinancialStatus"] == "PARTIALLY_REFUNDED"
        }
    assert partial
    # WHEN the orders are pulled and mapped
    drafts = [d for p in connector.pull(None) for d in connector.to_records(p) if d.object_type == "order"]
    kept = {}
    for draft in drafts:
        record = normalise_record(draft)
        if isinstance(record, SourceRecord) and record.source_id in partial:
            kept[record.source_id] = record.orders[0]
    # THEN each is paid with the current total, less than what was ordered
    assert set(kept) == set(partial)
    for order_id, order in kept.items():
        assert order.status == "paid"
        assert order.total == (partial[order_id] * 3 / 4).quantize(Decimal("0.01"))
