"""The shared connector contract, run against the Mailchimp connector and its sandbox."""

from __future__ import annotations

from connectors.mailchimp import PLUGIN
from profilesync.testing.contract import ConnectorContract


class TestContract(ConnectorContract):
    plugin = PLUGIN
