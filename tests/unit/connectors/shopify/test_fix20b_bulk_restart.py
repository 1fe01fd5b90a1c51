"""fix20b: a bulk operation that failed or was cancelled is started again, not resumed for ever.

The operation's id is saved in the cursor as soon as it starts (a run cut short polls the same one
next time). One that ended ``FAILED`` or ``CANCELED`` stopped the pull with "run the pull again", and
every later run resumed the same cursor and met the same ended operation: the refresh never finished.
Like an ``EXPIRED`` one, it is now started again (once a run).
"""

from __future__ import annotations

import pytest

from connectors.shopify import make_sandbox
from profilesync.testing.specs import GraphQLSchema

from .conftest import SchemaCheckedTransport, connect


@pytest.mark.parametrize("ended", ["FAILED", "CANCELED"])
def test_a_bulk_operation_that_ended_without_its_file_is_started_again(
    ended: str, schema: GraphQLSchema, waits: list[float]
) -> None:
    # GIVEN a full pull by bulk operation, whose customers' operation ends without a file
    sandbox = make_sandbox(people=8, seed=7, rate_scale=1000.0)
    connector = connect(sandbox, SchemaCheckedTransport(sandbox, schema), waits, bulk_threshold="1")
    pages = []
    for page in connector.pull(None):
        if not pages:
            with sandbox.lock:
                (first,) = sandbox.bulk_operations.values()
                first["status"], first["errorCode"] = ended, None
        pages.append(page)
    # THEN another operation exported the customers, and the pull delivered every record
    assert len(sandbox.bulk_operations) == 3  # (the customers' twice, the orders' once)
    pulled = {f"{p.object_type}:{r['id'].rsplit('/', 1)[-1]}" for p in pages for r in p.records}
    assert pulled == sandbox.record_keys()
