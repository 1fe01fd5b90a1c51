"""Stripe's own Python SDK (stripe) against the served sandbox: the calls an SDK user makes most,
each answered in Stripe's shapes (every answer is checked against Stripe's published spec).

One test per SDK call; together with the other vendors' ``test_official_sdk.py`` they are the matrix
that says how many common SDK calls the sandboxes serve.
"""

from __future__ import annotations

from typing import Any

import pytest

from connectors.stripe._sandbox import StripeSandbox

stripe = pytest.importorskip("stripe")

SPEC = "stripe-api.json.gz"


def _customer(sandbox: StripeSandbox) -> dict[str, Any]:
    with sandbox.lock:
        return dict(next(c for c in sandbox.customers.values() if c.get("email")))


def test_customers_list_and_auto_paging(client: Any, sandbox: StripeSandbox) -> None:
    page = client.v1.customers.list({"limit": 5})
    assert len(page.data) == 5
    assert page.has_more is True
    everyone = [c.id for c in page.auto_paging_iter()]
    assert sorted(everyone) == sorted(sandbox.customers)


def test_customers_retrieve(client: Any, sandbox: StripeSandbox) -> None:
    wanted = _customer(sandbox)
    got = client.v1.customers.retrieve(wanted["id"])
    assert got.id == wanted["id"]
    assert got.email == wanted["email"]


def test_customers_create(client: Any, sandbox: StripeSandbox) -> None:
    created = client.v1.customers.create(
        {
            "email": "sdk.create@example.com",
            "name": "Ada Stone",
            "address": {"country": "GB", "city": "Leeds"},
            "metadata": {"origin": "sdk"},
        }
    )
    assert created.id.startswith("cus_")
    assert created.object == "customer"
    assert created.address.country == "GB"
    assert created.metadata["origin"] == "sdk"
    assert sandbox.holds("sdk.create@example.com")


def test_customers_update_metadata(client: Any, sandbox: StripeSandbox) -> None:
    wanted = _customer(sandbox)
    updated = client.v1.customers.update(wanted["id"], {"metadata": {"tier": "gold"}, "name": "New Name"})
    assert updated.metadata["tier"] == "gold"
    assert updated.name == "New Name"


def test_customers_search_by_email(client: Any, sandbox: StripeSandbox) -> None:
    wanted = _customer(sandbox)
    found = client.v1.customers.search({"query": f"email:'{wanted['email']}'"})
    assert found.object == "search_result"
    assert [c.id for c in found.data] == [wanted["id"]]


def test_charges_list_with_expanded_customer(client: Any, sandbox: StripeSandbox) -> None:
    with sandbox.lock:
        owner = next(c["customer"] for c in sandbox.charges.values())
    page = client.v1.charges.list({"customer": owner, "expand": ["data.customer"], "limit": 10})
    assert page.data
    assert all(c.customer.id == owner and c.customer.object == "customer" for c in page.data)


def test_charges_retrieve_with_expand(client: Any, sandbox: StripeSandbox) -> None:
    with sandbox.lock:
        charge = dict(next(iter(sandbox.charges.values())))
    plain = client.v1.charges.retrieve(charge["id"])
    expanded = client.v1.charges.retrieve(charge["id"], {"expand": ["customer"]})
    assert plain.customer == charge["customer"]  # an id unless expanded
    assert expanded.customer.id == charge["customer"]
    assert expanded.customer.object == "customer"


def test_a_deleted_customer_is_retrieved_as_deleted(client: Any, sandbox: StripeSandbox) -> None:
    wanted = _customer(sandbox)
    deleted = client.v1.customers.delete(wanted["id"])
    assert deleted.deleted is True
    again = client.v1.customers.retrieve(wanted["id"])
    assert again.id == wanted["id"]
    assert again.deleted is True


def test_addresses_carry_iso_country_codes(client: Any) -> None:
    countries = {c.address.country for c in client.v1.customers.list({"limit": 100}).data if c.address}
    assert countries
    assert all(len(c) == 2 and c.isupper() for c in countries), countries


def test_events_list_by_type(client: Any, sandbox: StripeSandbox) -> None:
    wanted = _customer(sandbox)
    client.v1.customers.update(wanted["id"], {"metadata": {"touched": "yes"}})
    events = client.v1.events.list({"type": "customer.updated", "limit": 10})
    assert events.data
    assert events.data[0].data.object["id"] == wanted["id"]


def test_a_deleted_customer_is_announced_by_a_customer_deleted_event(
    client: Any, sandbox: StripeSandbox
) -> None:
    # GIVEN a customer deleted through the SDK
    wanted = _customer(sandbox)
    client.v1.customers.delete(wanted["id"])
    # WHEN the SDK lists the customer.deleted events (every answer checked against Stripe's spec)
    events = client.v1.events.list({"type": "customer.deleted", "limit": 10})
    # THEN one event names it, carrying the customer as it was, as Stripe's event types document
    (event,) = events.data
    assert event.type == "customer.deleted"
    assert event.data.object["id"] == wanted["id"]
    assert event.data.object["email"] == wanted["email"]
    assert wanted["id"] not in {c.id for c in client.v1.customers.list({"limit": 100}).auto_paging_iter()}


def test_events_list_by_types_pages_newest_first(client: Any, sandbox: StripeSandbox) -> None:
    # GIVEN a customer updated, another deleted, and a charge refunded
    first, second = [c for c in sandbox.customers.values() if c.get("email")][:2]
    client.v1.customers.update(first["id"], {"name": "Types Listed"})
    client.v1.customers.delete(second["id"])
    charge = next(iter(sandbox.charges))
    sandbox.touch({f"charge:{charge}"})
    # WHEN the SDK lists two of those types (it sends types[0]=...&types[1]=...), a page at a time
    wanted = ["customer.updated", "charge.refunded"]
    listed = list(client.v1.events.list({"types": wanted, "limit": 1}).auto_paging_iter())
    # THEN both of those events, and only those, newest first (every answer checked against the spec)
    assert [e.type for e in listed] == ["charge.refunded", "customer.updated"]
    assert listed[1].data.object["id"] == first["id"]


def test_events_list_refuses_type_with_types(client: Any) -> None:
    # Stripe: "You may pass either type or types, but not both."
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.events.list({"type": "customer.updated", "types": ["customer.deleted"]})
    assert refused.value.param == "types"


def test_events_of_one_second_page_across_a_boundary_newest_first(
    client: Any, sandbox: StripeSandbox
) -> None:
    # GIVEN a customer renamed 101 times on one second (more than a page: the connector counts a
    # second's events across its pages, connectors/stripe/_event_seconds.counted_across_pages)
    wanted = _customer(sandbox)
    at = sandbox.clock.now().replace(microsecond=0)
    for _ in range(101):
        sandbox.touch({f"customer:{wanted['id']}"}, at=at)
    # WHEN the SDK pages the customer.updated events 100 a request (Stripe's most), as the pull does
    page = client.v1.events.list({"type": "customer.updated", "limit": 100})
    listed = list(page.auto_paging_iter())
    # THEN the first page is full and says more follow, and the walk holds every rename once, newest
    # first (the last name first), on one second (every answer checked against Stripe's spec)
    assert len(page.data) == 100
    assert page.has_more is True
    ours = [e for e in listed if e.data.object["id"] == wanted["id"]]
    assert len({e.id for e in ours}) == len(ours) == 101
    assert {e.created for e in ours} == {int(at.timestamp())}
    assert ours[0].data.object["name"] == sandbox.customers[wanted["id"]]["name"]
