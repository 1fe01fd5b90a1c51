"""Unit tests of the Stripe connector: money, charges as orders, events, push, erase, spec fidelity."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.stripe import PLUGIN, charge_order, make_sandbox, to_major
from connectors.stripe._erase import RedactionJobError
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


def _customer_with_charges(sandbox: Any, *, email: bool) -> dict[str, Any]:
    return next(
        c
        for c in sandbox.customers.values()
        if bool(c["email"]) is email
        and c["phone"]
        and any(ch["customer"] == c["id"] for ch in sandbox.charges.values())
    )


def test_erasing_a_customer_redacts_it_and_every_charge_and_event_that_carries_the_person() -> None:
    # GIVEN a customer with charges (their billing details name the person), changed once (an event)
    sandbox = make_sandbox(people=40, seed=5)
    customer = _customer_with_charges(sandbox, email=True)
    sandbox.touch({f"customer:{customer['id']}"})
    values = [customer["email"], customer["phone"], customer["name"]]
    assert all(v in sandbox.holdings() for v in values)
    # WHEN the customer is erased by the id we hold
    with PLUGIN.build(sandbox.settings()) as connector:
        (outcome,) = connector.erase([Identifier(kind="source", value=f"stripe:customer:{customer['id']}")])
        # THEN a redaction job ran over the customer and its charges, and nothing of the person is left
        assert outcome.found
        assert "redaction job" in outcome.detail
        held = sandbox.holdings()
        assert not [v for v in values if v in held]
        charges = [ch for ch in sandbox.charges.values() if ch["customer"] == customer["id"]]
        assert charges
        assert all(ch["billing_details"]["email"] == "[redacted]" for ch in charges)
        [job] = sandbox.jobs.values()
        assert (job["status"], sorted(job["objects"]["charges"])) == (
            "redacting",
            sorted(c["id"] for c in charges),
        )
        # AND erasing it again is confirmed absent: nothing is left to redact
        (again,) = connector.erase([Identifier(kind="source", value=f"stripe:customer:{customer['id']}")])
        assert (again.found, again.absent) == (False, True)


def test_a_phone_only_customer_is_erased_by_the_id_we_hold() -> None:
    sandbox = make_sandbox(people=60, seed=5)
    customer = _customer_with_charges(sandbox, email=False)
    phone = customer["phone"]
    with PLUGIN.build(sandbox.settings()) as connector:
        (by_phone,) = connector.erase([Identifier(kind="phone", value=phone)])
        assert (by_phone.found, by_phone.absent) == (False, False)  # not a lookup Stripe offers
        (by_id,) = connector.erase([Identifier(kind="source", value=f"stripe:customer:{customer['id']}")])
    assert by_id.found
    assert phone not in sandbox.holdings()


def test_a_redaction_job_that_fails_validation_is_an_error_naming_its_codes() -> None:
    # GIVEN a customer locked by another redaction job that was never run
    sandbox = make_sandbox(people=30, seed=5)
    customer = _customer_with_charges(sandbox, email=True)
    client = httpx.Client(
        transport=sandbox.transport(),
        base_url="https://api.stripe.com",
        headers={"Authorization": f"Bearer {sandbox.token}"},
    )
    other = client.post("/v1/privacy/redaction_jobs", data={"objects[customers][0]": customer["id"]}).json()
    assert other["status"] == "validating"
    # WHEN it is erased THEN the job's validation error is raised with its code, and nothing ran
    with (
        PLUGIN.build(sandbox.settings()) as connector,
        pytest.raises(RedactionJobError, match="locked_by_other_job"),
    ):
        connector.erase([Identifier(kind="source", value=f"stripe:customer:{customer['id']}")])
    assert customer["email"] in sandbox.holdings()


def test_charges_listed_by_customer_match_stripe_openapi_spec() -> None:
    spec = OpenApiSpec.load("stripe-api.json.gz")
    sandbox = make_sandbox(people=30, seed=3)
    customer = _customer_with_charges(sandbox, email=True)
    client = httpx.Client(
        transport=sandbox.transport(),
        base_url="https://api.stripe.com",
        headers={"Authorization": f"Bearer {sandbox.token}"},
    )
    response = client.get("/v1/charges", params={"customer": customer["id"], "limit": 100})
    spec.validate_httpx(response.request, response)
    assert {c["customer"] for c in response.json()["data"]} == {customer["id"]}
