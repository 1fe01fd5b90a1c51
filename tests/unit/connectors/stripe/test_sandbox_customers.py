"""The sandbox's customer writes, search and expand answer as Stripe does where the SDK tests do not
look: the search language's rules, refused expansions, unset fields, events. Answers are checked
against Stripe's published spec."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.stripe import make_sandbox
from connectors.stripe._sandbox import StripeSandbox
from profilesync.testing.specs import OpenApiSpec

SPEC = OpenApiSpec.load("stripe-api.json.gz")


@pytest.fixture
def sandbox() -> StripeSandbox:
    return make_sandbox(people=40, seed=3, requests_per_second=10_000)


@pytest.fixture
def client(sandbox: StripeSandbox) -> httpx.Client:
    def checked(request: httpx.Request) -> httpx.Response:
        response = sandbox.handle(request)
        response.read()
        response.request = request
        SPEC.validate_httpx(request, response, check_request=False)
        return response

    return httpx.Client(
        transport=httpx.MockTransport(checked),
        base_url="https://api.stripe.com",
        headers={"Authorization": f"Bearer {sandbox.token}"},
    )


def _customers(sandbox: StripeSandbox) -> list[dict[str, Any]]:
    with sandbox.lock:
        return [dict(c) for c in sandbox.customers.values() if c.get("email")]


def _search(client: httpx.Client, query: str, **params: str) -> httpx.Response:
    return client.get("/v1/customers/search", params={"query": query, **params})


def test_search_clauses_and_or_negation_metadata_and_created(
    client: httpx.Client, sandbox: StripeSandbox
) -> None:
    first, second, *_ = _customers(sandbox)
    client.post(f"/v1/customers/{first['id']}", data={"metadata[tier]": "gold"})
    both = _search(client, f"email:'{first['email'].upper()}' OR email:'{second['email']}'").json()
    gold = _search(client, "metadata['tier']:'gold'").json()
    not_gold = _search(client, f"-metadata['tier']:'gold' AND created>={first['created']}").json()
    assert {c["id"] for c in both["data"]} == {first["id"], second["id"]}
    assert [c["id"] for c in gold["data"]] == [first["id"]]
    assert first["id"] not in {c["id"] for c in not_gold["data"]}
    assert all(c["created"] >= first["created"] for c in not_gold["data"])


def test_search_pages_with_next_page(client: httpx.Client, sandbox: StripeSandbox) -> None:
    first = _search(client, "created>0", limit="5").json()
    assert first["has_more"] is True
    second = _search(client, "created>0", limit="5", page=first["next_page"]).json()
    assert not {c["id"] for c in first["data"]} & {c["id"] for c in second["data"]}


@pytest.mark.parametrize(
    "query",
    ["", "email:'a@b.c' AND name:'x' OR phone:'1'", "name~'ab'", "shoe:'9'", "created:'yesterday'"],
)
def test_a_query_stripe_refuses_is_a_400(client: httpx.Client, query: str) -> None:
    answer = _search(client, query)
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "query"


def test_expand_resolves_customers_and_refuses_what_cannot_be_expanded(
    client: httpx.Client, sandbox: StripeSandbox
) -> None:
    with sandbox.lock:
        charge = dict(next(iter(sandbox.charges.values())))
    listed = client.get("/v1/charges", params={"expand[]": "data.customer", "limit": "3"}).json()
    refused = client.get(f"/v1/charges/{charge['id']}", params={"expand[]": "amount"})
    assert all(isinstance(c["customer"], dict) for c in listed["data"])
    assert refused.status_code == 400
    assert refused.json()["error"]["param"] == "expand"
    # AND a charge whose customer was deleted expands to Stripe's deleted stub
    client.delete(f"/v1/customers/{charge['customer']}")
    expanded = client.get(f"/v1/charges/{charge['id']}", params={"expand[0]": "customer"}).json()
    assert expanded["customer"] == {"id": charge["customer"], "object": "customer", "deleted": True}


def test_create_and_update_customers(client: httpx.Client, sandbox: StripeSandbox) -> None:
    created = client.post(
        "/v1/customers",
        data={"email": "made@example.com", "name": "Made Here", "address[country]": "United Kingdom"},
    ).json()
    # Stripe keeps the country as given (it does not check it is an ISO code)
    assert created["address"]["country"] == "United Kingdom"
    updated = client.post(f"/v1/customers/{created['id']}", data={"name": "", "address[city]": "York"}).json()
    assert updated["name"] is None
    assert updated["address"] == {**created["address"], "city": "York"}
    with sandbox.lock:
        types = [e["type"] for e in sandbox.events.values() if e["data"]["object"]["id"] == created["id"]]
    assert types == ["customer.created", "customer.updated"]
    bad = client.post("/v1/customers", data={"address[planet]": "Mars"})
    assert bad.status_code == 400


def test_an_unchanged_update_records_no_event(client: httpx.Client, sandbox: StripeSandbox) -> None:
    customer = _customers(sandbox)[0]
    before = len(sandbox.events)
    client.post(f"/v1/customers/{customer['id']}", data={"name": customer["name"] or ""})
    assert len(sandbox.events) == before
