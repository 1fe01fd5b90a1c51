"""The SQLite ``SyncStateStore``: cursors, push hashes and quarantined records, in the ``items`` table.

| pk                     | sk                      | columns                                           |
| ---------------------- | ----------------------- | ------------------------------------------------- |
| SYNC#<connector>       | STATE                   | version, updated_at, data (cursor), attrs: report |
| CUSTOMER#<cid>         | PUSHED#<destination>    | hash, owner (the remote id), updated_at (pushed)  |
| QUARANTINE#<connector> | <at ISO>#<record key>   | attrs: reason, raw, subjects; expires_at          |

The same items as core.storage.dynamodb's ``DynamoDBSyncStateStore``, with the same rules: a cursor
is saved only over the version that was read (two overlapping runs cannot move it backwards; the
loser gets ConflictError), push hashes are last-write-wins, and quarantined records expire after
``QUARANTINE_RETENTION_DAYS`` (deleted when the database is next opened: SQLite has no TTL).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from core.erasure_epoch import epoch_text
from core.errors import ConflictError
from core.ports import PushedState, QuarantineEntry, SyncState
from core.quarantine import QUARANTINE_RETENTION_DAYS, distinct_times
from core.storage.sqlite_database import SQLiteDatabase, select_in

#: A quarantined record's raw text is cut here, as in DynamoDB (an item holds 400 KB).
RAW_MAX_CHARS = 100_000


class SQLiteSyncStateStore:
    """``SyncStateStore`` over a ``SQLiteDatabase`` (usually the profile store's own)."""

    def __init__(self, database: SQLiteDatabase) -> None:
        self.database = database

    def get_sync_state(self, connector: str) -> SyncState:
        with self.database.reading() as conn:
            row = conn.execute(
                "SELECT version, updated_at, data, attrs FROM items WHERE pk = ? AND sk = 'STATE'",
                (f"SYNC#{connector}",),
            ).fetchone()
        if row is None:
            return SyncState(connector)
        version, updated_at, cursor, attrs = row
        return SyncState(
            connector=connector,
            cursor=cursor,
            version=version,
            updated_at=datetime.fromisoformat(updated_at) if updated_at else None,
            report=json.loads(attrs).get("report", "") if attrs else "",
        )

    def connectors(self) -> list[str]:
        """The names of the connectors with a saved state (for ``profilesync status``)."""
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT pk FROM items WHERE pk >= 'SYNC#' AND pk < 'SYNC$' AND sk = 'STATE' ORDER BY pk"
            ).fetchall()
        return [pk[len("SYNC#") :] for (pk,) in rows]

    def put_sync_state(self, state: SyncState) -> SyncState:
        saved = replace(state, version=state.version + 1, updated_at=state.updated_at or datetime.now(UTC))
        pk = f"SYNC#{state.connector}"
        with self.database.writing() as conn:
            row = conn.execute("SELECT version FROM items WHERE pk = ? AND sk = 'STATE'", (pk,)).fetchone()
            stored = row[0] if row is not None else 0
            if stored != state.version:
                raise ConflictError(
                    f"sync state of {state.connector!r} was saved by another run since version "
                    f"{state.version}; re-read it and go on"
                )
            conn.execute(
                "INSERT OR REPLACE INTO items (pk, sk, version, updated_at, data, attrs) "
                "VALUES (?, 'STATE', ?, ?, ?, ?)",
                (
                    pk,
                    saved.version,
                    saved.updated_at.isoformat() if saved.updated_at else None,
                    saved.cursor,
                    json.dumps({"report": saved.report}) if saved.report else None,
                ),
            )
        return saved

    def get_pushed(self, destination: str, customer_ids: Sequence[str]) -> dict[str, PushedState]:
        out: dict[str, PushedState] = {}
        unique = list(dict.fromkeys(customer_ids))
        with self.database.reading() as conn:
            rows = select_in(
                conn,
                "SELECT pk, hash, owner, updated_at FROM items WHERE sk = ? AND pk IN ({keys})",
                [f"CUSTOMER#{cid}" for cid in unique],
                f"PUSHED#{destination}",
            )
            for pk, payload_hash, remote_id, pushed_at in rows:
                cid = pk[len("CUSTOMER#") :]
                at = datetime.fromisoformat(pushed_at) if pushed_at else None
                out[cid] = PushedState(cid, destination, payload_hash, remote_id, at)
        return out

    def put_pushed(self, states: Sequence[PushedState]) -> None:
        if not states:
            return
        with self.database.writing() as conn:
            _write_pushed(conn, states)

    def put_pushed_unless_erased(self, states: Sequence[PushedState], epoch: str) -> bool:
        # The epoch row is read in the write transaction: an erasure (whose deletes bump it in
        # theirs) commits wholly before or wholly after this check and write.
        with self.database.writing() as conn:
            row = conn.execute(
                "SELECT version, owner FROM items WHERE pk = 'SUPPRESS#epoch' AND sk = 'EPOCH'"
            ).fetchone()
            if (epoch_text(int(row[0]), row[1]) if row is not None else "0") != epoch:
                return False
            _write_pushed(conn, states)
            return True

    def put_quarantined(self, entries: Sequence[QuarantineEntry]) -> None:
        if not entries:
            return
        rows = []
        for e in distinct_times(entries):  # one row each, also for one key at one time
            expires = e.at + timedelta(days=QUARANTINE_RETENTION_DAYS)
            body: dict[str, object] = {"reason": e.reason, "raw": e.raw[:RAW_MAX_CHARS]}
            if e.subjects:  # the keyed hashes an erasure finds the record by (core.quarantine)
                body["subjects"] = sorted(set(e.subjects))
            attrs = json.dumps(body)
            rows.append(
                (f"QUARANTINE#{e.connector}", f"{e.at.isoformat()}#{e.key}", attrs, int(expires.timestamp()))
            )
        with self.database.writing() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO items (pk, sk, attrs, expires_at) VALUES (?, ?, ?, ?)", rows
            )

    def quarantined(self, connector: str) -> list[QuarantineEntry]:
        """The quarantine of one connector, oldest first (for reports and tests)."""
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT sk, attrs FROM items WHERE pk = ? ORDER BY sk", (f"QUARANTINE#{connector}",)
            ).fetchall()
        out: list[QuarantineEntry] = []
        for sk, attrs in rows:
            at, _, key = sk.partition("#")
            body = json.loads(attrs)
            out.append(
                QuarantineEntry(
                    connector,
                    key,
                    body["reason"],
                    body["raw"],
                    datetime.fromisoformat(at),
                    tuple(body.get("subjects", ())),
                )
            )
        return out


def _write_pushed(conn: Any, states: Sequence[PushedState]) -> None:
    conn.executemany(  # in order: of two states of one customer, the last wins
        "INSERT OR REPLACE INTO items (pk, sk, hash, owner, updated_at) VALUES (?, ?, ?, ?, ?)",
        [
            (
                f"CUSTOMER#{s.customer_id}",
                f"PUSHED#{s.destination}",
                s.payload_hash,
                s.remote_id or None,
                s.at.isoformat() if s.at is not None else None,
            )
            for s in states
        ],
    )


__all__ = ["RAW_MAX_CHARS", "SQLiteSyncStateStore"]
