"""The WooCommerce connector, built with the connector SDK: customers and orders in, customer meta
data out, erasure as WooCommerce's own privacy eraser does it; with a sandbox of the REST API.

    from connectors.woocommerce import PLUGIN
    sandbox = PLUGIN.sandbox(people=200, seed=7)
    with PLUGIN.build(sandbox.settings()) as woocommerce:
        for page in woocommerce.pull(None):
            drafts = woocommerce.to_records(page)

Settings: option ``store_url`` (``https://shop.example.com``) or a base URL; credential
``woocommerce_api_key`` (env ``PROFILESYNC_WOOCOMMERCE_API_KEY``) holding the REST API key pair as
``ck_...:cs_...``. Vendor facts in ``_declaration``; the mapping in ``_mapping``; push and erase in
``_push`` and ``_erase``; the sandbox's fidelity notes in ``_sandbox``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.connector import lazy_exports, lazy_factory

from ._connector import WooCommerceConnector, build, make_plugin
from ._declaration import CREDENTIAL, DECLARATION
from ._erase import anonymised_update, erase
from ._mapping import customer_draft, order_draft, order_fragment, order_owner, order_status
from ._push import send, shape

if TYPE_CHECKING:
    from ._sandbox import STORE_URL, WooCommerceSandbox, make_sandbox

# The sandbox is imported when first used, never with the connector: the Lambda bundle leaves it out.
__getattr__ = lazy_exports(
    __name__, "._sandbox", frozenset({"STORE_URL", "WooCommerceSandbox", "make_sandbox"})
)

PLUGIN = make_plugin(lazy_factory(f"{__name__}._sandbox", "make_sandbox"))

__all__ = [
    "CREDENTIAL",
    "DECLARATION",
    "PLUGIN",
    "STORE_URL",
    "WooCommerceConnector",
    "WooCommerceSandbox",
    "anonymised_update",
    "build",
    "customer_draft",
    "erase",
    "make_sandbox",
    "order_draft",
    "order_fragment",
    "order_owner",
    "order_status",
    "send",
    "shape",
]
