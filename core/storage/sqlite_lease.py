"""The SQLite ``LeaseStore``: one item per lease in the ``items`` table, as in DynamoDB.

| pk            | sk    | columns                                                   |
| ------------- | ----- | --------------------------------------------------------- |
| LEASE#<name>  | LEASE | owner (run id), expires_at (epoch seconds), updated_at   |

The rules are core.storage.dynamodb_lease's: taking a lease succeeds when there is none, when the
stored one has expired, or when the caller already holds it; renewing and releasing need the caller
to hold it. Each is one write transaction (``BEGIN IMMEDIATE``), so two processes racing for a free
lease cannot both win. ``expires_at`` is whole seconds, as DynamoDB stores it; expired leases are
also swept when the file is opened (SQLite has no TTL), which the rules do not rely on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from core.lease import Lease
from core.storage.sqlite_database import SQLiteDatabase

_SK = "LEASE"


def _pk(name: str) -> str:
    return f"LEASE#{name}"


class SQLiteLeaseStore:
    """``LeaseStore`` over a ``SQLiteDatabase`` (the profile store's own)."""

    def __init__(self, database: SQLiteDatabase, *, clock: Callable[[], float] = time.time) -> None:
        self.database = database
        self._clock = clock

    def acquire(self, name: str, owner: str, seconds: float) -> Lease | None:
        now = self._clock()
        lease = Lease(name, owner, now + seconds)
        with self.database.writing() as conn:
            row = conn.execute(
                "SELECT owner, expires_at FROM items WHERE pk = ? AND sk = ?", (_pk(name), _SK)
            ).fetchone()
            # DynamoDB's condition: attribute_not_exists(PK) OR expires_at < :now OR owner = :me
            if row is not None and row[0] != owner and not row[1] < int(now):
                return None
            conn.execute(
                "INSERT OR REPLACE INTO items (pk, sk, owner, expires_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                (_pk(name), _SK, owner, int(lease.expires_at), datetime.fromtimestamp(now, UTC).isoformat()),
            )
        return lease

    def renew(self, name: str, owner: str, seconds: float) -> bool:
        with self.database.writing() as conn:
            cursor = conn.execute(
                "UPDATE items SET expires_at = ? WHERE pk = ? AND sk = ? AND owner = ?",
                (int(self._clock() + seconds), _pk(name), _SK, owner),
            )
            return cursor.rowcount == 1

    def release(self, name: str, owner: str) -> None:
        # Nothing happens when somebody else holds it now (ours expired and was taken): theirs to release.
        with self.database.writing() as conn:
            conn.execute("DELETE FROM items WHERE pk = ? AND sk = ? AND owner = ?", (_pk(name), _SK, owner))

    def current(self, name: str) -> Lease | None:
        with self.database.reading() as conn:
            row = conn.execute(
                "SELECT owner, expires_at FROM items WHERE pk = ? AND sk = ?", (_pk(name), _SK)
            ).fetchone()
        return None if row is None else Lease(name, row[0], float(row[1]))


__all__ = ["SQLiteLeaseStore"]
