"""The Shopify connector: customers and orders from the Admin GraphQL API (2026-01), enriched traits
back as customer metafields, GDPR erasure requests; with a sandbox of the API.

    from connectors.shopify import PLUGIN
    sandbox = PLUGIN.sandbox(people=200, seed=7)
    with PLUGIN.build(sandbox.settings()) as shopify:
        for page in shopify.pull(None):
            drafts = shopify.to_records(page)

Settings: option ``shop`` (``acme`` or ``acme.myshopify.com``), credential ``shopify_access_token``
(env ``PROFILESYNC_SHOPIFY_ACCESS_TOKEN``). See ``SPEC`` for the other options and the limits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.connector import ConnectorPlugin, lazy_exports, lazy_factory

from ._connector import (
    CREDENTIAL,
    SPEC,
    DocumentCostLimiter,
    ShopifyBulkOperationError,
    ShopifyConnector,
    ShopifyGraphQLError,
    build,
    normalise_shop,
    parse_bulk_jsonl,
)
from ._mapping import customer_draft, order_draft, order_status, payload_for

if TYPE_CHECKING:
    from ._sandbox import ShopifySandbox, make_sandbox

# The sandbox is imported when first used, never with the connector: the Lambda bundle leaves it out.
__getattr__ = lazy_exports(__name__, "._sandbox", frozenset({"ShopifySandbox", "make_sandbox"}))

PLUGIN = ConnectorPlugin(spec=SPEC, build=build, sandbox=lazy_factory(f"{__name__}._sandbox", "make_sandbox"))

__all__ = [
    "CREDENTIAL",
    "PLUGIN",
    "SPEC",
    "DocumentCostLimiter",
    "ShopifyBulkOperationError",
    "ShopifyConnector",
    "ShopifyGraphQLError",
    "ShopifySandbox",
    "build",
    "customer_draft",
    "make_sandbox",
    "normalise_shop",
    "order_draft",
    "order_status",
    "parse_bulk_jsonl",
    "payload_for",
]
