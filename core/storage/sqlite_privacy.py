"""The SQLite ``ErasureStore`` and ``SuppressionStore``: privacy requests on the embedded store.

| pk                    | sk                     | columns                                                  |
| --------------------- | ---------------------- | -------------------------------------------------------- |
| AUDIT#<action>        | <at ISO>#<request id>  | attrs: request_id, subject_hash, outcome, counts, tools, |
|                       |                        | requested_by, invocation                                 |
| ERASURE#pending       | <request id>           | updated_at (created), attrs: subject_hash, tools, held,  |
|                       |                        | attempts, requested_by, unheld (when any)                |
| SUPPRESS#<hash>       | SUPPRESS               | owner (the erasure's request id), updated_at (at),       |
|                       |                        | attrs: kind, a fuzzy entry's fingerprint                 |
| SUPPRESSION#<request> | ENTRIES                | updated_at (at), attrs: hashes                           |
| SUPPRESS#epoch        | EPOCH                  | version: the erasure epoch (core.erasure_epoch), owner:  |
|                       |                        | a random token of its last bump                          |

The same items and rules as core.storage.dynamodb_privacy and core.storage.dynamodb_suppression:
an erasure step deletes its items all together or not at all, a PROFILE item only at the version
that was read, an IDENT item only while the customer still owns it; a failed guard writes nothing
and raises ConflictError, so core.privacy re-reads and plans again. An audit item is written once
(a second write of one raises ConflictError). Suppression entries never expire. The erasure epoch
is bumped in the transaction that writes suppression entries, in each erasure step's, and in the
one that writes an erasure's audit record; a file without its row reads as epoch 0.

A row SQLite deletes stays in the file's free pages until they are reused, and in the write-ahead
log until a checkpoint: ``SQLiteDatabase`` turns ``secure_delete`` on for its durable files, so a
deleted row is overwritten with zeros, and ``SQLiteDatabase.scrub`` (run after an erasure) copies
the log into the file and truncates it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from core.erasure_epoch import epoch_text
from core.errors import ConflictError
from core.privacy_store import AuditRecord, DeleteItem, ItemKey, PendingErasure, QuarantineItem
from core.storage.sqlite import TRANSACTION_MAX_ITEMS, database_epoch_key
from core.storage.sqlite_database import SQLiteDatabase, select_in
from core.suppression import SuppressedKind, SuppressionEntry
from core.suppression_prints import merged, without

PENDING_PK = "ERASURE#pending"
EPOCH_PK, EPOCH_SK = "SUPPRESS#epoch", "EPOCH"


def bump_epoch(conn: Any) -> None:
    """Bump the erasure epoch in the open write transaction ``conn`` (core.erasure_epoch), with a
    new random token (core.storage.dynamodb_epoch.bump_epoch)."""
    conn.execute(
        "INSERT INTO items (pk, sk, version, owner) VALUES (?, ?, 1, ?) "
        "ON CONFLICT (pk, sk) DO UPDATE SET version = version + 1, owner = excluded.owner",
        (EPOCH_PK, EPOCH_SK, secrets.token_hex(8)),
    )


class SQLiteErasureStore:
    """``ErasureStore`` over a ``SQLiteDatabase`` (the profile store's own)."""

    def __init__(self, database: SQLiteDatabase, *, max_items_per_step: int = TRANSACTION_MAX_ITEMS) -> None:
        self.database = database
        self.max_items_per_step = max_items_per_step

    def customer_items(self, customer_id: str) -> list[ItemKey]:
        with self.database.reading() as conn:
            # The customer's partition (profile, records, pushes, history), then its read audit.
            rows = conn.execute(
                "SELECT pk, sk FROM items WHERE pk IN (?, ?) ORDER BY pk, sk",
                (f"CUSTOMER#{customer_id}", f"READ#{customer_id}"),
            ).fetchall()
        return [ItemKey(pk, sk) for pk, sk in rows]

    def apply(self, step: Sequence[DeleteItem]) -> None:
        if not step:
            return
        # Any number of deletes is one transaction here; core.privacy plans steps of at most
        # ``max_items_per_step`` anyway, so that they fit DynamoDB's too.
        with self.database.writing() as conn:
            for delete in step:
                if not _guard_holds(conn, delete):
                    # Raising rolls the transaction back: none of the step's deletes happen.
                    raise ConflictError(
                        f"an erasure step lost a race (the guard of {delete.key.pk} / {delete.key.sk} "
                        "failed); re-read and plan again"
                    )
                conn.execute("DELETE FROM items WHERE pk = ? AND sk = ?", (delete.key.pk, delete.key.sk))
            # What a batch read of hers since the suppress bump is forgotten everywhere (epoch).
            bump_epoch(conn)

    def put_audit(self, record: AuditRecord) -> None:
        attrs: dict[str, Any] = {
            "request_id": record.request_id,
            "subject_hash": record.subject_hash,
            "outcome": record.outcome,
            "counts": dict(sorted(record.counts.items())),
            "tools": dict(sorted(record.tools.items())),
        }
        if record.requested_by:
            attrs["requested_by"] = record.requested_by
        if record.invocation:
            attrs["invocation"] = record.invocation
        pk, sk = f"AUDIT#{record.action}", f"{record.at.isoformat()}#{record.request_id}"
        with self.database.writing() as conn:
            # Written once: an audit record is never replaced.
            if conn.execute("SELECT 1 FROM items WHERE pk = ? AND sk = ?", (pk, sk)).fetchone():
                raise ConflictError(
                    f"an audit record of request {record.request_id!r} at {record.at.isoformat()} "
                    "exists already; audit records are never overwritten: send the request again"
                )
            conn.execute("INSERT INTO items (pk, sk, attrs) VALUES (?, ?, ?)", (pk, sk, json.dumps(attrs)))
            if record.action == "erase":  # what the erasure read is forgotten everywhere (epoch)
                bump_epoch(conn)

    def quarantined_items(self, connector: str) -> list[QuarantineItem]:
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT pk, sk, attrs FROM items WHERE pk = ? ORDER BY sk", (f"QUARANTINE#{connector}",)
            ).fetchall()
        found: list[QuarantineItem] = []
        for pk, sk, attrs in rows:
            body = json.loads(attrs) if attrs else {}
            subjects = body.get("subjects")
            found.append(
                QuarantineItem(
                    ItemKey(pk, sk),
                    frozenset(subjects) if subjects else None,
                    body.get("raw", ""),
                    body.get("reason", ""),
                )
            )
        return found

    def held_markers(self, customer_ids: Sequence[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        with self.database.reading() as conn:
            rows = select_in(  # the partial index items_holders (core.storage.sqlite_database)
                conn,
                "SELECT pk, owner FROM items WHERE sk >= 'HOLDER#' AND sk < 'HOLDER$' AND sk IN ({keys})",
                [f"HOLDER#{c}" for c in dict.fromkeys(customer_ids)],
            )
            for pk, customer_id in rows:
                out.setdefault(customer_id, set()).add(pk[len("IDENT#") :])
        return out

    def holders(self, keys: Sequence[str]) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        with self.database.reading() as conn:
            rows = select_in(
                conn,
                "SELECT pk, owner FROM items WHERE sk >= 'HOLDER#' AND sk < 'HOLDER$' AND pk IN ({keys})",
                [f"IDENT#{k}" for k in dict.fromkeys(keys)],
            )
            for pk, customer_id in rows:
                out.setdefault(pk[len("IDENT#") :], set()).add(customer_id)
        return out

    def put_pending(self, pending: PendingErasure) -> None:
        attrs: dict[str, Any] = {
            "subject_hash": pending.subject_hash,
            "tools": {tool: list(keys) for tool, keys in sorted(pending.tools.items())},
            "held": pending.held,
            "attempts": pending.attempts,
        }
        if pending.requested_by:
            attrs["requested_by"] = pending.requested_by
        if pending.unheld:
            attrs["unheld"] = list(pending.unheld)
        with self.database.writing() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO items (pk, sk, updated_at, attrs) VALUES (?, ?, ?, ?)",
                (PENDING_PK, pending.request_id, pending.created_at.isoformat(), json.dumps(attrs)),
            )

    def pending_erasures(self) -> list[PendingErasure]:
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT sk, updated_at, attrs FROM items WHERE pk = ?", (PENDING_PK,)
            ).fetchall()
        found = []
        for request_id, created_at, attrs in rows:
            body = json.loads(attrs)
            found.append(
                PendingErasure(
                    request_id=request_id,
                    subject_hash=body["subject_hash"],
                    created_at=datetime.fromisoformat(created_at),
                    tools={tool: tuple(keys) for tool, keys in body["tools"].items()},
                    held=bool(body["held"]),
                    attempts=int(body["attempts"]),
                    requested_by=body.get("requested_by", ""),
                    unheld=tuple(body.get("unheld", ())),
                )
            )
        return sorted(found, key=lambda p: (p.created_at, p.request_id))

    def delete_pending(self, request_id: str) -> None:
        with self.database.writing() as conn:
            conn.execute("DELETE FROM items WHERE pk = ? AND sk = ?", (PENDING_PK, request_id))

    def audit_records(self, action: str) -> list[dict[str, Any]]:
        """The audit records of one action, oldest first (for operators and tests)."""
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT attrs FROM items WHERE pk = ? ORDER BY sk", (f"AUDIT#{action}",)
            ).fetchall()
        return [json.loads(attrs) for (attrs,) in rows]


