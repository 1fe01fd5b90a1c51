"""attack21: one ¥1,200 purchase makes a shopper ``vip`` in every tool.

The segment pushed to every tool is computed in ``core/computed_traits.py:82``: ``vip`` when *any*
currency's lifetime value reaches ``MergeRules.vip_lifetime_value`` (``core/merge.py:60``, 1000, no
currency). Amounts are kept per currency in major units (``core.minor_units``: JPY and KRW have none),
so 1,000 of anything is ``vip``: ¥1,000 (about 6 EUR), ₩1,000 (under 1 EUR), while a Kuwaiti buyer
needs 1,000 KWD (about 3,000 EUR). No setting changes it: nothing in ``core/config.py`` or
``profilesync.yaml`` reads the threshold, so a Japanese WooCommerce shop (``currency: "JPY"``,
totals written ``"1200"``, woocommerce/woocommerce-rest-api-docs ``source/includes/wp-api-v3/
_orders.md``: ``total`` "Grand total", ``currency`` "Currency the order was created with") tags every
buyer of a tote bag ``vip`` in Mailchimp, Klaviyo, HubSpot and Salesforce (``ProfileSync_Segment__c``).

Promise: the profile's numbers are right, segment included.
Fix: a threshold per currency (``vip_lifetime_value: {"USD": 1000, "JPY": 150000, ...}`` read from the
configuration, a currency without one never ``vip`` on its own; or one threshold scaled through a
declared rate table); the same in ``core.grow_mark``'s fingerprint of the rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.woocommerce._mapping import customer_draft, order_draft
from core.normalise import normalise_record
from core.pipeline import ingest
from core.push import enriched_traits
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore

FIXTURES = Path(__file__).resolve().parents[2] / "connectors" / "woocommerce" / "fixtures"


def _shop(currency: str, total: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The project's WooCommerce customer and her one order, in a shop selling in ``currency``."""
    customer = json.loads((FIXTURES / "customer.json").read_text(encoding="utf-8"))
    order = json.loads((FIXTURES / "order.json").read_text(encoding="utf-8"))
    order = {**order, "currency": currency, "total": total, "refunds": [], "transaction_id": ""}
    return customer, order


def _profile(currency: str, total: str) -> Any:
    customer, order = _shop(currency, total)
    records = [normalise_record(customer_draft(customer)), normalise_record(order_draft(order))]
    assert all(isinstance(r, SourceRecord) for r in records), records
    store = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord)], store)
    (profile,) = list(store.iter_profiles())
    return profile


def test_a_large_purchase_in_dollars_is_vip() -> None:
    """The guard (green before and after): 1,200 USD is past the threshold, and a fix keeps it so."""
    profile = _profile("USD", "1200.00")
    assert profile.computed.order_count == 1
    assert enriched_traits(profile)["segment"] == "vip"


@pytest.mark.parametrize(("currency", "total"), [("JPY", "1200"), ("KRW", "15000")])
def test_one_small_purchase_in_a_zero_decimal_currency_is_not_vip(currency: str, total: str) -> None:
    # GIVEN a shop selling in yen (or won) and one buyer of one ¥1,200 item (₩15,000: about 10 EUR)
    # WHEN her customer record and her one completed order are resolved
    profile = _profile(currency, total)
    assert profile.computed.order_count == 1
    assert {c: str(v) for c, v in profile.computed.lifetime_value.items()} == {currency: total}
    # THEN she is a customer, as the same purchase in dollars would make her, not a 'vip'
    assert profile.computed.segment == "customer"
    assert enriched_traits(profile)["segment"] == "customer"
