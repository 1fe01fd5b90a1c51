"""The shared connector contract, run against the Klaviyo connector and its sandbox."""

from __future__ import annotations

from connectors.klaviyo import PLUGIN
from profilesync.testing.contract import ConnectorContract


class TestContract(ConnectorContract):
    plugin = PLUGIN
