"""The Stripe connector, built with the connector SDK: customers and charges in, metadata out, erase.

    from connectors.stripe import PLUGIN
    sandbox = PLUGIN.sandbox(people=200, seed=7)
    with PLUGIN.build(sandbox.settings()) as stripe:
        for page in stripe.pull(None):
            drafts = stripe.to_records(page)

Credential ``stripe_api_key`` (env ``PROFILESYNC_STRIPE_API_KEY``). Vendor facts in ``_declaration``;
what the SDK could not declare in ``_connector``; the sandbox's fidelity notes in ``_sandbox``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.connector import lazy_exports, lazy_factory

from ._connector import StripeConnector, charge_order, make_plugin, to_major
from ._declaration import CREDENTIAL, DECLARATION, erase, send, shape

if TYPE_CHECKING:
    from ._sandbox import DEFAULT_TOKEN, StripeSandbox, make_sandbox

# The sandbox is imported when first used, never with the connector: the Lambda bundle leaves it out.
__getattr__ = lazy_exports(
    __name__, "._sandbox", frozenset({"DEFAULT_TOKEN", "StripeSandbox", "make_sandbox"})
)

PLUGIN = make_plugin(lazy_factory(f"{__name__}._sandbox", "make_sandbox"))

__all__ = [
    "CREDENTIAL",
    "DECLARATION",
    "DEFAULT_TOKEN",
    "PLUGIN",
    "StripeConnector",
    "StripeSandbox",
    "charge_order",
    "erase",
    "make_sandbox",
    "send",
    "shape",
    "to_major",
]
