"""The Shopify sandbox answers as the Admin GraphQL API does: auth, errors, cost, search, bulk files."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connectors._sandbox import serve
from connectors.shopify import PLUGIN, ShopifySandbox, make_sandbox, parse_bulk_jsonl
from connectors.shopify import _documents as docs
from profilesync.testing.specs import GraphQLSchema

from .conftest import SchemaCheckedTransport, check_cost, check_graphql_errors

URL = f"https://profilesync-sandbox.myshopify.com{docs.GRAPHQL_PATH}"


def ask(
    sandbox: ShopifySandbox, query: str, variables: dict[str, Any] | None = None, *, token: str | None = None
) -> httpx.Response:
    headers = {} if token == "" else {"X-Shopify-Access-Token": token or sandbox.token}
    request = httpx.Request("POST", URL, headers=headers, json={"query": query, "variables": variables or {}})
    response = sandbox.handle(request)
    response.read()
    return response


@pytest.fixture
def shop() -> ShopifySandbox:
    return make_sandbox(people=30, seed=7)


@pytest.mark.parametrize("token", ["", "shpat_wrong"])
def test_a_missing_or_wrong_token_gets_shopifys_401(shop: ShopifySandbox, token: str) -> None:
    response = ask(shop, "{ customersCount { count } }", token=token)
    assert response.status_code == 401
    assert response.json() == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


def test_every_answer_carries_the_cost_and_the_api_version(shop: ShopifySandbox) -> None:
    response = ask(shop, docs.COUNTS, {"limit": 5})
    body = response.json()
    assert response.headers["X-Shopify-API-Version"] == "2026-01"
    assert body["data"]["customersCount"] == {"count": 5, "precision": "AT_LEAST"}
    check_cost(body["extensions"]["cost"], throttled=False)
    assert body["extensions"]["cost"]["throttleStatus"] == {
        "maximumAvailable": 2000.0,
        "currentlyAvailable": 1998,
        "restoreRate": 100.0,
    }


def test_a_query_over_1000_points_is_refused_with_max_cost_exceeded(shop: ShopifySandbox) -> None:
    # GIVEN the connector's customer page at 250 (four points a node: 1,002 in all)
    body = ask(shop, docs.CUSTOMERS_PAGE, {"first": 250}).json()
    # THEN Shopify's error, and nothing was charged
    check_graphql_errors(body["errors"])
    assert body["errors"][0]["extensions"] == {"code": "MAX_COST_EXCEEDED", "cost": 1002, "maxCost": 1000}
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000
    assert "data" not in body


@pytest.mark.parametrize(
    ("query", "code", "fragment"),
    [
        ("{ customers(first: 251) { nodes { id } } }", "argumentLiteralsIncompatible", "between 0 and 250"),
        (
            "{ customers { nodes { id } } }",
            "argumentLiteralsIncompatible",
            "you must provide one of first or last",
        ),
        (
            "{ customers(first: 1) { nodes { shoeSize } } }",
            "undefinedField",
            "Field 'shoeSize' doesn't exist on type 'Customer'",
        ),
        (
            "{ customers(first: 1) { nodes { defaultAddress } } }",
            "selectionMismatch",
            "Field must have selections",
        ),
    ],
)
def test_invalid_documents_get_graphql_errors_with_locations(
    shop: ShopifySandbox, query: str, code: str, fragment: str
) -> None:
    response = ask(shop, query)
    body = response.json()
    assert response.status_code == 200
    assert "data" not in body
    check_graphql_errors(body["errors"])
    assert body["errors"][0]["extensions"]["code"] == code
    assert fragment in body["errors"][0]["message"]
    assert body["errors"][0]["locations"][0]["line"] == 1


def test_parse_errors_and_missing_queries_are_answered_like_shopify(shop: ShopifySandbox) -> None:
    broken = ask(shop, "{ customers(first: 1) { nodes { id } }").json()
    assert broken["errors"][0]["message"].startswith('Parse error on "end of file"')
    request = httpx.Request(
        "POST", URL, headers={"X-Shopify-Access-Token": shop.token}, json={"variables": {}}
    )
    missing = shop.handle(request)
    assert missing.status_code == 400
    assert json.loads(missing.read()) == {"errors": {"query": "Required parameter missing or invalid"}}


def test_search_compares_quoted_date_times_to_the_second_and_unquoted_ones_by_day(
    shop: ShopifySandbox,
) -> None:
    # GIVEN records on one day, some before and some after noon
    early = shop.add_records(2, at=datetime(2026, 12, 1, 9, tzinfo=UTC))
    late = shop.add_records(3, at=datetime(2026, 12, 1, 15, tzinfo=UTC))
    query = "query($q: String) { customersCount(query: $q) { count } }"

    def count(q: str) -> int:
        return int(ask(shop, query, {"q": q}).json()["data"]["customersCount"]["count"])

    # THEN a quoted bound is exact (and inclusive with >=), an unquoted one keeps only the date
    assert count("updated_at:>='2026-12-01T15:00:00Z'") == len(late) // 2
    assert count("updated_at:>'2026-12-01T15:00:00Z'") == 0
    assert count("updated_at:>=2026-12-01T15:00:00Z") == (len(early) + len(late)) // 2
    assert count('email:"NEW1@example.com"') == 1


def test_a_bulk_export_writes_nested_connections_as_lines_with_parent_ids(
    shop: ShopifySandbox, schema: GraphQLSchema
) -> None:
    # GIVEN a bulk query with orders nested under customers (the shape Shopify documents)
    bulk = "{ customers { edges { node { id firstName orders { edges { node { id name } } } } } } }"
    schema.validate(bulk)
    checked = SchemaCheckedTransport(shop, schema)
    client = httpx.Client(transport=checked)

    def graphql(query: str, variables: dict[str, Any]) -> Any:
        response = client.post(
            URL, headers={"X-Shopify-Access-Token": shop.token}, json={"query": query, "variables": variables}
        )
        return response.json()["data"]

    # WHEN it runs and is polled to completion
    started = graphql(docs.BULK_RUN, {"query": bulk})["bulkOperationRunQuery"]
    operation_id = started["bulkOperation"]["id"]
    assert started["bulkOperation"]["status"] == "CREATED"
    statuses = [graphql(docs.BULK_STATUS, {"id": operation_id})["bulkOperation"] for _ in range(2)]
    assert [s["status"] for s in statuses] == ["RUNNING", "COMPLETED"]
    done = statuses[-1]
    # THEN its file is served at a signed URL that needs no token, one line per object
    file = client.get(done["url"])
    lines = [json.loads(line) for line in file.text.splitlines()]
    assert file.status_code == 200
    assert int(done["objectCount"]) == len(lines) == len(shop.customers) + len(shop.orders)
    assert int(done["rootObjectCount"]) == len(shop.customers)
    children = [line for line in lines if "__parentId" in line]
    assert len(children) == len(shop.orders)
    assert all(line["__parentId"].startswith("gid://shopify/Customer/") for line in children)
    roots = parse_bulk_jsonl(file.content)
    assert sum(len(r.get("__children", [])) for r in roots) == len(shop.orders)
    # AND a tampered signature is refused as the storage service does
    assert client.get(done["url"].replace("Signature=", "Signature=0")).status_code == 403


def test_metafields_set_takes_at_most_25(shop: ShopifySandbox) -> None:
    owner = next(iter(shop.customers.values()))["id"]
    metafields = [
        {"ownerId": owner, "namespace": "ps", "key": f"k{i}", "type": "number_integer", "value": "1"}
        for i in range(26)
    ]
    body = ask(shop, docs.METAFIELDS_SET, {"metafields": metafields}).json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert "maximum allowed of 25" in body["errors"][0]["message"]


def test_the_sandbox_works_over_http_with_the_vendors_own_auth(schema: GraphQLSchema) -> None:
    # GIVEN the sandbox served on a local port, and a connector pointed at it with no transport
    shop = make_sandbox(people=80, seed=3, rate_scale=1000.0)
    with serve(shop) as server:
        settings = dataclasses.replace(shop.settings(transport=False), base_url=server.url)
        incremental = PLUGIN.build(settings)
        bulk = PLUGIN.build(
            dataclasses.replace(settings, options={**settings.options, "bulk_threshold": "1"})
        )
        try:
            # WHEN each pulls everything, one by paging and one through bulk operations and their files
            paged = [r for p in incremental.pull(None) for r in p.records]
            exported = [r for p in bulk.pull(None) for r in p.records]
        finally:
            incremental.close()
            bulk.close()
    # THEN both got every object, sending X-Shopify-Access-Token over real HTTP
    expected = {f"{k.split(':')[0].capitalize()}/{k.split(':')[1]}" for k in shop.record_keys()}
    assert {r["id"].split("shopify/")[1] for r in paged} == expected
    assert {r["id"].split("shopify/")[1] for r in exported} == expected
    assert any(route.startswith("GET /bulk-results/") for route in shop.stats.by_route)


def test_the_sandbox_offers_the_control_surface_the_contract_drives(shop: ShopifySandbox) -> None:
    from connectors._sandbox import SandboxControl

    assert isinstance(shop, SandboxControl)
    before = shop.record_keys()
    added = shop.add_records(2, at=datetime(2026, 12, 1, tzinfo=UTC))
    assert len(added) == 4  # each new person is a customer with one order
    assert shop.record_keys() == before | added
    assert shop.holds("NEW1@example.com")
    customer = next(k for k in added if k.startswith("customer:"))
    shop.touch({customer}, at=datetime(2026, 12, 2, tzinfo=UTC))
    assert shop.customers[int(customer.split(":")[1])]["updatedAt"] == "2026-12-02T00:00:00Z"
