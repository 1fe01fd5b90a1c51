"""The in-memory store's ``LinkIndex`` (core.link_index): blocking and identifier-value keys, reviews.

Dictionaries under one lock, with the semantics of the SQLite and DynamoDB index (the port suite runs
the same tests on the three): a key that would pass its limit becomes overloaded and drops its
members; a review item, once created, is only overwritten by a person's decision, or by a write
conditional on the item as read (a requeue, a pair scored again).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from core.link_changes import ChangeCounter, ChangeMark
from core.link_index import NO_ORDERS, BlockChange, BlockState, ReviewItem, review_pair_id

__all__ = ["InMemoryLinkIndex"]


class InMemoryLinkIndex:
    """Mixed into ``InMemoryProfileStore``; ``_init_links`` sets the state up."""

    changes: ChangeCounter  # the store's (core.storage.memory)

    def _init_links(self) -> None:
        self._links_lock = threading.Lock()
        self._blocks: dict[str, BlockState] = {}
        self._reviews: dict[str, ReviewItem] = {}
        self.index_writes = 0
        """Index keys and review items written (for tests and benchmarks)."""

    def change_mark(self) -> ChangeMark | None:
        """Where the store's writes stand for the current writer (core.link_changes)."""
        return self.changes.mark()

    def changed_by_others(self, mark: ChangeMark) -> bool:
        """Whether anyone but the mark's writer wrote to the index or the owners since it."""
        return self.changes.others_since(mark)

    def get_blocks(self, keys: Sequence[str], *, members_only: bool = False) -> dict[str, BlockState]:
        # One look-up a key (a key asked twice is kept once, where first asked): a batch reads about
        # 23 keys a record at 3,000 people, from a dictionary of tens of thousands.
        with self._links_lock:
            get = self._blocks.get
            found = {k: s for k in keys if (s := get(k)) is not None}
        if members_only:
            # ``BlockState(k, members, overloaded)`` through ``tuple.__new__`` (the named tuple's
            # ``__new__`` is Python-level): a batch's re-check reads about nine keys a record.
            make, empty = tuple.__new__, frozenset[str]()
            return {
                k: make(BlockState, (k, s.members, s.overloaded, empty, NO_ORDERS)) for k, s in found.items()
            }
        return found

    def update_blocks(self, changes: Sequence[BlockChange]) -> None:
        empty: frozenset[str] = frozenset()
        make = tuple.__new__
        with self._links_lock:
            # Counted first (core.link_changes): a read after a mark waits for this lock, so it sees
            # the whole write; a write that stops half way is counted all the same.
            self.changes.wrote()
            blocks = self._blocks
            get = blocks.get
            self.index_writes += len(changes)
            # Each change unpacked once (a named tuple's fields are read by index: eight attribute
            # look-ups a change, about nine changes a record).
            for key, add, remove, limit, add_children, remove_children, children_limit, orders in changes:
                current = get(key)
                if current is None:
                    # A key seen for the first time (most of a batch's new records' keys).
                    members, overloaded = add, False
                    children = add_children if len(add_children) <= children_limit else empty
                else:
                    _, members, overloaded, children, kept_orders = current
                    if remove_children:
                        children = children - remove_children
                    if add_children and len(children | add_children) <= children_limit:
                        children = children | add_children
                    if overloaded:
                        members = empty
                    else:
                        if remove:
                            members = members - remove
                        if add:
                            members = members | add
                    if kept_orders and members:
                        # Each member's place goes with it: a removed member's, and every one once
                        # the key is overloaded (members is then empty: no places are kept).
                        kept = dict(kept_orders)
                        for gone in remove:
                            kept.pop(gone, None)
                        if orders:
                            kept.update(orders)
                        orders = kept
                if len(members) > limit:
                    members, overloaded = empty, True
                if members or overloaded or children:
                    placed = orders if members and orders else NO_ORDERS  # only members' places
                    # ``BlockState(...)`` with every field given, without the named tuple's Python
                    # ``__new__`` (as core.link_index.changes_for makes its changes).
                    blocks[key] = make(BlockState, (key, members, overloaded, children, placed))
                else:
                    blocks.pop(key, None)

    def drop_blocks_as_read(self, states: Sequence[BlockState]) -> list[str]:
        dropped: list[str] = []
        with self._links_lock:
            for read in states:
                current = self._blocks.get(read.key)
                if current is not None and current.holds_as(read):
                    del self._blocks[read.key]
                    dropped.append(read.key)
            if dropped:
                self.changes.wrote()
        return dropped

    def get_reviews(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ReviewItem]:
        with self._links_lock:
            out: dict[tuple[str, str], ReviewItem] = {}
            for a, b in pairs:
                item = self._reviews.get(review_pair_id(a, b))
                if item is not None:
                    out[(a, b)] = item
            return out

    def put_reviews(self, items: Sequence[ReviewItem]) -> None:
        with self._links_lock:
            for item in items:
                if item.pair_id not in self._reviews:
                    self._reviews[item.pair_id] = item
                    self.index_writes += 1

    def decide_review(self, item: ReviewItem, read: ReviewItem | None = None) -> bool:
        with self._links_lock:
            if item.pair_id not in self._reviews or (read is not None and not self._holds(read)):
                return False
            self._reviews[item.pair_id] = item
            self.index_writes += 1
            return True

    def requeue_review(self, decided: ReviewItem, pending: ReviewItem) -> bool:
        with self._links_lock:
            if not self._holds(decided):
                return False
            self._reviews[decided.pair_id] = pending
            self.index_writes += 1
            return True

    def _holds(self, read: ReviewItem) -> bool:
        """Whether the pair's item is the one read, all of it (as the other stores compare its JSON)."""
        current = self._reviews.get(read.pair_id)
        return current is not None and current.same_filing(read)

    def drop_reviews(self, pairs: Sequence[tuple[str, str]]) -> None:
        with self._links_lock:
            for a, b in pairs:
                self._reviews.pop(review_pair_id(a, b), None)

    def drop_reviews_as_read(self, items: Sequence[ReviewItem]) -> list[tuple[str, str]]:
        dropped: list[tuple[str, str]] = []
        with self._links_lock:
            for item in items:
                if self._holds(item):
                    del self._reviews[item.pair_id]
                    dropped.append((item.a, item.b))
        return dropped

    def pending_reviews(self, limit: int = 1000) -> list[ReviewItem]:
        with self._links_lock:
            pending = [item for item in self._reviews.values() if item.status == "pending"]
        return sorted(pending, key=lambda i: (i.created_at, i.a, i.b))[:limit]

    def review_by_id(self, pair_id: str) -> ReviewItem | None:
        with self._links_lock:
            return self._reviews.get(pair_id)

    def _copy_links_to(self, other: InMemoryLinkIndex) -> None:
        with self._links_lock:
            other._blocks = dict(self._blocks)
            other._reviews = dict(self._reviews)
