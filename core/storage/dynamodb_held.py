"""Which holder markers name a customer, on DynamoDB: the registry an erasure follows.

A holder marker (``PutHolder``: ``IDENT#<key>`` / ``HOLDER#<customer>``) holds a value in its key
and names the customer marked as holding it. Readers check it against the live customer
(core.scope_holders), so a marker may outlive the value: a record that dropped the address keeps
its customer's marker, and markers written ahead of a changeset that was then killed
(core.ingest_markers) name a customer that never held the value. An erasure finds markers under the
values the customer holds now; these others it cannot find by value. The table has no index by
sort key, so each customer keeps a registry of the marker keys ever written naming it, under its
own partition (``CUSTOMER#<id>`` / ``HOLDERS#<n>``, a string set ``keys`` of the identifier keys,
in 16 items by the key's BLAKE2b so that no item nears DynamoDB's 400 KB), and the erasure deletes
every marker it lists, then the registry with the customer's other items.

The registry is written before the transaction that writes the markers (one UpdateItem ``ADD`` per
customer and shard), as the history's name index is: killed between the two, it lists a marker that
was never written, which an erasure deletes as nothing. ``HOLDERS#`` sorts before ``PROFILE``, so a
customer's read (``SK >= PROFILE``) never reads it. The registry holds identifier keys as the
marker items' own ``ident`` attribute does; it is deleted with her.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Final

from core.ports import Changeset, PutHolder
from core.storage.dynamodb_items import customer_pk

__all__ = ["HELD_PREFIX", "held_sk", "note_holders", "read_held"]

HELD_PREFIX: Final = "HOLDERS#"
_SHARDS: Final = "0123456789abcdef"


def held_sk(key: str) -> str:
    """The registry item of the customer that lists marker ``key``."""
    return HELD_PREFIX + _SHARDS[hashlib.blake2b(key.encode(), digest_size=1).digest()[0] % 16]


def note_holders(call: Callable[..., Any], table: str, changesets: Sequence[Changeset]) -> None:
    """Add the keys of every marker in ``changesets`` to their customers' registries."""
    noted: dict[tuple[str, str], set[str]] = {}
    for changeset in changesets:
        for op in changeset.operations:
            if isinstance(op, PutHolder):
                noted.setdefault((op.customer_id, held_sk(op.key)), set()).add(op.key)
    for (customer_id, sk), keys in sorted(noted.items()):
        call(
            "update_item",
            TableName=table,
            Key={"PK": {"S": customer_pk(customer_id)}, "SK": {"S": sk}},
            UpdateExpression="ADD #k :k",
            ExpressionAttributeNames={"#k": "keys"},
            ExpressionAttributeValues={":k": {"SS": sorted(keys)}},
        )


def read_held(query: Callable[..., list[dict[str, Any]]], customer_ids: Sequence[str]) -> dict[str, set[str]]:
    """The marker keys each of ``customer_ids`` has registered (strongly consistent)."""
    found: dict[str, set[str]] = {}
    for customer_id in dict.fromkeys(customer_ids):
        items = query(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :h)",
            ExpressionAttributeValues={":pk": {"S": customer_pk(customer_id)}, ":h": {"S": HELD_PREFIX}},
            ProjectionExpression="#k",
            ExpressionAttributeNames={"#k": "keys"},
            ConsistentRead=True,
        )
        keys = {k for item in items for k in item.get("keys", {}).get("SS", [])}
        if keys:
            found[customer_id] = keys
    return found
