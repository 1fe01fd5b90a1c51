"""The sandbox's customerCreate/customerUpdate and line items answer as Shopify does where the SDK tests
do not look: taken emails, refused consent updates, metafields with a bad value, lines in bulk exports.
Every document and answer is checked against Shopify's published Admin schema."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.shopify import ShopifySandbox

from .conftest import SchemaCheckedTransport

URL = "https://profilesync-sandbox.myshopify.com/admin/api/2026-01/graphql.json"
CREATE = (
    "mutation($input: CustomerInput!) { customerCreate(input: $input) { customer { id email firstName "
    'emailMarketingConsent { marketingState } metafield(namespace: "profilesync", key: "segment") '
    "{ value } } userErrors { field message } } }"
)
UPDATE = (
    "mutation($input: CustomerInput!) { customerUpdate(input: $input) { customer { id email note updatedAt } "
    "userErrors { field message } } }"
)


@pytest.fixture
def graphql(sandbox: ShopifySandbox, transport: SchemaCheckedTransport) -> Any:
    token = sandbox.settings(transport=False).credentials["shopify_access_token"]
    client = httpx.Client(transport=transport, headers={"X-Shopify-Access-Token": token})

    def execute(document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = client.post(URL, json={"query": document, "variables": variables or {}}).json()
        assert "errors" not in body, body
        return body["data"]

    return execute


def _email(sandbox: ShopifySandbox, n: int = 0) -> tuple[dict[str, Any], str]:
    with sandbox.lock:
        found = [c for c in sandbox.customers.values() if c.get("defaultEmailAddress")]
    return found[n], str(found[n]["defaultEmailAddress"]["emailAddress"])


def test_customer_create_with_metafields_and_consent(graphql: Any, sandbox: ShopifySandbox) -> None:
    metafield = {
        "namespace": "profilesync",
        "key": "segment",
        "value": "vip",
        "type": "single_line_text_field",
    }
    created = graphql(
        CREATE,
        {
            "input": {
                "email": "new.buyer@example.com",
                "firstName": "New",
                "metafields": [metafield],
                "emailMarketingConsent": {
                    "marketingState": "SUBSCRIBED",
                    "marketingOptInLevel": "SINGLE_OPT_IN",
                },
            }
        },
    )["customerCreate"]
    assert created["userErrors"] == []
    assert created["customer"]["email"] == "new.buyer@example.com"
    assert created["customer"]["emailMarketingConsent"]["marketingState"] == "SUBSCRIBED"
    assert created["customer"]["metafield"]["value"] == "vip"
    assert sandbox.holds("new.buyer@example.com")


def test_customer_create_refuses_a_taken_email_and_a_bad_metafield(
    graphql: Any, sandbox: ShopifySandbox
) -> None:
    _, taken = _email(sandbox)
    before = len(sandbox.customers)
    duplicate = graphql(CREATE, {"input": {"email": taken.upper()}})["customerCreate"]
    bad_value = graphql(
        CREATE,
        {
            "input": {
                "email": "bad.metafield@example.com",
                "metafields": [
                    {"namespace": "profilesync", "key": "orders", "value": "many", "type": "number_integer"}
                ],
            }
        },
    )["customerCreate"]
    nothing = graphql(CREATE, {"input": {"note": "who?"}})["customerCreate"]
    assert duplicate == {
        "customer": None,
        "userErrors": [{"field": ["email"], "message": "Email has already been taken"}],
    }
    assert bad_value["customer"] is None
    assert bad_value["userErrors"][0]["field"][0] == "metafields"
    assert nothing["customer"] is None
    assert len(sandbox.customers) == before


def test_customer_update_rules(graphql: Any, sandbox: ShopifySandbox) -> None:
    (first, _), (_, other) = _email(sandbox, 0), _email(sandbox, 1)
    taken = graphql(UPDATE, {"input": {"id": first["id"], "email": other}})["customerUpdate"]
    consent = graphql(
        UPDATE, {"input": {"id": first["id"], "emailMarketingConsent": {"marketingState": "SUBSCRIBED"}}}
    )["customerUpdate"]
    unknown = graphql(UPDATE, {"input": {"id": "gid://shopify/Customer/1", "note": "x"}})["customerUpdate"]
    assert taken["userErrors"] == [{"field": ["email"], "message": "Email has already been taken"}]
    assert consent["userErrors"][0]["field"] == ["emailMarketingConsent"]
    assert unknown == {
        "customer": None,
        "userErrors": [{"field": ["id"], "message": "Customer does not exist"}],
    }


def test_an_update_that_changes_nothing_keeps_updated_at(graphql: Any, sandbox: ShopifySandbox) -> None:
    customer, email = _email(sandbox)
    stamp = customer["updatedAt"]
    sandbox.clock.advance(60)
    same = graphql(UPDATE, {"input": {"id": customer["id"], "email": email}})["customerUpdate"]
    changed = graphql(UPDATE, {"input": {"id": customer["id"], "note": "called back"}})["customerUpdate"]
    assert same["customer"]["updatedAt"] == stamp
    assert changed["customer"]["updatedAt"] > stamp


def test_line_items_are_stable_and_add_up(graphql: Any, sandbox: ShopifySandbox) -> None:
    query = (
        "{ orders(first: 20) { nodes { id totalPriceSet { shopMoney { amount } } lineItems(first: 5) { nodes "
        "{ id quantity originalTotalSet { shopMoney { amount } } } } } } }"
    )
    first, again = graphql(query)["orders"]["nodes"], graphql(query)["orders"]["nodes"]
    assert first == again
    for order in first:
        lines = order["lineItems"]["nodes"]
        total = sum(round(float(line["originalTotalSet"]["shopMoney"]["amount"]) * 100) for line in lines)
        assert total == round(float(order["totalPriceSet"]["shopMoney"]["amount"]) * 100)
