"""The shared connector contract, run against the Stripe connector and its sandbox."""

from __future__ import annotations

from connectors.stripe import PLUGIN
from profilesync.testing.contract import ConnectorContract


class TestContract(ConnectorContract):
    plugin = PLUGIN
    # Customers and charges have no modification time: a change comes dated by its event.
    full_pull_has_modification_times = False
