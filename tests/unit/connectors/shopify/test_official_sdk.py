"""Shopify's own Python SDK (ShopifyAPI) against the served sandbox: the GraphQL calls an SDK user
makes most, each document and answer checked against Shopify's published Admin schema (2026-01).

One test per call; together with the other vendors' ``test_official_sdk.py`` they are the matrix that
says how many common SDK calls the sandboxes serve.
"""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.shopify import make_sandbox
from profilesync.testing.specs import GraphQLSchema
from tests.unit.connectors.served import Served, served

shopify = pytest.importorskip("shopify")

VERSION = "2026-01"
QUERY = "{ customers(first: 5) { nodes { id } pageInfo { hasNextPage endCursor } } }"


def _check(request: httpx.Request, response: httpx.Response) -> None:
    """Each GraphQL document against Shopify's schema, and the ``data`` it got against the same."""
    if not request.url.path.endswith("/graphql.json") or response.status_code != 200:
        return
    sent = json.loads(request.content)
    schema = GraphQLSchema.load()
    schema.validate(sent["query"], sent.get("variables"))
    body = json.loads(response.content)
    if body.get("data") is not None:
        schema.validate_result(sent["query"], body["data"], sent.get("variables"))


@pytest.fixture
def server() -> Iterator[Served]:
    sandbox = make_sandbox(people=30, seed=3)
    with served(sandbox, _check) as running:
        yield running
        running.assert_clean()
    shopify.ShopifyResource.clear_session()


def _activate(url: str, token: str) -> None:
    session = shopify.Session("profilesync-sandbox.myshopify.com", VERSION, token)
    shopify.ShopifyResource.activate_session(session)
    # The SDK builds https://<shop>/admin/api/<version>; the sandbox serves plain HTTP on loopback.
    shopify.ShopifyResource.set_site(f"{url}/admin/api/{VERSION}")


@pytest.fixture
def graphql(server: Served) -> Any:
    _activate(server.url, server.sandbox.settings(transport=False).credentials["shopify_access_token"])

    def execute(document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(shopify.GraphQL().execute(document, variables))
        assert "errors" not in body, body["errors"]
        return body

    return execute


def _customer_with_orders(graphql: Any) -> str:
    body = graphql("{ orders(first: 5) { nodes { customer { id } } } }")
    return next(o["customer"]["id"] for o in body["data"]["orders"]["nodes"] if o["customer"])


def test_the_sdk_graphql_client_pages_customers_from_the_sandbox(graphql: Any) -> None:
    body = graphql(QUERY)
    nodes = body["data"]["customers"]["nodes"]
    assert len(nodes) == 5
    assert all(n["id"].startswith("gid://shopify/Customer/") for n in nodes)
    assert body["data"]["customers"]["pageInfo"]["hasNextPage"] is True
    following = graphql(
        "query($after: String) { customers(first: 5, after: $after) { nodes { id } } }",
        {"after": body["data"]["customers"]["pageInfo"]["endCursor"]},
    )
    assert not {n["id"] for n in nodes} & {n["id"] for n in following["data"]["customers"]["nodes"]}
    assert "cost" in body["extensions"]


def test_the_sdk_sees_a_401_for_a_wrong_token(server: Served) -> None:
    _activate(server.url, "shpat_wrong")
    with pytest.raises(urllib.error.HTTPError) as caught:
        shopify.GraphQL().execute(QUERY)
    assert caught.value.code == 401


def test_shop(graphql: Any) -> None:
    shop = graphql(
        "{ shop { id name email myshopifyDomain currencyCode ianaTimezone plan { publicDisplayName } } }"
    )
    answer = shop["data"]["shop"]
    assert answer["myshopifyDomain"] == "profilesync-sandbox.myshopify.com"
    assert answer["id"].startswith("gid://shopify/Shop/")
    assert len(answer["currencyCode"]) == 3


def test_customer_by_id(graphql: Any) -> None:
    owner = _customer_with_orders(graphql)
    body = graphql(
        "query($id: ID!) { customer(id: $id) { id displayName defaultEmailAddress { emailAddress } "
        "numberOfOrders } }",
        {"id": owner},
    )
    assert body["data"]["customer"]["id"] == owner
    assert int(body["data"]["customer"]["numberOfOrders"]) >= 1


def test_customers_search_by_email(graphql: Any) -> None:
    first = graphql('{ customers(first: 1, query: "email:*") { nodes { id email } } }')
    someone = first["data"]["customers"]["nodes"][0]
    found = graphql(
        "query($q: String) { customers(first: 5, query: $q) { nodes { id } } }",
        {"q": f"email:{someone['email']}"},
    )
    assert [n["id"] for n in found["data"]["customers"]["nodes"]] == [someone["id"]]


def test_customers_count(graphql: Any, server: Served) -> None:
    body = graphql("{ customersCount { count precision } }")
    assert body["data"]["customersCount"]["count"] == len(server.sandbox.customers)


def test_orders_with_line_items(graphql: Any) -> None:
    body = graphql(
        "{ orders(first: 5) { nodes { id name lineItems(first: 10) { nodes { id title quantity sku "
        "originalUnitPriceSet { shopMoney { amount currencyCode } } } } "
        "totalPriceSet { shopMoney { amount } } } } }"
    )
    orders = body["data"]["orders"]["nodes"]
    assert orders
    for order in orders:
        items = order["lineItems"]["nodes"]
        assert items
        assert all(i["quantity"] >= 1 and i["id"].startswith("gid://shopify/LineItem/") for i in items)
        total = sum(float(i["originalUnitPriceSet"]["shopMoney"]["amount"]) * i["quantity"] for i in items)
        assert abs(total - float(order["totalPriceSet"]["shopMoney"]["amount"])) < 0.01


def test_order_by_id_with_line_items(graphql: Any) -> None:
    listed = graphql("{ orders(first: 1) { nodes { id } } }")
    order_id = listed["data"]["orders"]["nodes"][0]["id"]
    body = graphql(
        "query($id: ID!) { order(id: $id) { id lineItems(first: 5) { nodes { title quantity } } } }",
        {"id": order_id},
    )
    assert body["data"]["order"]["id"] == order_id
    assert body["data"]["order"]["lineItems"]["nodes"]


def test_customer_update(graphql: Any, server: Served) -> None:
    owner = _customer_with_orders(graphql)
    body = graphql(
        "mutation($input: CustomerInput!) { customerUpdate(input: $input) { customer { id firstName note "
        "tags updatedAt } userErrors { field message } } }",
        {"input": {"id": owner, "firstName": "Updated", "note": "VIP", "tags": ["vip", "sdk"]}},
    )
    payload = body["data"]["customerUpdate"]
    assert payload["userErrors"] == []
    assert payload["customer"]["firstName"] == "Updated"
    assert payload["customer"]["tags"] == ["sdk", "vip"]
    again = graphql("query($id: ID!) { customer(id: $id) { firstName note } }", {"id": owner})
    assert again["data"]["customer"] == {"firstName": "Updated", "note": "VIP"}


def test_customer_update_of_an_unknown_customer_is_a_user_error(graphql: Any) -> None:
    body = graphql(
        "mutation($input: CustomerInput!) { customerUpdate(input: $input) { customer { id } "
        "userErrors { field message } } }",
        {"input": {"id": "gid://shopify/Customer/999999999", "firstName": "Nobody"}},
    )
    payload = body["data"]["customerUpdate"]
    assert payload["customer"] is None
    assert payload["userErrors"][0]["field"] == ["id"]
