"""The SQLite store's ``LinkIndex`` (core.link_index): the DynamoDB items, as rows of ``items``.

| pk                   | sk     | columns                                                              |
| -------------------- | ------ | -------------------------------------------------------------------- |
| BLOCK#<hash>         | BLOCK  | attrs: ``{"records": [...], "overloaded": bool, "children": [...],   |
|                      |        | "orders": {<member>: <place in the block's order>}}``               |
| REVIEW#<pair hash>   | REVIEW | hash: the status; updated_at: created; data: the item as JSON       |

An update is a read and a write inside one write transaction (``BEGIN IMMEDIATE`` holds the lock),
so two processes adding to one key never lose each other's members. Pending reviews are found with
a range read of the ``REVIEW#`` keys (the B-tree keeps it cheap); DynamoDB keeps a list item instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from core.link_changes import ChangeMark
from core.link_index import NO_ORDERS, BlockChange, BlockState, ReviewItem, block_item_key, review_pair_id
from core.storage.sqlite_database import SQLiteDatabase, select_in

__all__ = ["SQLiteLinkIndex"]

_REVIEW = "REVIEW#"
_INSERT = "INSERT OR IGNORE INTO items (pk, sk, hash, updated_at, data, attrs) VALUES (?, ?, ?, ?, ?, ?)"
#: Write a review item over the pair's existing one (a decision, a requeue: more conditions may follow).
_UPDATE_REVIEW = (
    "UPDATE items SET hash = ?, updated_at = ?, data = ?, attrs = ? WHERE pk = ? AND sk = 'REVIEW'"
)
_PUT = "INSERT OR REPLACE INTO items (pk, sk, hash, updated_at, data, attrs) VALUES (?, ?, ?, ?, ?, ?)"


class SQLiteLinkIndex:
    """Mixed into ``SQLiteProfileStore`` (which sets ``database``)."""

    database: SQLiteDatabase

    def change_mark(self) -> ChangeMark | None:
        """Where the writes through this database stand for the current writer
        (core.link_changes), with ``PRAGMA data_version`` for other connections' commits."""
        mark, version = self.database.changes.mark(), self.database.data_version()
        return None if mark is None or version is None else replace(mark, extra=version)

    def changed_by_others(self, mark: ChangeMark) -> bool:
        """Whether anyone but the mark's writer wrote since it: through this connection (another
        writer sharing it), or another connection committed."""
        database = self.database
        return database.changes.others_since(mark) or database.data_version() != mark.extra

    def get_blocks(self, keys: Sequence[str], *, members_only: bool = False) -> dict[str, BlockState]:
        by_item = {block_item_key(k): k for k in dict.fromkeys(keys)}
        out: dict[str, BlockState] = {}
        if not by_item:
            return out
        with self.database.reading() as conn:
            for pk, attrs in select_in(
                conn, "SELECT pk, attrs FROM items WHERE sk = 'BLOCK' AND pk IN ({keys})", list(by_item)
            ):
                key = by_item[pk]
                state = _block(key, attrs)
                out[key] = BlockState(key, state.members, state.overloaded) if members_only else state
        # In the order first asked, as the port says (the rows and BatchGetItem come in any order).
        return {k: out[k] for k in by_item.values() if k in out}

    def update_blocks(self, changes: Sequence[BlockChange]) -> None:
        if not changes:
            return
        by_item = {block_item_key(c.key): c for c in changes}
        with self.database.writing() as conn:
            current: dict[str, str] = dict(
                select_in(
                    conn, "SELECT pk, attrs FROM items WHERE sk = 'BLOCK' AND pk IN ({keys})", list(by_item)
                )
            )
            puts: list[tuple[Any, ...]] = []
            deletes: list[tuple[str, str]] = []
            for pk, change in by_item.items():
                state = _block(change.key, current.get(pk))
                children = state.children - change.remove_children
                if len(children | change.add_children) <= change.children_limit:
                    children |= change.add_children
                overloaded = state.overloaded
                members = frozenset() if overloaded else (state.members - change.remove) | change.add
                if len(members) > change.limit:
                    members, overloaded = frozenset(), True
                if members or overloaded or children:
                    attrs: dict[str, Any] = {"records": sorted(members), "overloaded": overloaded}
                    if children:
                        attrs["children"] = sorted(children)
                    # Each member's place in the order; a removed member's goes with it.
                    orders = {k: v for k, v in {**state.orders, **change.orders}.items() if k in members}
                    if orders:
                        attrs["orders"] = dict(sorted(orders.items()))
                    puts.append((pk, "BLOCK", None, None, None, json.dumps(attrs)))
                elif pk in current:
                    deletes.append((pk, "BLOCK"))
            if deletes:
                conn.executemany("DELETE FROM items WHERE pk = ? AND sk = ?", deletes)
            if puts:
                conn.executemany(_PUT, puts)

    def drop_blocks_as_read(self, states: Sequence[BlockState]) -> list[str]:
        by_item = {block_item_key(s.key): s for s in states}
        dropped: list[str] = []
        if not by_item:
            return dropped
        # Read and deleted in one write transaction: no writer comes between the comparison and it.
        with self.database.writing() as conn:
            for pk, attrs in select_in(
                conn, "SELECT pk, attrs FROM items WHERE sk = 'BLOCK' AND pk IN ({keys})", list(by_item)
            ):
                read = by_item[pk]
                if _block(read.key, attrs).holds_as(read):
                    conn.execute("DELETE FROM items WHERE pk = ? AND sk = 'BLOCK'", (pk,))
                    dropped.append(read.key)
        return sorted(dropped)

    def get_reviews(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ReviewItem]:
        by_item = {_REVIEW + review_pair_id(a, b): (a, b) for a, b in pairs}
        out: dict[tuple[str, str], ReviewItem] = {}
        if not by_item:
            return out
        with self.database.reading() as conn:
            for pk, data in select_in(
                conn, "SELECT pk, data FROM items WHERE sk = 'REVIEW' AND pk IN ({keys})", list(by_item)
            ):
                out[by_item[pk]] = ReviewItem.from_json(data)
        return out

    def put_reviews(self, items: Sequence[ReviewItem]) -> None:
        if not items:
            return
        with self.database.writing() as conn:
            conn.executemany(_INSERT, [_review_row(item) for item in items])

    def decide_review(self, item: ReviewItem, read: ReviewItem | None = None) -> bool:
        if read is None:
            return self._update_review(item, "")
        return self._update_review(item, " AND data = ?", read.stored_json())

    def requeue_review(self, decided: ReviewItem, pending: ReviewItem) -> bool:
        # The item as read is its whole ``data`` (its text as read: an earlier release's shape too),
        # as DynamoDB compares it: a decision or another scoring written meanwhile stays.
        return self._update_review(pending, " AND data = ?", decided.stored_json())

    def drop_reviews_as_read(self, items: Sequence[ReviewItem]) -> list[tuple[str, str]]:
        dropped: list[tuple[str, str]] = []
        with self.database.writing() as conn:
            for item in items:
                gone = conn.execute(
                    "DELETE FROM items WHERE pk = ? AND sk = 'REVIEW' AND data = ?",
                    (_REVIEW + item.pair_id, item.stored_json()),
                )
                if gone.rowcount == 1:
                    dropped.append((item.a, item.b))
        return dropped

    def _update_review(self, item: ReviewItem, condition: str, *values: str | None) -> bool:
        """Write ``item`` over the pair's existing item, where ``condition`` (more of the WHERE
        clause, over ``values``) holds too; whether it was written."""
        pk, _, status, created_at, data, attrs = _review_row(item)
        with self.database.writing() as conn:
            written = conn.execute(
                _UPDATE_REVIEW + condition,
                (status, created_at, data, attrs, pk, *values),
            )
            return written.rowcount == 1

    def drop_reviews(self, pairs: Sequence[tuple[str, str]]) -> None:
        if not pairs:
            return
        with self.database.writing() as conn:
            conn.executemany(
                "DELETE FROM items WHERE pk = ? AND sk = 'REVIEW'",
                [(_REVIEW + review_pair_id(a, b),) for a, b in pairs],
            )

    def pending_reviews(self, limit: int = 1000) -> list[ReviewItem]:
        with self.database.reading() as conn:
            rows = conn.execute(
                "SELECT data FROM items WHERE pk >= ? AND pk < ? AND sk = 'REVIEW' AND hash = 'pending' "
                "ORDER BY updated_at, pk LIMIT ?",
                (_REVIEW, "REVIEW$", limit),
            ).fetchall()
        return [ReviewItem.from_json(data) for (data,) in rows]

    def review_by_id(self, pair_id: str) -> ReviewItem | None:
        with self.database.reading() as conn:
            row = conn.execute(
                "SELECT data FROM items WHERE pk = ? AND sk = 'REVIEW'", (_REVIEW + pair_id,)
            ).fetchone()
        return None if row is None else ReviewItem.from_json(row[0])


def _block(key: str, attrs: str | None) -> BlockState:
    if not attrs:
        return BlockState(key)
    data = json.loads(attrs)
    return BlockState(
        key,
        frozenset(data.get("records", ())),
        bool(data.get("overloaded")),
        frozenset(data.get("children", ())),
        data.get("orders") or NO_ORDERS,
    )


def _review_row(item: ReviewItem) -> tuple[Any, ...]:
    data = json.dumps(item.as_dict(), ensure_ascii=False, sort_keys=True)  # as written now
    return (_REVIEW + item.pair_id, "REVIEW", item.status, item.created_at.isoformat(), data, None)
