"""Batch reads and writes of the DynamoDB stores: ``BatchGetItem`` and ``BatchWriteItem`` limits, the
backoff before re-sending what DynamoDB left unprocessed, ``batch_get``, ``batch_put`` and
``batch_delete``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from core.errors import RetryableError
from core.storage.dynamodb_items import Item

#: AWS limits: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html
BATCH_GET_MAX_KEYS = 100
BATCH_WRITE_MAX_ITEMS = 25  # BatchWriteItem; moto accepts more, AWS does not
#: How many answers in a row may leave items unprocessed before a batch read or write gives up
#: (``RetryableError``): with the backoff below, about 5 s of throttling at the most.
BATCH_MAX_ATTEMPTS = 10

#: A store's client call: ``call(method, **kwargs)`` answers ``client.<method>(**kwargs)``.
Call = Callable[..., dict[str, Any]]


def batch_put(client: Any, table_name: str, items: list[Item], call: Call | None = None) -> None:
    """Put items with BatchWriteItem, 25 a request, re-sending the unprocessed ones with backoff;
    ``call(method, **kwargs)`` is the store's client call (``client.<method>`` unless given)."""
    # Duplicate keys in one BatchWriteItem are rejected by AWS: the last entry per key wins here.
    unique = list({(i["PK"]["S"], i["SK"]["S"]): i for i in items}.values())
    _batch_write(call or _plain(client), table_name, [{"PutRequest": {"Item": i}} for i in unique])


def batch_delete(client: Any, table_name: str, keys: Sequence[Item], call: Call | None = None) -> None:
    """Delete the items of ``keys`` (``PK`` and ``SK``) with BatchWriteItem, 25 a request,
    re-sending the unprocessed ones with backoff (a ``RetryableError`` after ``BATCH_MAX_ATTEMPTS``
    such answers in a row); ``call`` as in ``batch_put``."""
    # AWS rejects a BatchWriteItem naming one key twice: each key is deleted once.
    unique = list({(k["PK"]["S"], k["SK"]["S"]): k for k in keys}.values())
    _batch_write(call or _plain(client), table_name, [{"DeleteRequest": {"Key": k}} for k in unique])


def _batch_write(call: Call, table_name: str, requests: list[dict[str, Any]]) -> None:
    """Send ``requests`` (PutRequest / DeleteRequest entries) 25 a BatchWriteItem, each batch's
    unprocessed entries re-sent after ``_pause_if`` until none is left."""
    for start in range(0, len(requests), BATCH_WRITE_MAX_ITEMS):
        request: dict[str, Any] = {table_name: requests[start : start + BATCH_WRITE_MAX_ITEMS]}
        attempt = 0
        while request:
            response = call("batch_write_item", RequestItems=request)
            request = response.get("UnprocessedItems") or {}
            attempt = _pause_if(request, attempt)


def _plain(client: Any) -> Call:
    def call(method: str, **kwargs: Any) -> dict[str, Any]:
        result: dict[str, Any] = getattr(client, method)(**kwargs)
        return result

    return call


def batch_get(
    call: Callable[..., dict[str, Any]],
    table_name: str,
    keys: Sequence[Item],
    options: Mapping[str, Any] | None = None,
    pause: Callable[[Any, int], int] | None = None,
) -> Iterator[Item]:
    """The items of ``keys`` (strongly consistent), 100 a BatchGetItem, as each response brings
    them; ``call(method, **kwargs)`` is the store's client call, ``options`` more of each request's
    entry (a ProjectionExpression and its names), ``pause`` the backoff before re-sending the
    unprocessed keys (``_pause_if`` unless given)."""
    pause_if = pause or _pause_if
    for start in range(0, len(keys), BATCH_GET_MAX_KEYS):
        request: dict[str, Any] = {
            table_name: {
                "Keys": list(keys[start : start + BATCH_GET_MAX_KEYS]),
                "ConsistentRead": True,
                **(options or {}),
            }
        }
        attempt = 0
        while request:
            response = call("batch_get_item", RequestItems=request)
            yield from response.get("Responses", {}).get(table_name, [])
            request = response.get("UnprocessedKeys") or {}
            attempt = pause_if(request, attempt)


def _pause_if(unprocessed: Any, attempt: int) -> int:
    """Back off before re-sending unprocessed batch items (they mean throttling, per AWS guidance)."""
    if not unprocessed:
        return attempt
    if attempt >= BATCH_MAX_ATTEMPTS:
        raise RetryableError(
            f"DynamoDB left {_count(unprocessed)} batch item(s) unprocessed {attempt + 1} times in a row "
            "(the table is throttled); retry the run later, or raise the table's capacity"
        )
    time.sleep(min(1.0, 0.02 * 2 ** (attempt + 1)) * random.random())
    return attempt + 1


def _count(unprocessed: Any) -> int:
    """How many keys or write requests an ``UnprocessedKeys`` / ``UnprocessedItems`` map holds."""
    total = 0
    for entry in unprocessed.values():
        total += len(entry.get("Keys", ())) if isinstance(entry, dict) else len(entry)
    return total