class SQLiteSuppressionStore:
    """``SuppressionStore`` over a ``SQLiteDatabase`` (the profile store's own): one row per
    suppressed identifier's keyed hash, one per erasure listing its hashes (``lift`` lifts them all)."""

    def __init__(self, database: SQLiteDatabase) -> None:
        self.database = database

    @property
    def epoch_key(self) -> str:
        return database_epoch_key(self.database)

    def erasure_epoch(self) -> str:
        with self.database.reading() as conn:
            row = conn.execute(
                "SELECT version, owner FROM items WHERE pk = ? AND sk = ?", (EPOCH_PK, EPOCH_SK)
            ).fetchone()
        return epoch_text(int(row[0]), row[1]) if row is not None else "0"

    def suppressed(self, hashes: Sequence[str]) -> set[str]:
        unique = list(dict.fromkeys(hashes))
        if not unique:
            return set()
        with self.database.reading() as conn:
            rows = select_in(
                conn,
                "SELECT pk FROM items WHERE sk = 'SUPPRESS' AND pk IN ({keys})",
                [f"SUPPRESS#{h}" for h in unique],
            )
            return {pk[len("SUPPRESS#") :] for (pk,) in rows}

    def suppress(self, entries: Sequence[SuppressionEntry]) -> None:
        if not entries:
            return
        by_erasure: dict[str, list[SuppressionEntry]] = {}
        for entry in entries:
            by_erasure.setdefault(entry.erasure, []).append(entry)
        with self.database.writing() as conn:
            bump_epoch(conn)
            for erasure, group in sorted(by_erasure.items()):
                pk = f"SUPPRESSION#{erasure}"
                row = conn.execute(
                    "SELECT updated_at, attrs FROM items WHERE pk = ? AND sk = 'ENTRIES'", (pk,)
                ).fetchone()
                hashes = set(json.loads(row[1])["hashes"]) if row is not None else set()
                at = row[0] if row is not None else group[0].at.isoformat()
                conn.execute(
                    "INSERT OR REPLACE INTO items (pk, sk, updated_at, attrs) VALUES (?, 'ENTRIES', ?, ?)",
                    (pk, at, json.dumps({"hashes": sorted(hashes | {e.hash for e in group})})),
                )
                written = [_merged(conn, e) if e.kind == "fuzzy" else e for e in group]
                conn.executemany(
                    "INSERT OR REPLACE INTO items (pk, sk, owner, updated_at, attrs) "
                    "VALUES (?, 'SUPPRESS', ?, ?, ?)",
                    [
                        (f"SUPPRESS#{e.hash}", e.erasure, e.at.isoformat(), json.dumps(_attrs(e)))
                        for e in written
                    ],
                )

    def entry(self, hash_: str) -> SuppressionEntry | None:
        with self.database.reading() as conn:
            row = conn.execute(
                "SELECT owner, updated_at, attrs FROM items WHERE pk = ? AND sk = 'SUPPRESS'",
                (f"SUPPRESS#{hash_}",),
            ).fetchone()
        return None if row is None else _entry(hash_, *row)

    def lift(self, hash_: str) -> list[SuppressionEntry]:
        with self.database.writing() as conn:
            row = conn.execute(
                "SELECT owner FROM items WHERE pk = ? AND sk = 'SUPPRESS'", (f"SUPPRESS#{hash_}",)
            ).fetchone()
            if row is None:
                return []
            erasure = row[0]
            group = conn.execute(
                "SELECT attrs FROM items WHERE pk = ? AND sk = 'ENTRIES'", (f"SUPPRESSION#{erasure}",)
            ).fetchone()
            hashes = set(json.loads(group[0])["hashes"]) if group is not None else set()
            lifted: list[SuppressionEntry] = []
            for h in sorted(hashes | {hash_}):
                found = conn.execute(
                    "SELECT owner, updated_at, attrs FROM items WHERE pk = ? AND sk = 'SUPPRESS'",
                    (f"SUPPRESS#{h}",),
                ).fetchone()
                if found is not None and json.loads(found[2])["kind"] == "fuzzy":
                    # Every erasure's fingerprints under one key: this erasure's own are lifted.
                    left, mine = without(_entry(h, *found), erasure)
                    if left is None:
                        conn.execute("DELETE FROM items WHERE pk = ? AND sk = 'SUPPRESS'", (f"SUPPRESS#{h}",))
                    elif mine is not None:
                        conn.execute(
                            "UPDATE items SET owner = ?, attrs = ? WHERE pk = ? AND sk = 'SUPPRESS'",
                            (left.erasure, json.dumps(_attrs(left)), f"SUPPRESS#{h}"),
                        )
                    lifted.extend([mine] if mine is not None else [])
                # Only while it is still this erasure's: a later erasure keeps its own entry.
                elif found is not None and found[0] == erasure:
                    conn.execute("DELETE FROM items WHERE pk = ? AND sk = 'SUPPRESS'", (f"SUPPRESS#{h}",))
                    lifted.append(_entry(h, *found))
            conn.execute("DELETE FROM items WHERE pk = ? AND sk = 'ENTRIES'", (f"SUPPRESSION#{erasure}",))
        return lifted


