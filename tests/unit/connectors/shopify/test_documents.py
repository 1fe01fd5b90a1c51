"""Every GraphQL document the connector can send is valid against Shopify's 2026-01 Admin schema,
uses no deprecated field, and costs what the connector's limiter reserves for it."""

from __future__ import annotations

import json

import graphql
import httpx
import pytest

from connectors.shopify import _documents as docs
from connectors.shopify import make_sandbox
from profilesync.testing.specs import GraphQLSchema

ALL = [*docs.REQUEST_DOCUMENTS, *docs.BULK_DOCUMENTS]


@pytest.mark.parametrize("document", ALL, ids=lambda d: d.split("{")[0].strip() or d.split()[1])
def test_every_document_validates_against_the_published_schema_without_deprecated_fields(
    document: str, schema: GraphQLSchema
) -> None:
    # GIVEN a document the connector sends (or asks a bulk operation to run)
    # WHEN it is checked against the schema, with graphql-core's rule against deprecated fields added
    schema.validate(document)
    errors = graphql.validate(schema.schema, graphql.parse(document), [graphql.NoDeprecatedCustomRule])
    # THEN it is valid and uses only fields 2026-01 does not deprecate (email, phone, consent, ...)
    assert [e.message for e in errors] == []


def test_the_document_list_covers_every_document_the_module_defines() -> None:
    # Every string constant of the module that parses as GraphQL is in the lists validated above.
    defined = set()
    for name, value in vars(docs).items():
        if name.isupper() and isinstance(value, str):
            try:
                graphql.parse(value)
            except graphql.GraphQLError:
                continue
            defined.add(value)
    assert defined == set(ALL)


@pytest.mark.parametrize(
    ("document", "variables", "expected"),
    [
        (docs.CUSTOMERS_PAGE, {"first": docs.CUSTOMER_PAGE_SIZE}, docs.CUSTOMERS_PAGE_COST),
        (docs.ORDERS_PAGE, {"first": docs.ORDER_PAGE_SIZE}, docs.ORDERS_PAGE_COST),
        (docs.COUNTS, {"limit": 10}, docs.COUNTS_COST),
        (docs.BULK_STATUS, {"id": "gid://shopify/BulkOperation/1"}, docs.BULK_STATUS_COST),
        (docs.METAFIELD_DEFINITIONS, {"namespace": "profilesync"}, docs.METAFIELD_DEFINITIONS_COST),
        (docs.FIND_CUSTOMERS, {"query": 'email:"a@example.com"'}, docs.FIND_CUSTOMERS_COST),
        (docs.METAFIELDS_SET, {"metafields": []}, docs.MUTATION_COST),
        (docs.REQUEST_ERASURE, {"customerId": "gid://shopify/Customer/1"}, docs.MUTATION_COST),
    ],
)
def test_the_requested_cost_is_what_the_connector_reserves_and_within_the_single_query_limit(
    document: str, variables: dict[str, object], expected: int
) -> None:
    # GIVEN the sandbox, which costs queries by Shopify's documented model
    sandbox = make_sandbox(people=5)
    request = httpx.Request(
        "POST",
        f"https://{sandbox.shop}.myshopify.com{docs.GRAPHQL_PATH}",
        headers={"X-Shopify-Access-Token": sandbox.token},
        json={"query": document, "variables": variables},
    )
    # WHEN the document is sent
    body = json.loads(sandbox.handle(request).content)
    # THEN its requested cost is the connector's estimate, and no query may exceed 1,000 points
    assert body["extensions"]["cost"]["requestedQueryCost"] == expected
    assert expected <= docs.MAX_QUERY_COST


def test_customer_pages_are_the_largest_that_fit_the_cost_limit() -> None:
    # A customer node costs 4 (itself and three objects): 250 would request 1,002 points.
    assert docs.connection_cost(250, docs.CUSTOMER_NODE_COST) > docs.MAX_QUERY_COST
    assert docs.CUSTOMER_PAGE_SIZE == 249
    # An order node costs 10 (itself, its total, current total and net payment with their shop
    # money, its customer's id, its billing and shipping addresses): 99 request 992 points, 100
    # would request 1,002.
    assert docs.connection_cost(100, docs.ORDER_NODE_COST) > docs.MAX_QUERY_COST
    assert docs.ORDER_PAGE_SIZE == 99
