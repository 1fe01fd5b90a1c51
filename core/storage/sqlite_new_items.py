"""New customers' items written in bulk into the SQLite store (core.ingest_fresh's fast path).

Mixed into ``SQLiteProfileStore`` (which sets ``database``). ``insert_new_items`` takes the items
of many new customers at once, as rows of the ``items`` table, and writes each customer's all or
nothing under the condition that founds a customer: none of its IDENT and PROFILE items exists
yet (``PutIdent`` with no owner expected, ``PutProfile`` with no version). The condition is the
table's own: an ``INSERT OR IGNORE`` leaves out a key that exists (and says so in its count of
changes), so the common case is one statement per kind of item, with no read.

Each kind of item comes as a row of the columns it fills, and its statement binds those alone
(the others are NULL, as an 8-column row's ``None`` would leave them): binding five ``None``
parameters more cost about 1.2 µs a row, a quarter of what an insert costs. The statements run
one kind after the other, each kind's rows in their order, so the items of one kind keep their
order in the table (a scan of one kind, such as ``ident_owners``, reads them as before).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Final

from core.storage.sqlite_database import SQLiteDatabase, select_in

#: An item as written: pk, sk, version, hash, owner, updated_at, data, attrs.
Row = tuple[str, str, int | None, str | None, str | None, str | None, str | None, str | None]
_COLUMNS: Final = (
    "INTO items (pk, sk, version, hash, owner, updated_at, data, attrs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
#: An item written whatever is there (DynamoDB's Put).
PUT_ITEM: Final = "INSERT OR REPLACE " + _COLUMNS

#: A new customer's IDENT item: pk (``IDENT#<key>``), the record hash and ordering time of a
#: ``source#`` key's own record (else None), the owner, and that record's content run (else None).
IdentRow = tuple[str, str | None, str, str | None, str | None]
#: A new customer's PROFILE item (version 1): pk (``CUSTOMER#<id>``), hash, data, attrs.
ProfileRow = tuple[str, str, str, str]
#: A SOURCE item (a record's snapshot): pk, sk, hash, data.
SourceRow = tuple[str, str, str, str]
#: A HISTORY item (an event): pk, sk, data.
EventRow = tuple[str, str, str]
#: A mailbox's HOLDER marker: pk, sk, owner.
MarkerRow = tuple[str, str, str]


#: One new customer's items, by kind: the IDENT and PROFILE items it founds (conditional: the
#: customer is written only if none exists), and its SOURCE, HISTORY and HOLDER items (puts).
NewItems = tuple[list[IdentRow], list[ProfileRow], list[SourceRow], list[EventRow], list[MarkerRow]]


_INSERT_IDENT: Final = "INTO items (pk, sk, hash, owner, updated_at, attrs) VALUES (?, 'IDENT', ?, ?, ?, ?)"
_INSERT_PROFILE: Final = "INTO items (pk, sk, version, hash, data, attrs) VALUES (?, 'PROFILE', 1, ?, ?, ?)"
_PUT_SOURCE: Final = "INSERT OR REPLACE INTO items (pk, sk, hash, data) VALUES (?, ?, ?, ?)"
_PUT_EVENT: Final = "INSERT OR REPLACE INTO items (pk, sk, data) VALUES (?, ?, ?)"
_PUT_MARKER: Final = "INSERT OR REPLACE INTO items (pk, sk, owner) VALUES (?, ?, ?)"


class SQLiteNewItems:
    """``insert_new_items`` (core.ingest_fresh.WritesNewItems) for ``SQLiteProfileStore``."""

    database: SQLiteDatabase

    def insert_new_items(self, groups: Sequence[NewItems]) -> set[int]:
        """Write new customers' items (core.ingest_fresh), each group all or nothing, in one
        transaction: a group's IDENT and PROFILE items only if no item has their keys, which is the
        condition of the ``PutIdent`` and ``PutProfile`` that found a customer, and its other items
        as puts. Returns the indices of the groups that wrote nothing because one of those items
        exists. One statement per kind: the conditional items of every group are inserted at once
        where no item has their key, and only when one of them found its item taken (another
        writer won) are the rows those statements added deleted again, the items read to tell
        which groups lost, and the others written. Nothing is left half done, so the write needs
        no savepoint of its own inside resolve's group of commits
        (``SQLiteDatabase.writing(savepoint=False)``)."""
        if not groups:
            return set()
        with self.database.writing(savepoint=False) as conn:
            failed = _insert_claimed(conn, groups)
            kept = [group for i, group in enumerate(groups) if i not in failed] if failed else groups
            conn.executemany(_PUT_SOURCE, [row for group in kept for row in group[2]])
            conn.executemany(_PUT_EVENT, [row for group in kept for row in group[3]])
            conn.executemany(_PUT_MARKER, [row for group in kept for row in group[4]])
        return failed


def _insert_claimed(conn: sqlite3.Connection, groups: Sequence[NewItems]) -> set[int]:
    """Insert the groups' IDENT and PROFILE items; the groups that lost (``_taken``), none of whose
    rows is left written. The rows the statements add are those with a rowid above the table's
    largest before them (SQLite gives a new row the largest rowid plus one, until the largest
    possible one is taken: 2**63 - 1 rows from now)."""
    (last,) = conn.execute("SELECT max(rowid) FROM items").fetchone()
    changes = conn.total_changes
    idents = [row for group in groups for row in group[0]]
    profiles = [row for group in groups for row in group[1]]
    conn.executemany("INSERT OR IGNORE " + _INSERT_IDENT, idents)
    conn.executemany("INSERT OR IGNORE " + _INSERT_PROFILE, profiles)
    if conn.total_changes - changes == len(idents) + len(profiles):
        return set()  # every key was free: the common case
    conn.execute("DELETE FROM items WHERE rowid > ?", (last or 0,))
    failed = _taken(conn, groups)
    kept = [group for i, group in enumerate(groups) if i not in failed]
    conn.executemany("INSERT " + _INSERT_IDENT, [row for group in kept for row in group[0]])
    conn.executemany("INSERT " + _INSERT_PROFILE, [row for group in kept for row in group[1]])
    return failed


def _claimed_keys(group: NewItems) -> list[tuple[str, str]]:
    return [(row[0], "IDENT") for row in group[0]] + [(row[0], "PROFILE") for row in group[1]]


def _taken(conn: sqlite3.Connection, groups: Sequence[NewItems]) -> set[int]:
    """The indices of the groups one of whose IDENT or PROFILE items exists, or is named by a group
    before it too (as the second of two changesets claiming one key would fail)."""
    keys = {key for group in groups for key in _claimed_keys(group)}
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
    for index, group in enumerate(groups):
        named = _claimed_keys(group)
        if any(key in found for key in named):
            failed.add(index)
        else:
            found.update(named)
    return failed


__all__ = [
    "PUT_ITEM",
    "EventRow",
    "IdentRow",
    "MarkerRow",
    "NewItems",
    "ProfileRow",
    "Row",
    "SQLiteNewItems",
    "SourceRow",
]
