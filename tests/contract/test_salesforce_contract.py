"""The shared connector contract, run against the Salesforce connector and its sandbox: once through
the REST query API, and once with every first pull through a Bulk API 2.0 query job. Both ask for
query batches of 200 (``batch_size``, the fewest Salesforce's batchSize takes): at the default 2,000
a case that crosses page edges filled the sandbox with over 4,000 records."""

from __future__ import annotations

from typing import Any, ClassVar

from connectors.salesforce import PLUGIN
from profilesync.testing.contract import ConnectorContract


class TestContract(ConnectorContract):
    plugin = PLUGIN
    sandbox_options: ClassVar[dict[str, Any]] = {"batch_size": 200}


class TestContractThroughBulkJobs(ConnectorContract):
    plugin = PLUGIN
    sandbox_options: ClassVar[dict[str, Any]] = {"bulk_threshold": 0, "batch_size": 200}
