"""Shopify's erase asked for a customer by its GID (``gid://shopify/Customer/<id>``, as the Admin
GraphQL API and a webhook's ``admin_graphql_api_id`` write it): the id as stored is its numeric tail
(``connectors.shopify._mapping.stored_id``, the connector's ``ConnectorSpec.stored_id``)."""

from __future__ import annotations

from connectors.shopify import SPEC, ShopifyConnector, ShopifySandbox
from connectors.shopify._mapping import stored_id
from core.schema import Identifier

from .conftest import SchemaCheckedTransport


def test_the_spec_declares_the_gid_tail_as_the_stored_id() -> None:
    # GIVEN Shopify's ids as its API writes them WHEN spelt as stored THEN the tail of a GID of the type
    assert SPEC.stored_id is stored_id
    assert stored_id("customer", "gid://shopify/Customer/191167") == "191167"
    assert stored_id("order", "gid://shopify/Order/299938?foo=1") == "299938"
    assert stored_id("customer", "191167") == "191167"
    # a GID of another type names another record: kept as written, so it finds nothing
    assert stored_id("customer", "gid://shopify/Order/299938") == "gid://shopify/Order/299938"


def test_erase_by_the_customers_gid_erases_her(
    sandbox: ShopifySandbox, connector: ShopifyConnector, transport: SchemaCheckedTransport
) -> None:
    # GIVEN a customer of the shop, named by her GID
    number = sorted(sandbox.customers)[0]
    gid = Identifier(kind="source", value=f"shopify:customer:gid://shopify/Customer/{number}")
    # WHEN she is erased by it
    [outcome] = connector.erase([gid])
    # THEN Shopify was asked to erase her, and she is gone
    assert outcome.found, outcome
    assert number not in sandbox.customers
    assert transport.operations().count("ProfilesyncErase") == 1
