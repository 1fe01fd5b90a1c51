"""The SQLite ``HistoryStore`` and ``ReadAudit``: a customer's history and reads in the ``items`` table.

| pk             | sk                                   | columns                                        |
| -------------- | ------------------------------------ | ---------------------------------------------- |
| CUSTOMER#<cid> | HISTORY#<at, fixed width>#<event id> | data (the event as JSON)                       |
| NAMED#<hash>   | <cid>                                | (none: the history of <cid> may name the name)  |
| READ#<cid>     | <at, fixed width>#<request id>       | attrs (principal, role, route, lookup, fields), |
|                |                                      | expires_at (the read audit's retention)        |

The same items as core.storage.dynamodb_history and core.storage.dynamodb_reads, with the same rules:
an event is stored under its sort key, so appending it again changes nothing; pages are a key range
read in order; a survivor's copy of an absorbed customer's events says where it came from. Expired
reads go when the database is next opened (SQLite has no TTL; core.storage.sqlite_database).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from core.governance.history import HistoryEvent, HistoryPage, check_page_size, inherit_in_pages
from core.governance.history_names import NAMED_PAGE, NamedPage, index_pairs, named_pk
from core.governance.reading import ReadRecord
from core.storage.sqlite_database import SQLiteDatabase

_HISTORY = "HISTORY#"
_HISTORY_END = "HISTORY$"  # "$" follows "#": every history key sorts below it
_STAMP = "%Y-%m-%dT%H:%M:%S.%fZ"


class SQLiteHistoryStore:
    """``HistoryStore`` over a ``SQLiteDatabase`` (the profile store's own)."""

    def __init__(self, database: SQLiteDatabase) -> None:
        self.database = database

    def append_history(self, events: Sequence[HistoryEvent]) -> None:
        self._put([(e.customer_id, e) for e in events])

    def _put(self, rows: Sequence[tuple[str, HistoryEvent]]) -> None:
        if not rows:
            return
        with self.database.writing() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO items (pk, sk, data) VALUES (?, ?, ?)",
                [(f"CUSTOMER#{p}", _HISTORY + e.sort_key, e.model_dump_json()) for p, e in rows],
            )
            # The index of the names the events hold (core.governance.history_names).
            _put_named(conn, rows)

    def list_history(
        self, customer_id: str, *, limit: int = 50, after: str | None = None, newest_first: bool = True
    ) -> HistoryPage:
        limit = check_page_size(limit)
        low, high = _HISTORY, _HISTORY_END
        if after is not None:
            if newest_first:
                high = _HISTORY + after
            else:
                low = _HISTORY + after
        order = "DESC" if newest_first else "ASC"
        with self.database.reading() as conn:
            rows = conn.execute(
                f"SELECT data FROM items WHERE pk = ? AND sk > ? AND sk < ? ORDER BY sk {order} LIMIT ?",
                (f"CUSTOMER#{customer_id}", low, high, limit + 1),
            ).fetchall()
        events = [HistoryEvent.model_validate_json(data) for (data,) in rows]
        more = len(events) > limit
        events = events[:limit]
        return HistoryPage(tuple(events), events[-1].sort_key if more and events else None)

    def inherit_history(self, absorbed: str, survivor: str) -> int:
        return inherit_in_pages(self, absorbed, lambda events: self._put([(survivor, e) for e in events]))

    def histories_naming(self, name: str, *, after: str | None = None, limit: int = NAMED_PAGE) -> NamedPage:
        limit = max(1, limit)
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT sk FROM items WHERE pk = ? AND sk > ? ORDER BY sk LIMIT ?",
                (named_pk(name), after or "", limit + 1),
            ).fetchall()
        customers = tuple(sk for (sk,) in rows[:limit])
        return NamedPage(customers, customers[-1] if len(rows) > limit else None)

    def put_named(self, events: Sequence[tuple[str, HistoryEvent]]) -> None:
        with self.database.writing() as conn:
            _put_named(conn, events)

    def forget_named(self, pairs: Sequence[tuple[str, str]]) -> None:
        if not pairs:
            return
        with self.database.writing() as conn:
            conn.executemany(
                "DELETE FROM items WHERE pk = ? AND sk = ?", [(named_pk(n), c) for n, c in pairs]
            )


def _put_named(conn: Any, events: Sequence[tuple[str, HistoryEvent]]) -> None:
    conn.executemany("INSERT OR IGNORE INTO items (pk, sk) VALUES (?, ?)", sorted(index_pairs(events)))


class SQLiteReadAudit:
    """``ReadAudit`` over a ``SQLiteDatabase``: ``READ#<cid>`` items that expire after the retention."""

    def __init__(self, database: SQLiteDatabase, *, retention_days: int = 90) -> None:
        self.database = database
        self.retention_days = retention_days

    def record_read(self, record: ReadRecord) -> None:
        attrs: dict[str, Any] = {
            "principal": record.principal,
            "role": record.role,
            "route": record.route,
            "lookup": record.lookup,
            "fields": list(record.fields),
        }
        expires = record.at + timedelta(days=self.retention_days)
        with self.database.writing() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO items (pk, sk, attrs, expires_at) VALUES (?, ?, ?, ?)",
                (
                    f"READ#{record.customer_id}",
                    f"{record.at.astimezone(UTC):{_STAMP}}#{record.request_id}",
                    json.dumps(attrs),
                    int(expires.timestamp()),
                ),
            )

    def reads_of(self, customer_id: str, *, since: datetime, limit: int = 100) -> list[ReadRecord]:
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT sk, attrs FROM items WHERE pk = ? AND sk >= ? ORDER BY sk DESC LIMIT ?",
                (f"READ#{customer_id}", f"{since.astimezone(UTC):{_STAMP}}", max(1, limit)),
            ).fetchall()
        out: list[ReadRecord] = []
        for sk, attrs in rows:
            stamp, _, request_id = sk.partition("#")
            body = json.loads(attrs)
            out.append(
                ReadRecord(
                    customer_id=customer_id,
                    at=datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC),
                    request_id=request_id,
                    principal=body["principal"],
                    role=body["role"],
                    route=body["route"],
                    lookup=body["lookup"],
                    fields=tuple(body["fields"]),
                )
            )
        return out


__all__ = ["SQLiteHistoryStore", "SQLiteReadAudit"]
