"""Unit tests of the Stripe connector: money, charges as orders, events, push, erase, spec fidelity."""

from __future__ import annotations

import dataclasses
import gzip
import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.stripe import PLUGIN, charge_order, make_sandbox, to_major
from connectors.stripe._erase import RedactionJobError
from core.connector import RawPage
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import Identifier, Quarantined, SourceRecord
from core.storage.memory import InMemoryProfileStore
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
        "payment_refs": ["stripe:ch_1"],  # no payment_intent: its own id only (fix19c)
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


def _stripe_example(resource: str) -> dict[str, Any]:
    """Stripe's own example object of a resource (specs/stripe-fixtures3.json.gz)."""
    from connectors.stripe._sandbox import FIXTURES

    example: dict[str, Any] = json.loads(gzip.decompress(FIXTURES.read_bytes()))["resources"][resource]
    return example


def test_stripe_example_charge_naming_a_customer_with_no_email_reaches_lifetime_value() -> None:
    # GIVEN Stripe's own example customer (given an email: the example has none), and the example
    # charge (both email fields null) made for that customer: on main the charge was quarantined
    customer, charge = _stripe_example("customer"), _stripe_example("charge")
    customer = {**customer, "email": "jenny.rosen@example.com"}
    assert charge["billing_details"]["email"] is None
    assert charge["receipt_email"] is None
    # (captured: the example is an authorisation only, which no lifetime value counts until then)
    charge = {**charge, "customer": customer["id"], "captured": True, "amount_captured": charge["amount"]}
    sandbox = make_sandbox(people=0)
    connector = PLUGIN.build(sandbox.settings())
    drafts = [
        *connector.to_records(RawPage([customer], None, "customer")),
        *connector.to_records(RawPage([charge], None, "charge")),
    ]
    # WHEN normalised and ingested
    records = [normalise_record(d) for d in drafts]
    assert all(isinstance(r, SourceRecord) for r in records), records
    store = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord)], store, IngestSettings(sleep=lambda _: None))
    # THEN the charge joined its customer by id, and its amount is in lifetime value
    [profile] = store.iter_profiles()
    assert {s.object_type for s in profile.sources} == {"customer", "charge"}
    assert profile.computed.lifetime_value == {"USD": Decimal("1.00")}


def test_stripe_example_charge_with_no_customer_and_no_email_is_quarantined_with_the_reason() -> None:
    # GIVEN the example charge as published: no customer, no email: nothing says whose it is
    sandbox = make_sandbox(people=0)
    connector = PLUGIN.build(sandbox.settings())
    [draft] = connector.to_records(RawPage([_stripe_example("charge")], None, "charge"))
    result = normalise_record(draft)
    assert isinstance(result, Quarantined)
    assert result.reason.startswith("no usable identifier (no valid email or phone, and no owner id)")


def test_a_junk_element_at_the_end_of_a_stripe_page_neither_fails_the_page_nor_ends_the_walk() -> None:
    # GIVEN a charges list whose first page ends with a string where a charge should be (has_more)
    charge = _stripe_example("charge")
    pages = {
        None: {
            "object": "list",
            "data": [{**charge, "id": "ch_a", "customer": "cus_1"}, "oops"],
            "has_more": True,
        },
        "ch_a": {
            "object": "list",
            "data": [{**charge, "id": "ch_b", "customer": "cus_1"}],
            "has_more": False,
        },
    }
    asked: list[str | None] = []

    def vendor(request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1/charges":
            return httpx.Response(200, json={"object": "list", "data": [], "has_more": False})
        after = request.url.params.get("starting_after")
        asked.append(after)
        return httpx.Response(200, json=pages[after])

    settings = make_sandbox(people=0).settings()
    connector = PLUGIN.build(dataclasses.replace(settings, transport=httpx.MockTransport(vendor)))
    # WHEN pulled and mapped
    pulled = [p for p in connector.pull(None) if p.object_type == "charge"]
    drafts = [d for p in pulled for d in connector.to_records(p)]
    # THEN the next page starts after the last charge, and the junk is quarantined alone
    assert asked == [None, "ch_a"]
    outcomes = [normalise_record(d) for d in drafts]
    assert [o.source_id for o in outcomes if isinstance(o, SourceRecord)] == ["ch_a", "ch_b"]
    [junk] = [o for o in outcomes if isinstance(o, Quarantined)]
    assert junk.reason == "a page element is a string, not an object: 'oops'"


def test_a_customer_updated_then_deleted_in_one_window_arrives_as_the_update_and_a_later_tombstone() -> None:
    # GIVEN a full pull of the Stripe sandbox
    from datetime import UTC, datetime, timedelta

    from connectors.stripe import PLUGIN

    sandbox = PLUGIN.sandbox(people=30, seed=3)  # type: ignore[misc]
    connector = PLUGIN.build(sandbox.settings())
    pages = list(connector.pull(None))
    cursor = pages[-1].cursor
    customer = sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))[0]
    at = datetime(2026, 11, 20, 12, tzinfo=UTC)
    # WHEN the customer is renamed, then deleted, before the next pull
    sandbox.touch({customer}, at=at)
    sandbox.delete_records({customer}, at=at + timedelta(seconds=5))
    drafts = [d for p in connector.pull(cursor) for d in connector.to_records(p)]
    # THEN the pull carries the update and, dated after it, the tombstone: retiring wins
    mine = [d for d in drafts if f"{d.object_type}:{d.source_id}" == customer]
    assert [d.deleted for d in mine] == [False, True]
    # (a deletion is dated at the end of its second: after every update of that second)
    assert mine[1].updated_at == at + timedelta(seconds=5, microseconds=999_999)
    assert mine[0].updated_at < mine[1].updated_at
    assert (mine[1].emails, mine[1].traits) == ([], {})
