"""The shared connector contract, run against the Stripe connector and its sandbox."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.stripe import PLUGIN
from profilesync.testing.contract import ConnectorContract


class TestContract(ConnectorContract):
    plugin = PLUGIN
    # Customers and charges have no modification time: a change comes dated by its event.
    full_pull_has_modification_times = False
    # The sandbox's read limit, which the connector paces at (its requests_per_second): at test
    # mode's 25 a second each case waited seconds of real time. Its 429s are the contract's faults.
    sandbox_options: ClassVar[dict[str, Any]] = {"requests_per_second": 10_000}
