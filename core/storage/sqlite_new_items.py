"""New customers' items written in bulk into the SQLite store (core.ingest_fresh's fast path).

Mixed into ``SQLiteProfileStore`` (which sets ``database``). ``insert_new_items`` takes the items
of many new customers at once, as rows of the ``items`` table, and writes each customer's all or
nothing under the condition that founds a customer: none of its IDENT and PROFILE items exists
yet (``PutIdent`` with no owner expected, ``PutProfile`` with no version). The condition is the
table's own: an ``INSERT OR IGNORE`` leaves out a key that exists (and says so in its count of
changes), so the common case is one statement for those items and one for the others, with no read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, Final

from core.storage.sqlite_database import SQLiteDatabase, select_in

#: An item as written: pk, sk, version, hash, owner, updated_at, data, attrs.
Row = tuple[str, str, int | None, str | None, str | None, str | None, str | None, str | None]
_COLUMNS: Final = (
    "INTO items (pk, sk, version, hash, owner, updated_at, data, attrs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
#: An item written whatever is there (DynamoDB's Put).
PUT_ITEM: Final = "INSERT OR REPLACE " + _COLUMNS
#: A new item, refused (``IntegrityError``) where one has its key.
INSERT_ITEM: Final = "INSERT " + _COLUMNS
#: A new item, left out where one has its key.
INSERT_NEW_ITEM: Final = "INSERT OR IGNORE " + _COLUMNS


class SQLiteNewItems:
    """``insert_new_items`` (core.ingest_fresh.WritesNewItems) for ``SQLiteProfileStore``."""

    database: SQLiteDatabase

    def insert_new_items(self, groups: Sequence[tuple[Sequence[Row], Sequence[Row]]]) -> set[int]:
        """Write new customers' items (core.ingest_fresh), each group all or nothing, in one
        transaction: a group's first rows (its IDENT and PROFILE items) only if no item has their
        keys, which is the condition of the ``PutIdent`` and ``PutProfile`` that found a customer,
        and its second rows as puts. Returns the indices of the groups that wrote nothing because
        one of those items exists. One statement per kind: the first rows of every group are
        inserted at once where no item has their key, and only when one of them found its item
        taken (another writer won) are the rows that statement added deleted again, the items read
        to tell which groups lost, and the others written. Nothing is left half done, so the
        write needs no savepoint of its own inside resolve's group of commits
        (``SQLiteDatabase.writing(savepoint=False)``)."""
        if not groups:
            return set()
        claimed = [row for first, _ in groups for row in first]
        with self.database.writing(savepoint=False) as conn:
            failed = _insert_claimed(conn, groups, claimed)
            free = [row for i, (_, rows) in enumerate(groups) if i not in failed for row in rows]
            conn.executemany(PUT_ITEM, free)
        return failed


def _insert_claimed(
    conn: sqlite3.Connection, groups: Sequence[tuple[Sequence[Row], Sequence[Row]]], claimed: list[Row]
) -> set[int]:
    """Insert the groups' first rows (``claimed``, in order); the groups that lost (``_taken``),
    none of whose rows is left written. The rows one statement adds are those with a rowid above
    the table's largest before it (SQLite gives a new row the largest rowid plus one, until the
    largest possible one is taken: 2**63 - 1 rows from now)."""
    (last,) = conn.execute("SELECT max(rowid) FROM items").fetchone()
    changes = conn.total_changes
    conn.executemany(INSERT_NEW_ITEM, claimed)
    if conn.total_changes - changes == len(claimed):
        return set()  # every key was free: the common case
    conn.execute("DELETE FROM items WHERE rowid > ?", (last or 0,))
    failed = _taken(conn, groups)
    conn.executemany(
        INSERT_ITEM, [row for i, (first, _) in enumerate(groups) if i not in failed for row in first]
    )
    return failed


def _taken(conn: Any, groups: Sequence[tuple[Sequence[Row], Sequence[Row]]]) -> set[int]:
    """The indices of the groups one of whose first rows names an item that exists, or one that a
    group before it names too (as the second of two changesets claiming one key would fail)."""
    keys = {(row[0], row[1]) for claimed, _ in groups for row in claimed}
    found: set[tuple[str, str]] = set()
    for sk in {sk for _, sk in keys}:
        found.update(
            (pk, sk)
            for (pk,) in select_in(
                conn,
                "SELECT pk FROM items WHERE sk = ? AND pk IN ({keys})",
                [pk for pk, s in keys if s == sk],
                sk,
            )
        )
    failed: set[int] = set()
    for index, (claimed, _) in enumerate(groups):
        named = [(row[0], row[1]) for row in claimed]
        if any(key in found for key in named):
            failed.add(index)
        else:
            found.update(named)
    return failed


__all__ = ["INSERT_ITEM", "PUT_ITEM", "Row", "SQLiteNewItems"]