def _merged(conn: Any, entry: SuppressionEntry) -> SuppressionEntry:
    """A fuzzy entry with the fingerprints already under its key (core.suppression_prints), read
    in the same write transaction."""
    row = conn.execute(
        "SELECT owner, updated_at, attrs FROM items WHERE pk = ? AND sk = 'SUPPRESS'",
        (f"SUPPRESS#{entry.hash}",),
    ).fetchone()
    return merged(None if row is None else _entry(entry.hash, *row), entry)


def _attrs(entry: SuppressionEntry) -> dict[str, str]:
    return {"kind": entry.kind} | ({"fingerprint": entry.fingerprint} if entry.fingerprint else {})


def _entry(hash_: str, erasure: str, at: str, attrs: str) -> SuppressionEntry:
    held = json.loads(attrs)
    return SuppressionEntry(
        hash=hash_,
        kind=cast(SuppressedKind, held["kind"]),
        erasure=erasure,
        at=datetime.fromisoformat(at),
        fingerprint=held.get("fingerprint", ""),
    )


def _guard_holds(conn: Any, delete: DeleteItem) -> bool:
    """DynamoDB's ConditionExpression of the same delete (core.storage.dynamodb_privacy)."""
    if delete.expected_owner is not None:
        row = conn.execute(
            "SELECT owner, updated_at FROM items WHERE pk = ? AND sk = ?", (delete.key.pk, delete.key.sk)
        ).fetchone()
        at = delete.expected_at
        if row is not None and at is not None and (row[1] is None or datetime.fromisoformat(row[1]) != at):
            return False  # a touch committed since the time was read moved it: the delete loses
        return row is not None and row[0] == delete.expected_owner
    if delete.expected_version is not None:
        row = conn.execute(
            "SELECT version FROM items WHERE pk = ? AND sk = ?", (delete.key.pk, delete.key.sk)
        ).fetchone()
        if delete.expected_version == 0:  # "none was read": the item has no version, or is gone
            return row is None or row[0] is None or row[0] == 0
        return row is not None and row[0] == delete.expected_version
    return True


__all__ = ["PENDING_PK", "SQLiteErasureStore", "SQLiteSuppressionStore"]
