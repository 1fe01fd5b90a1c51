"""The shared connector contract, run against the Salesforce connector and its sandbox: once through
the REST query API, and once with every first pull through a Bulk API 2.0 query job."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.salesforce import PLUGIN
from profilesync.testing.contract import ConnectorContract


class TestContract(ConnectorContract):
    plugin = PLUGIN


class TestContractThroughBulkJobs(ConnectorContract):
    plugin = PLUGIN
    sandbox_options: ClassVar[dict[str, Any]] = {"bulk_threshold": 0}
