"""The Klaviyo connector, built with the connector SDK: profiles in, enriched properties out, erase.

    from connectors.klaviyo import PLUGIN
    sandbox = PLUGIN.sandbox(people=200, seed=7)
    with PLUGIN.build(sandbox.settings()) as klaviyo:
        for page in klaviyo.pull(None):
            drafts = klaviyo.to_records(page)

Credential ``klaviyo_api_key`` (env ``PROFILESYNC_KLAVIYO_API_KEY``): a private API key. The vendor
facts and their sources are in ``_declaration``; the sandbox's fidelity notes in ``_sandbox``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.sdk import declare_plugin
from core.connector import lazy_exports, lazy_factory

from ._declaration import CREDENTIAL, DECLARATION, PROPERTY_PREFIX, REVISION, erase, send, shape

if TYPE_CHECKING:
    from ._sandbox import DEFAULT_TOKEN, KlaviyoSandbox, make_sandbox

# The sandbox is imported when first used, never with the connector: the Lambda bundle leaves it out.
__getattr__ = lazy_exports(
    __name__, "._sandbox", frozenset({"DEFAULT_TOKEN", "KlaviyoSandbox", "make_sandbox"})
)

PLUGIN = declare_plugin(DECLARATION, sandbox=lazy_factory(f"{__name__}._sandbox", "make_sandbox"))

__all__ = [
    "CREDENTIAL",
    "DECLARATION",
    "DEFAULT_TOKEN",
    "PLUGIN",
    "PROPERTY_PREFIX",
    "REVISION",
    "KlaviyoSandbox",
    "erase",
    "make_sandbox",
    "send",
    "shape",
]
