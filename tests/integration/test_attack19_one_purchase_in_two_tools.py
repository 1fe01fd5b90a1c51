"""attack19: one purchase at a WooCommerce shop paid through Stripe is two orders of the profile.

WooCommerce's own Stripe gateway (woocommerce/woocommerce-gateway-stripe,
``includes/abstracts/abstract-wc-stripe-payment-gateway.php`` ``process_response``: ``$order->
payment_complete( $response->id )`` / ``set_transaction_id( $response->id )``) charges each order on
the shop's Stripe account and writes the Stripe id into the order's ``transaction_id``; the REST API
lists it (``payment_method: "stripe"``, ``transaction_id``). The charge on Stripe carries the order's
billing details, its amount in minor units and, for a registered customer, the Stripe customer the
gateway created for her (``customer``). A shop that connects both WooCommerce and Stripe, the
common setup, pulls every purchase twice: a WooCommerce ``order`` and a Stripe ``charge``.

Both land in the one profile (the charge by its Stripe customer, who has her email), and the
profile counts two orders: ``core.merge``/``core.computed_traits`` sum every order of every record,
and nothing in either mapping (``connectors/woocommerce/_mapping.py`` ``order_fragment``,
``connectors/stripe/_charges.py`` ``charge_order``) carries the link between the two. A one-time
buyer's lifetime value is doubled, her order count is 2 and her segment ``repeat``, and those
enriched traits are pushed to every tool.

The WooCommerce objects are the project's own fixtures (``connectors/woocommerce/fixtures/``), whose
order already says it was paid through the Stripe gateway (``payment_method: "stripe"``,
``transaction_id: "pi_3Q0000000000000000000000"``, a PaymentIntent id as newer gateway versions
store; older ones stored the charge id). The Stripe charge is shaped as Stripe's charge object
(``specs/stripe-api.json.gz``), with the ``payment_intent`` and ``metadata.order_id`` the gateway sets.

Promise: a profile's computed traits are a function of what the person did; one purchase is one order.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connectors.stripe import PLUGIN
from connectors.woocommerce._mapping import customer_draft, order_draft
from core.connector import ConnectorSettings, RawPage
from core.normalise import normalise_record
from core.pipeline import ingest
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore

FIXTURES = Path(__file__).resolve().parents[2] / "connectors" / "woocommerce" / "fixtures"


def _woo() -> tuple[dict[str, Any], dict[str, Any]]:
    customer = json.loads((FIXTURES / "customer.json").read_text(encoding="utf-8"))
    order = json.loads((FIXTURES / "order.json").read_text(encoding="utf-8"))
    return customer, order


def _stripe_customer(customer: dict[str, Any]) -> dict[str, Any]:
    """The Stripe customer the gateway made for the registered WooCommerce customer."""
    return {
        "id": "cus_Kovac",
        "object": "customer",
        "created": 1_789_742_290,  # 2026-09-18T14:38:10Z, when the order was made
        "email": customer["email"],
        "name": f"{customer['first_name']} {customer['last_name']}",
        "phone": customer["billing"]["phone"],
        "address": None,
        "metadata": {},
    }


def _charge(order: dict[str, Any], charge_id: str, intent: str) -> dict[str, Any]:
    """The order's charge on Stripe: its total in cents, the refund the order lists, its billing."""
    billing = order["billing"]
    refunded = sum(-round(float(r["total"]) * 100) for r in order["refunds"])
    return {
        "id": charge_id,
        "object": "charge",
        "amount": round(float(order["total"]) * 100),
        "amount_captured": round(float(order["total"]) * 100),
        "amount_refunded": refunded,
        "captured": True,
        "refunded": False,
        "paid": True,
        "status": "succeeded",
        "currency": order["currency"].lower(),
        "created": 1_789_742_294,  # 2026-09-18T14:38:14Z, the order's date_paid_gmt
        "customer": "cus_Kovac",
        "payment_intent": intent,
        "receipt_email": None,
        "description": f"Atelier Kovač - Order {order['number'] if 'number' in order else order['id']}",
        "metadata": {"order_id": str(order["id"])},
        "billing_details": {
            "address": {
                "city": billing["city"],
                "country": billing["country"],
                "line1": billing["address_1"],
                "line2": None,
                "postal_code": billing["postcode"],
                "state": None,
            },
            "email": billing["email"],
            "name": f"{billing['first_name']} {billing['last_name']}",
            "phone": billing["phone"],
        },
    }


STRIPE = PLUGIN.build(
    ConnectorSettings(credentials={"stripe_api_key": "sk_test_x"}, base_url="http://127.0.0.1:9")
)


def _records(
    order: dict[str, Any], charges: list[dict[str, Any]], customer: dict[str, Any]
) -> list[SourceRecord]:
    drafts: list[RecordDraft] = [
        customer_draft(customer),
        order_draft(order),
        *STRIPE.to_records(
            RawPage(records=[_stripe_customer(customer)], cursor=None, object_type="customer")
        ),
        *STRIPE.to_records(RawPage(records=charges, cursor=None, object_type="charge")),
    ]
    records = [normalise_record(d) for d in drafts]
    assert all(isinstance(r, SourceRecord) for r in records)
    return [r for r in records if isinstance(r, SourceRecord)]


def _profile(charges: list[dict[str, Any]], transaction_id: str | None = None) -> Any:
    customer, order = _woo()
    if transaction_id is not None:
        order = {**order, "transaction_id": transaction_id}
    store = InMemoryProfileStore()
    ingest(_records(order, charges, customer), store)
    profiles = list(store.iter_profiles())
    assert len(profiles) == 1
    return profiles[0]


def test_two_purchases_one_in_each_tool_are_two_orders() -> None:
    """The guard (green before and after): a Stripe charge of another purchase (another
    PaymentIntent, no order id) is a second order; a fix must not merge it into the shop's order."""
    _, order = _woo()
    other = {**_charge(order, "ch_3Other", "pi_3Other"), "metadata": {}, "amount_refunded": 0}
    assert _profile([other]).computed.order_count == 2


@pytest.mark.parametrize("stored_as", ["payment intent id", "charge id"])
def test_one_purchase_paid_through_the_stripe_gateway_is_one_order(stored_as: str) -> None:
    # GIVEN the shop's order paid through its Stripe gateway (a partial refund of 29.90 on both
    # sides), the order's transaction_id naming its PaymentIntent or, in older gateways, its charge
    _, order = _woo()
    charge = _charge(order, "ch_3Kovac", str(order["transaction_id"]))
    reference = charge["id"] if stored_as == "charge id" else None
    # WHEN the WooCommerce customer and order and the Stripe customer and charge are resolved
    profile = _profile([charge], transaction_id=reference)
    # THEN the profile counts one order of 34.80 EUR (before fix19c: two orders, 69.60 EUR, 'repeat')
    assert profile.computed.order_count == 1
    assert {c: str(v) for c, v in profile.computed.lifetime_value.items()} == {"EUR": "34.80"}
    assert profile.computed.segment != "repeat"
