"""The HubSpot connector: CRM v3 contacts in, enriched profiles out, GDPR erase.

    from connectors.hubspot import PLUGIN
    sandbox = PLUGIN.sandbox(people=200, seed=7)
    with PLUGIN.build(sandbox.settings()) as hubspot:
        for page in hubspot.pull(None):
            drafts = hubspot.to_records(page)

Credential ``hubspot_token`` (env ``PROFILESYNC_HUBSPOT_TOKEN``): a private app's access token. Options:
``rate_limit_per_10s`` (100 by default: Free and Starter; 190 on Professional and Enterprise) and
``search_requests_per_second`` (5). See ``_connector`` for the vendor facts and their sources.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.connector import ConnectorPlugin, lazy_exports

from ._connector import CREDENTIAL, DEFAULT_BASE_URL, OPTIONS, SPEC, HubSpotConnector, build
from ._mapping import CUSTOM_PROPERTIES, PULL_PROPERTIES, contact_to_draft, payload_for

if TYPE_CHECKING:
    from connectors._sandbox import Faults

    from ._sandbox import HubSpotSandbox

# The sandbox is imported when first used, never with the connector: the Lambda bundle leaves it out.
__getattr__ = lazy_exports(__name__, "._sandbox", frozenset({"DEFAULT_TOKEN", "HubSpotSandbox"}))


def make_sandbox(
    people: int = 200,
    seed: int = 7,
    token: str | None = None,
    faults: Faults | None = None,
    **options: Any,
) -> HubSpotSandbox:
    """A HubSpot sandbox seeded from the ``crm`` records of ``population(people, seed)``, at HubSpot's
    published limits (100 requests per 10 seconds, 5 searches per second).

    Without ``faults``, injected faults (switched on later through ``sandbox.faults``) are rolled from
    ``seed`` too, so one seed fixes the whole sandbox. ``options`` go to ``HubSpotSandbox``
    (``rate_limit_per_10s=190`` for the Professional plan).
    """
    from connectors._sandbox import Faults

    from ._sandbox import DEFAULT_TOKEN, HubSpotSandbox

    return HubSpotSandbox(
        people=people, seed=seed, token=token or DEFAULT_TOKEN, faults=faults or Faults(seed=seed), **options
    )


PLUGIN = ConnectorPlugin(spec=SPEC, build=build, sandbox=make_sandbox)

__all__ = [
    "CREDENTIAL",
    "CUSTOM_PROPERTIES",
    "DEFAULT_BASE_URL",
    "OPTIONS",
    "PLUGIN",
    "PULL_PROPERTIES",
    "SPEC",
    "HubSpotConnector",
    "HubSpotSandbox",
    "build",
    "contact_to_draft",
    "make_sandbox",
    "payload_for",
]
