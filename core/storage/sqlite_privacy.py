"""The SQLite ``ErasureStore``: the guarded deletes and the audit items of privacy requests.

| pk              | sk                        | columns                                               |
| --------------- | ------------------------- | ----------------------------------------------------- |
| AUDIT#<action>  | <at ISO>#<request id>     | attrs: request_id, subject_hash, outcome, counts, tools |

As in core.storage.dynamodb_privacy: an erasure step deletes its items all together or not at all,
a PROFILE item only at the version that was read, an IDENT item only while the customer still owns
it; a failed guard writes nothing and raises ConflictError, so core.privacy re-reads and plans again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from core.errors import ConflictError
from core.privacy import AuditRecord, DeleteItem, ItemKey
from core.storage.sqlite import TRANSACTION_MAX_ITEMS
from core.storage.sqlite_database import SQLiteDatabase


class SQLiteErasureStore:
    """``ErasureStore`` over a ``SQLiteDatabase`` (the profile store's own)."""

    def __init__(self, database: SQLiteDatabase, *, max_items_per_step: int = TRANSACTION_MAX_ITEMS) -> None:
        self.database = database
        self.max_items_per_step = max_items_per_step

    def customer_items(self, customer_id: str) -> list[ItemKey]:
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT pk, sk FROM items WHERE pk = ? ORDER BY sk", (f"CUSTOMER#{customer_id}",)
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

    def put_audit(self, record: AuditRecord) -> None:
        attrs = {
            "request_id": record.request_id,
            "subject_hash": record.subject_hash,
            "outcome": record.outcome,
            "counts": dict(sorted(record.counts.items())),
            "tools": dict(sorted(record.tools.items())),
        }
        with self.database.writing() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO items (pk, sk, attrs) VALUES (?, ?, ?)",
                (f"AUDIT#{record.action}", f"{record.at.isoformat()}#{record.request_id}", json.dumps(attrs)),
            )

    def quarantined_items(self, connector: str) -> list[tuple[ItemKey, str]]:
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT pk, sk, attrs FROM items WHERE pk = ? ORDER BY sk", (f"QUARANTINE#{connector}",)
            ).fetchall()
        found: list[tuple[ItemKey, str]] = []
        for pk, sk, attrs in rows:
            body = json.loads(attrs) if attrs else {}
            found.append((ItemKey(pk, sk), body.get("raw", "") + "\n" + body.get("reason", "")))
        return found

    def audit_records(self, action: str) -> list[dict[str, Any]]:
        """The audit records of one action, oldest first (for operators and tests)."""
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT attrs FROM items WHERE pk = ? ORDER BY sk", (f"AUDIT#{action}",)
            ).fetchall()
        return [json.loads(attrs) for (attrs,) in rows]


def _guard_holds(conn: Any, delete: DeleteItem) -> bool:
    """DynamoDB's ConditionExpression of the same delete (core.storage.dynamodb_privacy)."""
    if delete.expected_owner is not None:
        row = conn.execute(
            "SELECT owner FROM items WHERE pk = ? AND sk = ?", (delete.key.pk, delete.key.sk)
        ).fetchone()
        return row is not None and row[0] == delete.expected_owner
    if delete.expected_version is not None:
        row = conn.execute(
            "SELECT version FROM items WHERE pk = ? AND sk = ?", (delete.key.pk, delete.key.sk)
        ).fetchone()
        if delete.expected_version == 0:  # "none was read": the item has no version, or is gone
            return row is None or row[0] is None or row[0] == 0
        return row is not None and row[0] == delete.expected_version
    return True


__all__ = ["SQLiteErasureStore"]
