"""Shopify's own Python SDK (ShopifyAPI) pointed at the served sandbox works as against the real API."""

from __future__ import annotations

import json
import urllib.error
from collections.abc import Iterator
from typing import Any

import pytest

from connectors._sandbox import serve
from connectors.shopify import make_sandbox

shopify = pytest.importorskip("shopify")

QUERY = "{ customers(first: 5) { nodes { id } pageInfo { hasNextPage endCursor } } }"


@pytest.fixture
def served() -> Iterator[tuple[Any, str]]:
    sandbox = make_sandbox(people=20, seed=3)
    with serve(sandbox) as server:
        yield sandbox, server.url
    shopify.ShopifyResource.clear_session()


def _activate(url: str, token: str) -> None:
    session = shopify.Session("profilesync-sandbox.myshopify.com", "2026-01", token)
    shopify.ShopifyResource.activate_session(session)
    # The SDK builds https://<shop>/admin/api/<version>; the sandbox serves plain HTTP on loopback.
    shopify.ShopifyResource.set_site(f"{url}/admin/api/2026-01")


def test_the_sdk_graphql_client_pages_customers_from_the_sandbox(served: tuple[Any, str]) -> None:
    sandbox, url = served
    _activate(url, sandbox.settings(transport=False).credentials["shopify_access_token"])
    body = json.loads(shopify.GraphQL().execute(QUERY))
    nodes = body["data"]["customers"]["nodes"]
    assert len(nodes) == 5
    assert all(n["id"].startswith("gid://shopify/Customer/") for n in nodes)
    assert body["data"]["customers"]["pageInfo"]["hasNextPage"] is True
    assert "cost" in body["extensions"]


def test_the_sdk_sees_a_401_for_a_wrong_token(served: tuple[Any, str]) -> None:
    _, url = served
    _activate(url, "shpat_wrong")
    with pytest.raises(urllib.error.HTTPError) as caught:
        shopify.GraphQL().execute(QUERY)
    assert caught.value.code == 401
