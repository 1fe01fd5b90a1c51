"""Batch reads and writes of the DynamoDB stores: ``BatchGetItem`` and ``BatchWriteItem`` limits, the
backoff before re-sending what DynamoDB left unprocessed, and ``batch_put``.
"""

from __future__ import annotations

import random
import time
from typing import Any

from core.errors import RetryableError
from core.storage.dynamodb_items import Item

#: AWS limits: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
BATCH_GET_MAX_KEYS = 100
BATCH_WRITE_MAX_ITEMS = 25  # BatchWriteItem; moto accepts more, AWS does not


def batch_put(client: Any, table_name: str, items: list[Item]) -> None:
    """Put items with BatchWriteItem, 25 a request, re-sending the unprocessed ones with backoff."""
    # Duplicate keys in one BatchWriteItem are rejected by AWS: the last entry per key wins here.
    unique = list({(i["PK"]["S"], i["SK"]["S"]): i for i in items}.values())
    for start in range(0, len(unique), BATCH_WRITE_MAX_ITEMS):
        request: dict[str, Any] = {
            table_name: [{"PutRequest": {"Item": i}} for i in unique[start : start + BATCH_WRITE_MAX_ITEMS]]
        }
        attempt = 0
        while request:
            response = client.batch_write_item(RequestItems=request)
            request = response.get("UnprocessedItems") or {}
            attempt = _pause_if(request, attempt)


def _pause_if(unprocessed: Any, attempt: int) -> int:
    """Back off before re-sending unprocessed batch items (they mean throttling, per AWS guidance)."""
    if not unprocessed:
        return attempt
    if attempt >= 10:
        raise RetryableError("DynamoDB kept returning unprocessed batch items; retry the run later")
    time.sleep(min(1.0, 0.02 * 2 ** (attempt + 1)) * random.random())
    return attempt + 1
