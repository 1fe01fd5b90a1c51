"""The shared connector contract, run against the Stripe connector and its sandbox."""

from __future__ import annotations

from connectors.stripe import PLUGIN
from profilesync.testing.contract import ConnectorContract


class TestContract(ConnectorContract):
    plugin = PLUGIN
