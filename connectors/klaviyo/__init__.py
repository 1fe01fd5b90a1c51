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

from connectors.sdk import declare_plugin

from ._declaration import CREDENTIAL, DECLARATION, PROPERTY_PREFIX, REVISION, erase, send, shape
from ._sandbox import DEFAULT_TOKEN, KlaviyoSandbox, make_sandbox

PLUGIN = declare_plugin(DECLARATION, sandbox=make_sandbox)

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
