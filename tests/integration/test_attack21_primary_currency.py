"""attack21: 1,200 EUR and 45,000 KRW: the tools are told she is a 45,000 KRW customer.

A shop that sells in several currencies (a WooCommerce multi-currency plugin stores each order in the
currency the buyer paid, ``currency`` on the order; a Stripe account charges each customer in her
presentment currency, ``currency`` on the charge) has people whose orders are in two currencies. The
profile keeps a lifetime value per currency and pushes one: ``core/push.py:30`` ``primary_currency``,
"the currency a person spends most in (largest lifetime value ...)", takes the largest *number*
whatever its currency. Five orders of 240 EUR (1,200 EUR) and three of 15,000 KRW (about 30 EUR) push
``lifetime_value`` 45000, ``lifetime_value_currency`` KRW and ``average_order_value`` 15000 to every
tool (Salesforce's ``ProfileSync_Lifetime_Value__c``, Klaviyo's and Mailchimp's properties, Shopify's
metafields), hiding the 1,200 EUR she did spend; a list of "lifetime value over 1,000 EUR" in a tool
misses her, and the same happens with JPY, IDR, VND or HUF beside any major currency.

Promise: the profile's numbers are right (lifetime value and its currency, pushed to every tool).
Fix: never compare amounts of two currencies as numbers: choose by paid order count (then the latest
order's currency), or by a reporting currency with declared rates; the same applies to the segment
(test_attack21_vip_in_yen.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from connectors.woocommerce._mapping import customer_draft, order_draft
from core.normalise import normalise_record
from core.pipeline import ingest
from core.push import enriched_traits
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore

FIXTURES = Path(__file__).resolve().parents[2] / "connectors" / "woocommerce" / "fixtures"


def _profile(orders: list[tuple[str, str]]) -> Any:
    """The project's WooCommerce customer with one completed order per (currency, total)."""
    customer = json.loads((FIXTURES / "customer.json").read_text(encoding="utf-8"))
    template = json.loads((FIXTURES / "order.json").read_text(encoding="utf-8"))
    drafts = [customer_draft(customer)]
    for number, (currency, total) in enumerate(orders, 1):
        order = {
            **template,
            "id": 5000 + number,
            "number": str(5000 + number),
            "currency": currency,
            "total": total,
            "refunds": [],
            "transaction_id": "",
            "date_created_gmt": f"2026-0{number}-10T10:00:00",
        }
        drafts.append(order_draft(order))
    records = [normalise_record(d) for d in drafts]
    assert all(isinstance(r, SourceRecord) for r in records), records
    store = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord)], store)
    (profile,) = list(store.iter_profiles())
    return profile


def test_two_currencies_of_one_scale_push_the_larger() -> None:
    """The guard (green before and after): 1,200 EUR beside 300 GBP pushes the euros."""
    profile = _profile([("EUR", "240.00")] * 5 + [("GBP", "150.00")] * 2)
    traits = enriched_traits(profile)
    assert (traits["lifetime_value"], traits["lifetime_value_currency"]) == ("1200.00", "EUR")


def test_the_currency_she_spends_most_in_is_pushed() -> None:
    # GIVEN five orders of 240 EUR and three of 15,000 KRW
    profile = _profile([("EUR", "240.00")] * 5 + [("KRW", "15000")] * 3)
    assert {c: str(v) for c, v in profile.computed.lifetime_value.items()} == {
        "EUR": "1200.00",
        "KRW": "45000",
    }
    # WHEN the enriched traits are made for a push
    traits = enriched_traits(profile)
    # THEN the tools are told of her 1,200 EUR (before: 45000 KRW, average 15000)
    assert (traits["lifetime_value"], traits["lifetime_value_currency"]) == ("1200.00", "EUR")
    assert traits["average_order_value"] == "240.00"
