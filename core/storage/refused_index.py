"""The index of refused values on each store: which records hold a value normalisation refused that
names an email or phone, by the keyed hash of that value (core.privacy_refused_index says what is
written and when, and how an erasure reads it).

One item an entry, beside the identifier items, in the profile table (DynamoDB, and SQLite's
``items``): ``PK = REFUSED#<hash>``, ``SK = source#<record key>``, nothing else. The hash is the
quarantine's ``subjects`` hash (HMAC-SHA256 with the audit salt): the table names no value. One item
``PK = REFUSED#index``, ``SK = COMPLETE`` says every record stored before it was written is indexed
(the backfill's); until it is there, an erasure reads every record as before. The in-memory store
keeps the same in a dictionary beside its profile store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from core.storage.sqlite_database import SQLiteDatabase

PREFIX = "REFUSED#"
MARKER = ("REFUSED#index", "COMPLETE")

#: An entry: the keyed hash of a refused value's key and the record key holding it.
Entry = tuple[str, str]


class RefusedIndex(Protocol):
    def put(self, entries: Iterable[Entry]) -> None: ...

    def records(self, hashes: Sequence[str]) -> dict[str, set[str]]:
        """The record keys indexed under each hash (a hash with none left out)."""
        ...

    def forget(self, entries: Iterable[Entry]) -> None: ...

    def complete(self) -> bool: ...

    def mark_complete(self) -> None: ...


class MemoryRefusedIndex:
    """The index of one in-memory "table" (kept per profile store, so every user of it shares it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_hash: dict[str, set[str]] = {}
        self._complete = False
        self.reads = 0
        """Look-ups made (one per hash, as DynamoDB's Query): for the bench and the tests."""

    def put(self, entries: Iterable[Entry]) -> None:
        with self._lock:
            for hash_, record in entries:
                self._by_hash.setdefault(hash_, set()).add(record)

    def records(self, hashes: Sequence[str]) -> dict[str, set[str]]:
        with self._lock:
            self.reads += len(set(hashes))
            return {h: set(found) for h in set(hashes) if (found := self._by_hash.get(h))}

    def forget(self, entries: Iterable[Entry]) -> None:
        with self._lock:
            for hash_, record in entries:
                held = self._by_hash.get(hash_)
                if held is not None:
                    held.discard(record)
                    if not held:
                        del self._by_hash[hash_]

    def complete(self) -> bool:
        return self._complete

    def mark_complete(self) -> None:
        self._complete = True


class SQLiteRefusedIndex:
    def __init__(self, database: SQLiteDatabase) -> None:
        self.database = database

    def put(self, entries: Iterable[Entry]) -> None:
        rows = sorted({(f"{PREFIX}{h}", f"source#{r}") for h, r in entries})
        if rows:
            with self.database.writing() as conn:
                conn.executemany("INSERT OR IGNORE INTO items (pk, sk) VALUES (?, ?)", rows)

    def records(self, hashes: Sequence[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        with self.database.reading() as conn:
            for hash_ in sorted(set(hashes)):
                rows = conn.execute("SELECT sk FROM items WHERE pk = ?", (f"{PREFIX}{hash_}",)).fetchall()
                if rows:
                    found[hash_] = {sk[len("source#") :] for (sk,) in rows}
        return found

    def forget(self, entries: Iterable[Entry]) -> None:
        rows = sorted({(f"{PREFIX}{h}", f"source#{r}") for h, r in entries})
        if rows:
            with self.database.writing() as conn:
                conn.executemany("DELETE FROM items WHERE pk = ? AND sk = ?", rows)

    def complete(self) -> bool:
        with self.database.reading() as conn:
            return conn.execute("SELECT 1 FROM items WHERE pk = ? AND sk = ?", MARKER).fetchone() is not None

    def mark_complete(self) -> None:
        with self.database.writing() as conn:
            conn.execute("INSERT OR IGNORE INTO items (pk, sk) VALUES (?, ?)", MARKER)


class DynamoDBRefusedIndex:
    """On the profile table: a consistent Query of each hash's partition (a few bytes an item),
    BatchWriteItem puts and deletes."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def put(self, entries: Iterable[Entry]) -> None:
        items = [{"PK": {"S": f"{PREFIX}{h}"}, "SK": {"S": f"source#{r}"}} for h, r in sorted(set(entries))]
        from core.storage.dynamodb_batch import batch_put  # here: the embedded store loads no DynamoDB code

        batch_put(self._client, self.table_name, items)

    def records(self, hashes: Sequence[str]) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for hash_ in sorted(set(hashes)):
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "PK = :pk",
                "ExpressionAttributeValues": {":pk": {"S": f"{PREFIX}{hash_}"}},
                "ProjectionExpression": "SK",
                # an entry written a moment ago (a merge just before her suppression was written)
                "ConsistentRead": True,
            }
            while True:
                page = self._client.query(**kwargs)
                for item in page.get("Items", []):
                    found.setdefault(hash_, set()).add(item["SK"]["S"][len("source#") :])
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found

    def forget(self, entries: Iterable[Entry]) -> None:
        keys = [{"PK": {"S": f"{PREFIX}{h}"}, "SK": {"S": f"source#{r}"}} for h, r in sorted(set(entries))]
        from core.storage.dynamodb_batch import batch_delete

        batch_delete(self._client, self.table_name, keys)

    def complete(self) -> bool:
        key = {"PK": {"S": MARKER[0]}, "SK": {"S": MARKER[1]}}
        return "Item" in self._client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True)

    def mark_complete(self) -> None:
        self._client.put_item(
            TableName=self.table_name, Item={"PK": {"S": MARKER[0]}, "SK": {"S": MARKER[1]}}
        )


_MEMORY_LOCK = threading.Lock()


def refused_index(store: Any) -> RefusedIndex | None:
    """The index of the table ``store`` (a profile, erasure or suppression store of this project)
    works on; None for a store that keeps none (a test's fake)."""
    from core.storage.dynamodb import DynamoDBProfileStore
    from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
    from core.storage.memory import InMemoryProfileStore
    from core.storage.memory_privacy import InMemoryErasureStore, InMemorySuppressionStore, _epoch_of

    if isinstance(store, DynamoDBProfileStore | DynamoDBSuppressionStore):
        return DynamoDBRefusedIndex(store._client, store.table_name)
    database = getattr(store, "database", None)
    if isinstance(database, SQLiteDatabase):
        return SQLiteRefusedIndex(database)
    # The in-memory "table" is its profile store; its erasure epoch is shared by every store over it
    # (core.storage.memory_privacy), and so is the index kept with it.
    if isinstance(store, InMemoryErasureStore):
        store = store.profiles
    if isinstance(store, InMemoryProfileStore):
        epoch = _epoch_of(store)
    elif isinstance(store, InMemorySuppressionStore):
        epoch = store._epoch
    else:
        return None
    with _MEMORY_LOCK:
        found: MemoryRefusedIndex | None = getattr(epoch, "refused_index", None)
        if found is None:
            found = MemoryRefusedIndex()
            setattr(epoch, "refused_index", found)  # noqa: B010 (a dataclass without this field)
        return found


__all__ = [
    "DynamoDBRefusedIndex",
    "MemoryRefusedIndex",
    "RefusedIndex",
    "SQLiteRefusedIndex",
    "refused_index",
]
