"""The embedded AWS of the local runtime (``profilesync.local``): the functions' wiring with one-at-a-
time reads, moto's read costs brought near DynamoDB's, and the environment restored on exit.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any


def _local_wiring_class() -> type[Any]:
    from functools import cached_property

    from core.storage.dynamodb import DynamoDBProfileStore
    from functions._wiring import Wiring

    class LocalWiring(Wiring):
        """The functions' wiring, but the store reads customers one at a time: in one process against
        an in-process moto, parallel reads (8 threads in Lambda, where they wait on the network) only
        contend for the GIL, which made reads about twice as slow."""

        @cached_property
        def profiles(self) -> DynamoDBProfileStore:
            return DynamoDBProfileStore(
                self.client("dynamodb"),
                self.settings.table_name,
                read_workers=1,
                salt=lambda: self.audit_salt,
            )

    return LocalWiring


_QUERY_PATCHED = False
_QUERY_HINT = threading.local()


def model_moto_costs() -> None:
    """Make the embedded moto's reads cost about what DynamoDB's do; results are moto's own.

    * moto answers ``Query(PK = :pk)`` by sorting every item of the table and keeping those of the
      key, so each read of one customer costs O(table log table): ~80 ms at 12,000 items, which made
      the demo's few thousand customer reads take minutes. Here a table query (not an index's) looks
      only at the partition it names.
    * Sorting compares string keys as strings, and a Scan page reads from the partition its
      ``ExclusiveStartKey`` names instead of sorting and walking the whole table
      (profilesync.moto_scan).
    * Attribute values are serialised as they are held (see below).
    * Expressions are parsed once per text, not on every call (profilesync.moto_parse).
    """
    global _QUERY_PATCHED
    if _QUERY_PATCHED:
        return
    from moto.dynamodb.models.table import Table

    from profilesync.moto_parse import patch_expression_parsing
    from profilesync.moto_scan import items_from, patch_scan, scan_hint
    from profilesync.moto_wire import (
        in_wire_form,
        patch_action_lookup,
        patch_attribute_maps,
        patch_stream_records,
    )

    original_query = Table.query
    original_all_items = Table.all_items

    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name") if len(args) < 7 else args[6]
        if index_name or hash_key is None or not self.range_key_attr:
            return original_query(self, hash_key, *args, **kwargs)
        _QUERY_HINT.only = (self, hash_key)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _QUERY_HINT.only = None

    def all_items(self: Any) -> Any:
        scanning = scan_hint()
        if scanning is not None and scanning[0] is self:
            lazy = items_from(self, scanning[1])
            if lazy is not None:
                return lazy
        only = getattr(_QUERY_HINT, "only", None)
        if only is not None and only[0] is self:
            items = list(self.items.get(only[1], {}).values())
        elif self.range_key_attr:
            items = [item for partition in self.items.values() for item in partition.values()]
        else:
            return original_all_items(self)
        # moto sorts on DynamoType comparisons (~1 µs each, a scan sorts the whole table on every
        # page); string keys sort the same on their values (code point order is UTF-8 byte order).
        if all(item.hash_key.type == "S" and item.range_key.type == "S" for item in items):
            return sorted(items, key=lambda item: (item.hash_key.value, item.range_key.value))
        return sorted(items, key=lambda item: (item.hash_key, item.range_key))

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]
    patch_scan()

    # moto serialises each DynamoDB attribute value through the generic model walker, looking up all
    # ten members of the AttributeValue union for every value: ~1.5 ms per stream record. The values
    # moto holds are already in the wire format ({"S": "..."}), so they are written as they are.
    from moto.core.serialize import JSONSerializer

    original_structure = JSONSerializer._serialize_type_structure

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if shape.name == "AttributeValue" and in_wire_form(value):
            serialized[self.get_serialized_name(shape, key)] = value
            return
        original_structure(self, serialized, value, shape, key)

    JSONSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]
    # ...and a whole item or stream record, when every value is; moto finds each request's action
    # once per class (profilesync.moto_wire).
    patch_attribute_maps()
    patch_stream_records()
    patch_action_lookup()
    patch_expression_parsing()
    _QUERY_PATCHED = True


def _restore_environment(saved: Mapping[str, str]) -> None:
    for key in list(os.environ):
        if key not in saved:
            del os.environ[key]
    os.environ.update(saved)
