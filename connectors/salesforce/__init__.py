"""The Salesforce connector, built on the connector SDK: Contacts, Leads and won Opportunities in,
enriched traits out through sObject Collections, Contacts and Leads erased.

    from connectors.salesforce import PLUGIN
    sandbox = PLUGIN.sandbox(people=200, seed=7)
    with PLUGIN.build(sandbox.settings()) as salesforce:
        for page in salesforce.pull(None):
            drafts = salesforce.to_records(page)

Credentials ``salesforce_client_id`` and ``salesforce_client_secret`` (env
``PROFILESYNC_SALESFORCE_CLIENT_ID`` / ``_CLIENT_SECRET``): a connected app's consumer key and secret
with the client credentials flow enabled. The base URL is the org's My Domain URL. Vendor facts and
their sources are in ``_declaration``; what the SDK could not declare in ``_connector``; the
sandbox's fidelity notes in ``_sandbox``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.connector import lazy_exports, lazy_factory

from ._connector import DECLARATION, SalesforceConnector, api_usage, csv_records, make_plugin
from ._declaration import API_VERSION, CLIENT_ID, CLIENT_SECRET, EXTERNAL_ID, PUSH_FIELDS, owner_key
from ._writes import erase, send

if TYPE_CHECKING:
    from ._sandbox import DEFAULT_CLIENT_ID, DEFAULT_SECRET, SalesforceSandbox, make_sandbox

# The sandbox is imported when first used, never with the connector: the Lambda bundle leaves it out.
__getattr__ = lazy_exports(
    __name__,
    "._sandbox",
    frozenset({"DEFAULT_CLIENT_ID", "DEFAULT_SECRET", "SalesforceSandbox", "make_sandbox"}),
)

PLUGIN = make_plugin(lazy_factory(f"{__name__}._sandbox", "make_sandbox"))

__all__ = [
    "API_VERSION",
    "CLIENT_ID",
    "CLIENT_SECRET",
    "DECLARATION",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_SECRET",
    "EXTERNAL_ID",
    "PLUGIN",
    "PUSH_FIELDS",
    "SalesforceConnector",
    "SalesforceSandbox",
    "api_usage",
    "csv_records",
    "erase",
    "make_sandbox",
    "owner_key",
    "send",
]
