"""The shared connector contract, run against the Shopify connector and its sandbox."""

from __future__ import annotations

from connectors.shopify import PLUGIN
from profilesync.testing.contract import ConnectorContract


class TestContract(ConnectorContract):
    plugin = PLUGIN
    # The sandbox runs Shopify's Standard plan (100 points/s restored), so the suite's dozens of full
    # pulls would wait minutes of real time; here the shop restores points 1,000 times faster. Its
    # throttleStatus says so, and the connector's limiter adopts it.
    sandbox_options = {"rate_scale": 1000.0}  # noqa: RUF012 - read-only class data
