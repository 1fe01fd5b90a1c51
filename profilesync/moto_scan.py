"""A Scan page of the embedded moto that costs about its page, not the whole table (the demo only).

moto answers each Scan page by sorting every item of the table and then walking from the first one,
comparing each with ``ExclusiveStartKey`` (through ``DynamoType`` comparisons) until it passes it: a
page costs O(table log table) however small it is, and a whole scan O(pages x table). The demo reads
its table twice that way at the end of a round (the live profiles counted, then read with their
source records): 44 pages of a 60,000-item table, about 15% of the demo's time.

Here a table Scan (not an index's, whose order is moto's ``sorted_items``) walks the partitions in
key order from the one ``ExclusiveStartKey`` names, sorting each partition as it is reached, and
moto's own loop does the rest as before: it skips the items of that first partition up to the key,
applies the filters, and stops when the page is full (1 MB or ``Limit``), so it reads only the
partitions it returns. The answer is moto's: the same items, in the same order, with the same
``LastEvaluatedKey``. String keys sort on their values, as ``model_moto_costs`` sorts them (code
point order is UTF-8 byte order, DynamoDB's); a table whose hash keys are not all strings is left to
moto. Applied by ``profilesync.local.model_moto_costs``; tests/unit/test_moto_patches.py checks
moto still has what this relies on.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

#: The table whose ``all_items`` a Scan in this thread is reading, and the hash key to start from.
_SCAN = threading.local()


def scan_hint() -> tuple[Any, str | None] | None:
    """``(table, start hash key)`` while a patched Scan of ``table`` runs in this thread, else None."""
    found: tuple[Any, str | None] | None = getattr(_SCAN, "table", None)
    return found


def items_from(table: Any, start: str | None) -> Iterator[Any] | None:
    """The table's items in key order, from the partition ``start`` (None: the first); None when its
    hash keys are not all strings (moto's own order then)."""
    partitions = list(table.items)
    if not all(key.type == "S" for key in partitions):
        return None
    partitions.sort(key=lambda key: key.value)
    first = 0 if start is None else bisect_left(partitions, start, key=lambda key: key.value)
    return _walk(table, partitions[first:])


def _walk(table: Any, partitions: list[Any]) -> Iterator[Any]:
    for key in partitions:
        partition = table.items.get(key)
        if not partition:
            continue
        items = list(partition.values())
        if all(item.range_key.type == "S" for item in items):
            items.sort(key=lambda item: item.range_key.value)
        else:
            items.sort(key=lambda item: item.range_key)
        yield from items


def patch_scan() -> None:
    """Make moto's ``Table.scan`` read from the start key's partition (see the module docstring)."""
    from moto.dynamodb.models.table import Table

    original_scan = Table.scan

    def scan(self: Any, filters: Any, limit: Any, exclusive_start_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name") if len(args) < 2 else args[1]
        if index_name or not self.range_key_attr:
            return original_scan(self, filters, limit, exclusive_start_key, *args, **kwargs)
        start: str | None = None
        if exclusive_start_key is not None:
            wire = exclusive_start_key.get(self.hash_key_attr)
            if not (isinstance(wire, dict) and isinstance(wire.get("S"), str)):
                return original_scan(self, filters, limit, exclusive_start_key, *args, **kwargs)
            start = wire["S"]
        _SCAN.table = (self, start)
        try:
            return original_scan(self, filters, limit, exclusive_start_key, *args, **kwargs)
        finally:
            _SCAN.table = None

    Table.scan = scan  # type: ignore[method-assign]


__all__ = ["items_from", "patch_scan", "scan_hint"]
