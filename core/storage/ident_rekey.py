"""Moving identifier items from the previous layout (``IDENT#<kind>#<value>``) to their keyed hash
(``IDENT#<hash>``, core.storage.ident_keys): one key at a time by the stores while a table is being
upgraded, every key by ``profilesync migrate rekey-identifiers``.

A key's move is one ``TransactWriteItems`` per 50 items of its old partition (the IDENT item and its
``HOLDER#`` markers): each item is put under the keyed hash (with ``ident``) and deleted under the
value. The old IDENT item is deleted only while it is as it was read (``customer_id`` and
``updated_at``), and its copy is put only where no item is (``attribute_not_exists``): a writer of
this version that wrote the key meanwhile wins, and its old item is then deleted alone. An old
``HOLDER#`` item is deleted only while it exists: one another move took meanwhile (and an erasure
may have deleted since) is never put back under the keyed hash. Moving is
idempotent: a key moved (or never written the old way) has nothing left to move.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from core.errors import RetryableError
from core.storage.dynamodb_batch import Call
from core.storage.ident_keys import (
    INDEX_KEYED,
    REKEYED_KEY,
    LazySalt,
    Salt,
    ident_of,
    ident_pk,
    is_legacy_pk,
    legacy_fits,
    legacy_ident_pk,
    marker_item,
    verify_salt,
)

#: Items moved per transaction: a Put and a Delete each, 100 actions (AWS's limit).
_ITEMS_PER_MOVE = 50
#: How long a store that found no marker trusts that answer before it reads the marker again.
_RECHECK_SECONDS = 60.0
_ATTEMPTS = 5


class IdentLayout:
    """Which layout a table's identifier and index items are in, and the moves from the old one.
    Shared by a table's profile, link index and history stores (the erasure store has its own);
    thread-safe as far as its answers go (a stale "not yet" costs reads, never a join). Reading the
    marker checks the salt: a marker holding another salt's check value raises SaltMismatchError
    before anything is written with it."""

    def __init__(self, call: Call, table_name: str, salt: Salt, *, marks_empty: bool = False) -> None:
        self._call = call
        self.table_name = table_name
        self._salt = LazySalt(salt)
        self.marks_empty = marks_empty
        """Write the marker on a table found empty without one (core.storage.ident_mark)."""
        self._holds_items = False
        self._rekeyed = False
        self._index_keyed = False
        self._checked_at: float | None = None

    @property
    def salt(self) -> str:
        return self._salt()

    @property
    def known_rekeyed(self) -> bool:
        """Whether the marker was read: no item is left under a value."""
        return self._rekeyed

    @property
    def known_index_keyed(self) -> bool:
        """Whether the marker says no ``BLOCK#`` or ``NAMED#`` item is left under its unkeyed hash."""
        return self._index_keyed

    def wants_marker(self) -> bool:
        """Whether the next read should fetch the marker (never read, or read a while ago without
        saying that both identifiers and indexes are keyed)."""
        if self._rekeyed and self._index_keyed:
            return False
        return self._checked_at is None or time.monotonic() - self._checked_at > _RECHECK_SECONDS

    def saw_marker(self, marker: Mapping[str, Any] | None) -> None:
        """Take the marker as read (None: absent); refuse this layout's salt if the marker was
        written with another (core.storage.ident_keys.verify_salt). Absent, a layout that
        ``marks_empty`` marks an empty table (once: a table found holding items is not scanned again)."""
        if marker is None and self.marks_empty and not self._holds_items:
            from core.storage.ident_mark import mark_if_empty

            marker = mark_if_empty(self._call, self.table_name, self.salt)
            self._holds_items = marker is None
        if marker is not None:
            verify_salt(marker, self.salt, self.table_name)
            self._rekeyed = True
            self._index_keyed = self._index_keyed or marker.get("index") == INDEX_KEYED
        self._checked_at = time.monotonic()

    def _read_marker(self) -> None:
        if self.wants_marker():
            found = self._call(
                "get_item", TableName=self.table_name, Key=dict(REKEYED_KEY), ConsistentRead=True
            )
            self.saw_marker(found.get("Item"))

    def rekeyed(self) -> bool:
        """Whether the table is known to hold no identifier item under its value (one GetItem of the
        marker, at most once a minute while it is absent)."""
        self._read_marker()
        return self._rekeyed

    def index_keyed(self) -> bool:
        """Whether the table is known to hold no index item under an unkeyed hash (the marker, read
        as ``rekeyed`` reads it)."""
        self._read_marker()
        return self._index_keyed

    def mark_rekeyed(self, *, index: bool = False) -> None:
        """Write the marker: identifiers keyed, the indexes too when ``index``; with the salt's check."""
        item = marker_item(self.salt, index=index)
        self._call("put_item", TableName=self.table_name, Item=item)
        self.saw_marker(item)

    # -- moves --------------------------------------------------------------------------------

    def move(self, keys: Iterable[str]) -> int:
        """Move the old items of identifier ``keys``; how many items were moved."""
        return sum(self._move_key(key) for key in dict.fromkeys(keys))

    def _move_key(self, key: str) -> int:
        if not legacy_fits(key):
            return 0  # never written the old way; AWS refuses a read of that key
        for attempt in range(_ATTEMPTS):
            items = self._old_items(legacy_ident_pk(key))
            if not items:
                return 0
            if self._send(key, items):
                return len(items)
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
        raise RetryableError(
            f"the identifier items of one key changed {_ATTEMPTS} times while being moved to their "
            "keyed hash (a writer of the previous version is still running?); run again"
        )

    def _old_items(self, pk: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        while True:
            page = self._call("query", **request)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _send(self, key: str, items: list[dict[str, Any]]) -> bool:
        """Move ``items`` (the old partition of ``key``); False when one changed since it was read."""
        new_pk = ident_pk(key, self.salt)
        for start in range(0, len(items), _ITEMS_PER_MOVE):
            chunk = items[start : start + _ITEMS_PER_MOVE]
            actions = [a for item in chunk for a in self._actions(new_pk, key, item, copy=True)]
            try:
                self._call("transact_write_items", TransactItems=actions)
                continue
            except Exception as error:
                reasons = cancellation_codes(error)
                if reasons is None:
                    raise
            # A cancelled move: an old item changed (read again) or a copy met an item of this
            # version (that one wins: the old item is deleted, not copied).
            if any(code == "ConditionalCheckFailed" for code in reasons[1::2]):
                return False
            if not any(code == "ConditionalCheckFailed" for code in reasons[0::2]):
                return False  # another transaction in flight on one of them: read and try again
            actions = [a for item in chunk for a in self._actions(new_pk, key, item, copy=False)]
            try:
                self._call("transact_write_items", TransactItems=actions)
            except Exception as error:
                if cancellation_codes(error) is None:
                    raise
                return False
        return True

    def _actions(self, new_pk: str, key: str, item: dict[str, Any], *, copy: bool) -> list[dict[str, Any]]:
        """A Put of ``item`` under ``new_pk`` (an IDENT item only where none is, unless ``copy`` is
        False: then the IDENT item of this version stays) and the Delete of the old item, guarded."""
        is_ident = item["SK"]["S"] == "IDENT"
        moved = {**item, "PK": {"S": new_pk}, "ident": {"S": key}}
        put: dict[str, Any] = {"TableName": self.table_name, "Item": moved}
        delete: dict[str, Any] = {"TableName": self.table_name, "Key": {"PK": item["PK"], "SK": item["SK"]}}
        if not is_ident:
            # A marker moved and deleted meanwhile (an erasure's own move) is not put back: its old
            # item is gone, the move is cancelled and read again.
            delete["ConditionExpression"] = "attribute_exists(PK)"
        if is_ident:
            put["ConditionExpression"] = "attribute_not_exists(PK)"
            delete["ConditionExpression"] = "customer_id = :o AND " + (
                "updated_at = :w" if "updated_at" in item else "attribute_not_exists(updated_at)"
            )
            delete["ExpressionAttributeValues"] = {
                ":o": item["customer_id"],
                **({":w": item["updated_at"]} if "updated_at" in item else {}),
            }
        if is_ident and not copy:
            # Only the Delete may fail now: reasons are read by position (Put, Delete) below.
            return [{"ConditionCheck": {**_check_absent_or_any(self.table_name, new_pk)}}, {"Delete": delete}]
        return [{"Put": put}, {"Delete": delete}]

    # -- the whole table ------------------------------------------------------------------------

    def keyed_by_another_salt(self) -> str | None:
        """The key of an identifier item already keyed by hash with another salt than this layout's
        (the functions of this version key by the stack's audit salt), else None: a Scan that stops
        at the first page holding keyed items."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": "begins_with(PK, :i) AND attribute_exists(ident)",
            "ProjectionExpression": "PK, ident",
            "ExpressionAttributeValues": {":i": {"S": "IDENT#"}},
        }
        while True:
            page = self._call("scan", **request)
            items = page.get("Items", [])
            for item in items:
                if item["PK"]["S"] != ident_pk(ident_of(item), self.salt):
                    return str(item["PK"]["S"])
            if items or "LastEvaluatedKey" not in page:
                return None
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def old_keys(self) -> Iterator[str]:
        """The identifier key of every IDENT partition still under its value (a Scan of keys)."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "FilterExpression": "begins_with(PK, :i)",
            "ProjectionExpression": "PK, SK, ident",
            "ExpressionAttributeValues": {":i": {"S": "IDENT#"}},
        }
        # A Scan returns a partition's items together: the last key names each partition once,
        # in constant memory over a table of millions (a key met again would move nothing).
        last: str | None = None
        while True:
            page = self._call("scan", **request)
            for item in page.get("Items", []):
                if is_legacy_pk(item["PK"]["S"]) and (key := ident_of(item)) != last:
                    last = key
                    yield key
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _check_absent_or_any(table: str, pk: str) -> dict[str, Any]:
    """A ConditionCheck that always holds (the new IDENT item may or may not be there)."""
    return {
        "TableName": table,
        "Key": {"PK": {"S": pk}, "SK": {"S": "IDENT"}},
        "ConditionExpression": "attribute_not_exists(PK) OR attribute_exists(PK)",
    }


def cancellation_codes(error: Exception) -> list[str] | None:
    """The cancellation reasons' codes of a cancelled transaction, by position; None for any other
    error."""
    response = getattr(error, "response", None)
    if (
        not isinstance(response, dict)
        or response.get("Error", {}).get("Code") != "TransactionCanceledException"
    ):
        return None
    return [str(r.get("Code", "None")) for r in response.get("CancellationReasons") or []]
