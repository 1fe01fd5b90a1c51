"""A table's items read once and put back into a new table per test (the moto server's): for the
tables a test builds at a cost -- the previous release's code run in a subprocess
(tests/integration/test_priv29_rekey_upgrade.py, test_priv30_index_upgrade.py) -- and each test
changes. Each copy is a new table holding exactly the items read (checked on every copy), so no test
sees another's changes: its stream holds the copy's puts, which those tests read only after a mark.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.moto_server import server_table

Item = dict[str, Any]

#: DynamoDB's most items in one BatchWriteItem (moto accepts more: the limit is kept here).
BATCH = 25


def all_items(client: Any, table: str) -> list[Item]:
    """Every item of ``table``, in a stable order (by their JSON)."""
    items: list[Item] = []
    request: dict[str, Any] = {"TableName": table}
    while True:
        page = client.scan(**request)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@contextmanager
def copied_table(prefix: str, items: list[Item]) -> Iterator[tuple[Any, str]]:
    """A client of the shared server and a new table (``server_table(prefix)``) holding ``items``."""
    with server_table(prefix) as (client, table):
        for start in range(0, len(items), BATCH):
            requests: Any = {table: [{"PutRequest": {"Item": i}} for i in items[start : start + BATCH]]}
            while requests:
                requests = client.batch_write_item(RequestItems=requests).get("UnprocessedItems")
        assert all_items(client, table) == sorted(items, key=lambda i: json.dumps(i, sort_keys=True))
        yield client, table
