"""The shared connector contract, run against the WooCommerce connector and its sandbox."""

from __future__ import annotations

from connectors.woocommerce import PLUGIN
from profilesync.testing.contract import ConnectorContract


class TestContract(ConnectorContract):
    plugin = PLUGIN
    # The sandbox runs a store at WooCommerce's assumed 25 requests per 10 s, so the suite's dozens of
    # pulls would wait minutes of real time; here the host allows 100 times that. The sandbox's
    # settings tell the connector (option requests_per_10s), as a shop's configuration would.
    sandbox_options = {"requests_per_10s": 2500}  # noqa: RUF012 - read-only class data
