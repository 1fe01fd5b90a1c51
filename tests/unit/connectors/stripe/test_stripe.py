"""Unit tests of the Stripe connector: money, charges as orders, events, push, erase, spec fidelity."""

from __future__ import annotations

from decimal import Decimal

import httpx

from connectors.stripe import PLUGIN, charge_order, make_sandbox, to_major
from core.schema import Identifier
from profilesync.testing.specs import OpenApiSpec


def test_amounts_use_the_currency_exponent() -> None:
    assert to_major(1999, "usd") == Decimal("19.99")
    assert to_major(500, "JPY") == Decimal("500")
    assert to_major(1234, "kwd") == Decimal("1.234")
    assert to_major("12", "usd") is None


def test_a_charge_becomes_an_order() -> None:
    order = charge_order(
        {
            "id": "ch_1",
            "amount": 250,
            "currency": "eur",
            "created": 1,
            "status": "succeeded",
            "refunded": True,
        }
    )
    assert order == {
        "id": "ch_1",
        "total": Decimal("2.50"),
        "currency": "EUR",
        "created_at": 1,
        "status": "refunded",
    }
    assert charge_order({"amount": 1, "currency": "usd", "status": "failed"})["status"] == "cancelled"


def test_list_responses_match_stripe_openapi_spec() -> None:
    spec = OpenApiSpec.load("stripe-api.json.gz")
    sandbox = make_sandbox(people=30, seed=3)
    client = httpx.Client(
        transport=sandbox.transport(),
        base_url="https://api.stripe.com",
        headers={"Authorization": f"Bearer {sandbox.token}"},
    )
    for path in ("/v1/customers?limit=5", "/v1/charges?limit=5"):
        response = client.get(path)
        assert response.status_code == 200
        spec.validate_httpx(response.request, response)


def test_touching_a_customer_comes_back_through_events_and_erase_deletes() -> None:
    sandbox = make_sandbox(people=30, seed=3)
    with PLUGIN.build(sandbox.settings()) as connector:
        cursor = [p.cursor for p in connector.pull(None)][-1]
        key = sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))[0]
        sandbox.touch({key})
        drafts = [d for p in connector.pull(cursor) for d in connector.to_records(p)]
        assert [f"{d.object_type}:{d.source_id}" for d in drafts] == [key]
        email = next(c["email"] for c in sandbox.customers.values() if c["email"])
        (outcome,) = connector.erase([Identifier(kind="email", value=email)])
        assert outcome.found
        assert not sandbox.holds(email)
