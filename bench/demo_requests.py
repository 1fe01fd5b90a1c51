"""The AWS requests the demo's phases make, and the table items they name, by kind.

The demo runs its handlers against moto in-process: most of its CPU time is moto's work per request
and per item (a ``TransactWriteItems`` of 100 puts parses 100 condition expressions and builds 100
stream records), so what a change costs shows first in how many requests and items each phase sends.
Unlike seconds, these counts do not move with the machine's load: two commits are compared exactly.

``RequestCount`` wraps every botocore client's ``_make_api_call`` while it is open (the bench's own
process only; product code is untouched) and files each request under the phase it is told. An item
is named by its kind: the partition key up to its ``#`` and the sort key up to its ``#``
(``CUSTOMER/PROFILE``, ``IDENT/IDENT``, ``SUPPRESS/SUPPRESS``), with what was done to it
(``Put``, ``Update``, ``ConditionCheck``, ``Delete``, ``Get``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import botocore.client

__all__ = ["RequestCount", "item_kind"]


#: A sort key's kind is a word in capitals (``PROFILE``, ``SOURCE#...``); any other is a value.
_KIND = re.compile(r"[A-Z_]+|\?")


def item_kind(key: dict[str, Any]) -> str:
    """A DynamoDB key's kind: ``CUSTOMER/PROFILE`` for ``CUSTOMER#cus_1`` / ``PROFILE``; a sort key
    that is a value, not a kind (a quarantine's time, a customer id), is ``*``."""
    pk = str(key.get("PK", {}).get("S", "?")).split("#", 1)[0]
    sk = str(key.get("SK", {}).get("S", "?")).split("#", 1)[0]
    return f"{pk}/{sk if _KIND.fullmatch(sk) else '*'}"


def _key(body: dict[str, Any]) -> dict[str, Any]:
    return body.get("Key") or body.get("Item") or {}


class RequestCount:
    """Requests (``dynamodb.Query``...) and items by kind (``Put CUSTOMER/PROFILE``...), per phase."""

    def __init__(self) -> None:
        self.phase = "setup"
        self.requests: dict[str, Counter[str]] = {}
        self.items: dict[str, Counter[str]] = {}

    def count(self, service: str, operation: str, params: dict[str, Any]) -> None:
        """File one request of ``service`` (and the items it names) under the current phase."""
        self.requests.setdefault(self.phase, Counter())[f"{service}.{operation}"] += 1
        items = self.items.setdefault(self.phase, Counter())
        if operation == "TransactWriteItems":
            for action in params.get("TransactItems", []):
                for verb, body in action.items():
                    items[f"{verb} {item_kind(_key(body))}"] += 1
        elif operation == "BatchWriteItem":
            for requests in params.get("RequestItems", {}).values():
                for request in requests:
                    for verb, body in request.items():
                        items[f"{verb.removesuffix('Request')} {item_kind(_key(body))}"] += 1
        elif operation == "BatchGetItem":
            for table in params.get("RequestItems", {}).values():
                for key in table.get("Keys", []):
                    items[f"Get {item_kind(key)}"] += 1
        elif operation in ("PutItem", "UpdateItem", "DeleteItem", "GetItem"):
            items[f"{operation.removesuffix('Item')} {item_kind(_key(params))}"] += 1

    @contextmanager
    def counting(self) -> Iterator[RequestCount]:
        """Count every botocore request made in this process until the block ends."""
        original = botocore.client.BaseClient._make_api_call
        counter = self

        def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
            counter.count(client.meta.service_model.service_name, operation, params)
            return original(client, operation, params)

        botocore.client.BaseClient._make_api_call = counted  # type: ignore[method-assign]
        try:
            yield self
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]

    def lines(self, phase: str, most: int = 8) -> list[str]:
        """What ``phase`` sent: its request total, then its most frequent requests and item kinds."""
        requests = self.requests.get(phase, Counter())
        items = self.items.get(phase, Counter())
        out = [f"{phase}: {sum(requests.values()):,} requests, {sum(items.values()):,} items"]
        out += [f"    {name:<40}{n:>9,}" for name, n in requests.most_common(most)]
        out += [f"    {name:<40}{n:>9,}" for name, n in items.most_common(most)]
        return out
