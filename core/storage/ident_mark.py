"""The layout marker written by the first store that opens an empty, unmarked table.

The marker (``IDENT#layout`` / ``REKEYED``, core.storage.ident_keys) holds the salt's check value, so
a store given another salt is refused (``SaltMismatchError``) before it writes an item keyed with
it. The CLI and ``make demo`` write it when they create a table, ``profilesync migrate
rekey-identifiers`` when it has moved an old table; a table CloudFormation created had none until
the command ran, and the salt was not checked there (priv30's gap, docs/privacy.md).

So a store that finds no marker (``IdentLayout`` with ``marks_empty``) looks whether the table holds
anything the marker would speak for: one strongly consistent ``Scan`` page of at most
``_SCAN_LIMIT`` keys (projected to ``PK`` and ``SK``: what the merge role's Scan statement allows).
When the page ends the table and every key in it is a partition that holds no identifier, index or
suppression hash (a pull's sync state and lease, a budget, quarantined records, audit records, the
erasure epoch), the store puts the marker with its own salt's check, conditioned on no marker being
there: of two stores doing so at once, one writes it and the other reads it back and is checked
against it. A table holding anything else (or more than one page) is left as it is: it may hold items
of the previous layout or of another salt, which is ``profilesync migrate rekey-identifiers``'s job.
A role that may not Scan, or not put the marker (``AccessDenied``), leaves the table as it is too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from core.storage.dynamodb_batch import Call
from core.storage.ident_keys import REKEYED_KEY, marker_item

__all__ = ["mark_if_empty"]

_log = logging.getLogger(__name__)

#: Keys read to tell an empty table: a new stack's table holds a few bookkeeping items at most.
_SCAN_LIMIT = 100
#: Partitions that hold no value keyed by the salt and nothing of the identifier layout.
_BOOKKEEPING = ("SYNC#", "LEASE#", "BUDGET#", "QUARANTINE#", "AUDIT#")
_EPOCH_PK = "SUPPRESS#epoch"


def mark_if_empty(call: Call, table_name: str, salt: str) -> Mapping[str, Any] | None:
    """The marker now in the table when it held nothing the marker speaks for (ours, or the one
    another store wrote at the same moment); None when it holds such items, or may not be scanned."""
    try:
        page = call(
            "scan",
            TableName=table_name,
            Limit=_SCAN_LIMIT,
            ConsistentRead=True,
            Select="SPECIFIC_ATTRIBUTES",
            ProjectionExpression="PK, SK",
        )
    except Exception as error:
        if _code(error) != "AccessDeniedException":
            raise
        _log.info("no layout marker in %s, and this role may not scan it to mark it", table_name)
        return None
    if page.get("LastEvaluatedKey") or not all(_bookkeeping(item) for item in page.get("Items", [])):
        return None
    item = marker_item(salt, index=True)
    try:
        call("put_item", TableName=table_name, Item=item, ConditionExpression="attribute_not_exists(PK)")
    except Exception as error:
        if _code(error) == "AccessDeniedException":
            return None  # a role that may read identifiers, not write them: as before
        if _code(error) != "ConditionalCheckFailedException":
            raise
        # another store marked it meanwhile: its marker is the table's (checked by the caller)
        found = call("get_item", TableName=table_name, Key=dict(REKEYED_KEY), ConsistentRead=True)
        marker: Mapping[str, Any] | None = found.get("Item")
        return marker
    return item


def _bookkeeping(item: Mapping[str, Any]) -> bool:
    pk = str(item["PK"]["S"])
    return pk == _EPOCH_PK or pk.startswith(_BOOKKEEPING)


def _code(error: Exception) -> str | None:
    response = getattr(error, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None
