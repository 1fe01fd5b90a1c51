"""Writes counted per store, and whose they were: what lets a linked ingest skip its concurrent-writer
re-check (core.link_recheck) when nobody else wrote since it read.

The re-check reads a batch's index keys again after its commit, for records another writer filed
there, or committed, after the batch's read. Only a write can do either, so a store that counts its
writes can say "nobody else wrote since" for the price of a counter. The count alone is not enough:
the batch writes too (its commit, its review items, its splits), and several writers may share one
store object (threads, or one writer running inside another's store call). So each write is also
counted for the writer it was made under (``writing``, a context variable: ``core.pipeline.ingest``
opens one per call), and others wrote since a mark when the store's count moved by more than the
writer's own writes through that counter did. A write made outside any writer counts as another's.

Used by the in-memory store (every write that changes the index or who owns a record) and the
SQLite store (every write transaction through its connection, beside ``PRAGMA data_version``,
which changes when another connection commits). DynamoDB has none: a counter there is one item
every writer's transaction must write, so concurrent writers would cancel each other on it; it keeps
the re-check.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

__all__ = ["ChangeCounter", "ChangeMark", "CountsChanges", "Writer", "writing"]


class Writer:
    """One ingest call's writes, by the counter that counted them."""

    __slots__ = ("own",)

    def __init__(self) -> None:
        self.own: dict[ChangeCounter, int] = {}


_WRITER: ContextVar[Writer | None] = ContextVar("profilesync_writer", default=None)


@contextmanager
def writing() -> Iterator[Writer]:
    """Count the writes made in the block as this writer's own (a writer nested inside it, in the
    same thread, opens its own and counts as another)."""
    writer = Writer()
    token = _WRITER.set(writer)
    try:
        yield writer
    finally:
        _WRITER.reset(token)


@dataclass(frozen=True)
class ChangeMark:
    """Where a store's count and the writer's own writes through it stood (``ChangeCounter.mark``);
    ``extra``: what else the store reads to tell (SQLite's ``data_version``)."""

    counter: ChangeCounter
    writer: Writer
    count: int
    own: int
    extra: object = None


class ChangeCounter:
    """The writes made through one store object, and each writer's share (``writing``)."""

    __slots__ = ("_lock", "count")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def wrote(self) -> None:
        """Count one write, once it has taken effect, or under the lock the store's reads take: a
        write counted before it lands, outside that lock, could be counted before a mark and land
        after the read that followed it, unseen by both."""
        writer = _WRITER.get()
        with self._lock:
            self.count += 1
            if writer is not None:
                writer.own[self] = writer.own.get(self, 0) + 1

    def mark(self, extra: object = None) -> ChangeMark | None:
        """Where the count stands for the current writer; None outside ``writing`` (own writes and
        others' cannot be told apart)."""
        writer = _WRITER.get()
        if writer is None:
            return None
        with self._lock:
            return ChangeMark(self, writer, self.count, writer.own.get(self, 0), extra)

    def others_since(self, mark: ChangeMark) -> bool:
        """Whether a write not the mark's writer's went through this counter since ``mark``."""
        if mark.counter is not self:
            return True
        with self._lock:
            return self.count - mark.count != mark.writer.own.get(self, 0) - mark.own


@runtime_checkable
class CountsChanges(Protocol):
    """A store that can tell whether anyone but the current writer wrote since a mark (the in-memory
    and SQLite stores; not DynamoDB)."""

    def change_mark(self) -> ChangeMark | None:
        """Where the store's writes stand for the current writer; None: it cannot tell (outside
        ``writing``, or the store could not read its own state)."""
        ...

    def changed_by_others(self, mark: ChangeMark) -> bool:
        """Whether a write not the mark's writer's reached the store since ``mark``."""
        ...
