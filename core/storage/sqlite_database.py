"""One SQLite file holding the profile table: the embedded store's database.

The layout is DynamoDB's (``docs/architecture.md``): one ``items`` table keyed by ``(pk, sk)``, with
the same key strings (``CUSTOMER#<cid>`` / ``PROFILE``, ``IDENT#<key>`` / ``IDENT``, ...). A few
typed columns hold the attributes the stores read in bulk or put conditions on; ``data`` holds a
model's JSON and ``attrs`` a JSON object of the rest. Mirroring the item layout keeps the three
stores (in-memory, SQLite, DynamoDB) one design: a new item kind is a new key prefix, "every item
of a customer" is one key range, and the stores' code reads alike. The table keeps its rowid, with
the key as a unique index (``WITHOUT ROWID``, rows inside the key's B-tree, wrote them at half the
speed: docs/architecture.md): ``pk IN (...)`` reads a batch of customers or identifiers with one
index walk per key.

Transactions: the connection is in autocommit mode and every unit of work opens its own. A write
starts with ``BEGIN IMMEDIATE``, which takes the database's write lock at once, so the conditions it
checks cannot change before it commits (across processes too: two ``profilesync sync`` runs on one
directory serialise their commits). A read of several statements runs in one ``BEGIN`` so it sees
one snapshot, never half a commit. WAL mode lets readers go on while a writer commits, and
``synchronous=NORMAL`` syncs at checkpoints only: a power cut can lose the last commits, but never
a commit without those before it, so a saved cursor never outlives the data it covers.

The file (and the folder, if this creates it) is made readable by its owner only: it holds
personal data. A durable file has ``secure_delete`` on: a deleted row (an erased person's) is
overwritten with zeros rather than left in a free page, and ``scrub`` checkpoints and truncates the
write-ahead log, so the file and its log keep no copy of what an erasure deleted. Opening the file
and the messages of its failures are core.storage.sqlite_file.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Final

from core.errors import StoreLayoutError, StoreUnavailableError
from core.link_changes import ChangeCounter
from core.storage.sqlite_file import (
    BUSY_CODES,
    connect_read_only,
    create_private,
    failure_message,
    open_failure_message,
    primary_code,
)

#: ``PRAGMA application_id``: marks a file as a profilesync store ("PSNC").
APPLICATION_ID: Final = 0x50534E43
#: ``PRAGMA user_version``: the layout of the ``items`` table; a file from a newer layout is refused.
SCHEMA_VERSION: Final = 1
#: SQLite allows 32,766 host parameters per statement since 3.32; batches stay well below.
MAX_PARAMETERS: Final = 900
IN_MEMORY: Final = ":memory:"
#: Larger pages than SQLite's 4 KiB default: profile rows are about 1 KB, and random inserts into
#: the key index split pages less often. Not larger: a commit writes every page it dirtied.
PAGE_SIZE: Final = 8192

_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    pk         TEXT NOT NULL,
    sk         TEXT NOT NULL,
    version    INTEGER,
    hash       TEXT,
    owner      TEXT,
    updated_at TEXT,
    data       TEXT,
    attrs      TEXT,
    expires_at INTEGER,
    PRIMARY KEY (pk, sk)
);
CREATE INDEX IF NOT EXISTS items_expiry ON items (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_holders ON items (sk) WHERE sk >= 'HOLDER#' AND sk < 'HOLDER$';
"""


class SQLiteDatabase:
    """A SQLite file with the ``items`` table, shared by the stores built on it.

    ``path`` may be ``":memory:"`` for a database that lives as long as this object (no WAL then).
    Threads of one process share the connection under a lock; other processes wait for the write
    lock up to ``busy_timeout`` seconds. ``cache_mb`` bounds SQLite's page cache.

    ``durable=False`` is for a file thrown away after one run (``resolve``'s): the rollback journal
    stays in memory and nothing is synced, so a commit writes its pages once, to the file, and a
    crash may leave the file unusable, which does not matter for a file nobody reopens. Rollback of
    a failed write works as in the durable mode.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 60.0,
        cache_mb: int = 64,
        durable: bool = True,
        read_only: bool = False,
    ) -> None:
        self.durable = durable
        self.read_only = read_only
        self.path = str(path)
        self.busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self.changes = ChangeCounter()
        """The writes through this connection, and whose (core.storage.sqlite_links ``change_mark``)."""
        self._grouped: tuple[float, float] | None = None  # (last group commit, seconds between)
        self._broken: str | None = None  # why the writes of a lost group make the store unusable
        try:
            if read_only:
                self._conn = connect_read_only(self.path, busy_timeout)
            else:
                if self.path != IN_MEMORY:
                    create_private(Path(self.path))
                self._conn = sqlite3.connect(
                    self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
                )
        except (OSError, sqlite3.Error) as error:
            raise StoreLayoutError(open_failure_message(self.path, error)) from error
        try:
            if read_only:
                self._check_layout(self._conn, read_only=True)
            else:
                self._set_up(cache_mb)
        except sqlite3.DatabaseError as error:
            self._conn.close()
            raise StoreLayoutError(open_failure_message(self.path, error)) from error
        except StoreLayoutError:
            self._conn.close()
            raise

    def _set_up(self, cache_mb: int) -> None:
        conn = self._conn
        # Honoured by a new, empty file only (a page size is fixed once the file has content).
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
        self._set_journal_mode("WAL" if self.durable else "MEMORY")
        conn.execute(f"PRAGMA synchronous={'NORMAL' if self.durable else 'OFF'}")
        # Deleted rows are zeroed, not left readable in free pages (a throwaway file needs not).
        conn.execute(f"PRAGMA secure_delete={'ON' if self.durable else 'OFF'}")
        conn.execute(f"PRAGMA cache_size=-{int(cache_mb) * 1024}")
        conn.execute("PRAGMA temp_store=MEMORY")
        with self.writing() as tx:
            application = self._check_layout(tx, read_only=False)
            if application == 0:
                tx.execute(f"PRAGMA application_id={APPLICATION_ID}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    tx.execute(statement)
            tx.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            # SQLite has no TTL: expired items (quarantine after 30 days, stale leases) go at open,
            # where DynamoDB would have deleted them in the background.
            tx.execute("DELETE FROM items WHERE expires_at < ?", (int(time.time()),))

    def _check_layout(self, tx: sqlite3.Connection, *, read_only: bool) -> int:
        """Refuse a file of another application or of a newer layout; the file's application id."""
        application: int = tx.execute("PRAGMA application_id").fetchone()[0]
        version = tx.execute("PRAGMA user_version").fetchone()[0]
        if application not in (0, APPLICATION_ID):
            raise StoreLayoutError(
                f"{self.path} belongs to another application (application_id {application:#x}); "
                "choose another --state-dir"
            )
        if version > SCHEMA_VERSION:
            raise StoreLayoutError(
                f"{self.path} has store layout {version}, newer than this profilesync knows "
                f"({SCHEMA_VERSION}); upgrade profilesync or choose another --state-dir"
            )
        if application == 0 or read_only:
            tables = [r[0] for r in tx.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            if application == 0 and tables:
                raise StoreLayoutError(
                    f"{self.path} is a SQLite database of something else (tables: "
                    f"{', '.join(sorted(tables)[:5])}); choose another --state-dir"
                )
            if read_only and "items" not in tables:
                raise StoreLayoutError(
                    f"{self.path} holds no profilesync items yet: run `profilesync sync` first"
                )
        return application

    def _set_journal_mode(self, mode: str) -> None:
        # Changing the journal mode needs the file to itself, and SQLite answers SQLITE_BUSY at once
        # (its busy handler is not called there) when another connection opens the file at the same
        # moment: two `sync` runs starting together on a new store. Retry within the busy timeout.
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                self._conn.execute(f"PRAGMA journal_mode={mode}")
                return
            except sqlite3.OperationalError as error:
                if primary_code(error) not in BUSY_CODES or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection inside one read transaction: every statement sees the same snapshot."""
        with self._lock:
            self._check_usable()
            conn = self._conn
            try:
                if self._grouped is not None:
                    yield conn  # inside the open group transaction: it is one snapshot already
                    return
                conn.execute("BEGIN")
                try:
                    yield conn
                finally:
                    if conn.in_transaction:  # SQLite may have ended it on a failure already
                        conn.execute("COMMIT")
            except sqlite3.Error as error:
                raise self._unavailable(error) from error

    @contextmanager
    def writing(self, *, savepoint: bool = True) -> Iterator[sqlite3.Connection]:
        """The connection inside one write transaction: committed if the block ends normally, rolled
        back (nothing written) if it raises.

        Inside ``grouped_commits`` each write is a savepoint, and SQLite copies every page a
        savepoint's block changes before changing it (a fifth of writing new customers' rows).
        ``savepoint=False`` is for a block that leaves nothing half done when it ends, normally or
        by an error it catches (``SQLiteNewItems.insert_new_items`` undoes its own rows): without
        a savepoint, an exception out of the block loses the group's writes since its last commit,
        as a full disk does (``StoreUnavailableError`` from then on). Outside a group it is a
        transaction of its own either way."""
        with self._lock:
            self._check_usable()
            conn = self._conn
            try:
                if self._grouped is not None:
                    yield from self._grouped_write(conn) if savepoint else self._unguarded_write(conn)
                    return
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    self._roll_back("ROLLBACK")
                    raise
                try:
                    conn.execute("COMMIT")
                except sqlite3.Error:
                    self._roll_back("ROLLBACK")  # a failed COMMIT may leave the transaction open
                    raise
            except sqlite3.Error as error:
                raise self._unavailable(error) from error
            finally:
                # Counted once it landed (or failed: a write counted for nothing costs a re-check).
                self.changes.wrote()

    def data_version(self) -> int | None:
        """``PRAGMA data_version``: moves when another connection commits (None: unreadable)."""
        with self._lock:
            try:
                return int(self._conn.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error:
                return None

    def _grouped_write(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """A write inside the group transaction: a savepoint, all or nothing as a transaction is."""
        assert self._grouped is not None
        conn.execute("SAVEPOINT write")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                self._roll_back("ROLLBACK TO write")
                self._roll_back("RELEASE write")
            else:  # SQLite rolled the whole group back (a full disk, an I/O error)
                self._group_lost()
            raise
        conn.execute("RELEASE write")
        self._commit_if_due(conn)

    def _commit_if_due(self, conn: sqlite3.Connection) -> None:
        """Commit the group's writes so far when ``seconds`` have passed since its last commit."""
        assert self._grouped is not None
        if time.monotonic() - self._grouped[0] >= self._grouped[1]:
            try:
                conn.execute("COMMIT")
            except sqlite3.Error:
                self._group_lost()
                raise
            conn.execute("BEGIN IMMEDIATE")
            self._grouped = (time.monotonic(), self._grouped[1])

    def _unguarded_write(self, conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
        """A write inside the group transaction without a savepoint (``writing(savepoint=False)``)."""
        assert self._grouped is not None
        try:
            yield conn
        except BaseException:
            self._group_lost()  # what the block wrote before it raised cannot be told apart
            raise
        self._commit_if_due(conn)

    @contextmanager
    def grouped_commits(self, seconds: float = 1.0) -> Iterator[None]:
        """Commit the writes of the block together, about every ``seconds``, instead of one by one.

        Each write stays all-or-nothing (a savepoint), and is seen by the reads after it; what
        changes is durability and sharing: the block holds the write lock (other processes wait),
        and a crash loses the writes since the last group commit (never some of a write, and
        never a write without the ones before it). For a bulk job that owns its database (``resolve``
        on a temporary store), this saves writing the same B-tree pages again at every commit.
        A failure that ends the group's transaction (a full disk) loses the writes since the last
        group commit: every later read or write raises ``StoreUnavailableError``, as the block does.
        """
        with self._lock:
            if self._grouped is not None:
                yield
                return
            self._check_usable()
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as error:
                raise self._unavailable(error) from error
            self._grouped = (time.monotonic(), seconds)
            try:
                yield
            except BaseException:
                self._end_group(raising=False)  # keeps the writes before the failure, if it can
                raise
            self._end_group(raising=True)

    def _end_group(self, *, raising: bool) -> None:
        self._grouped = None
        if not self._conn.in_transaction:
            return
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as error:
            self._group_lost()
            if raising:
                raise self._unavailable(error) from error

    def _group_lost(self) -> None:
        """The group's transaction is gone with the writes since its last commit: no later read
        may pretend they happened."""
        self._roll_back("ROLLBACK")
        self._broken = f"an earlier failure of {self.path} lost the writes since its last commit; run again"

    def _roll_back(self, statement: str) -> None:
        """Undo what failed, if there is still something to undo; a failing undo must not hide the
        failure that caused it (SQLite rolls back by itself when it cannot go on)."""
        if self._conn.in_transaction:
            with suppress(sqlite3.Error):
                self._conn.execute(statement)

    def _check_usable(self) -> None:
        if self._broken is not None:
            raise StoreUnavailableError(self._broken)

    def _unavailable(self, error: sqlite3.Error) -> Exception:
        """``error`` as the user should read it: a ``StoreUnavailableError`` when the file's
        surroundings failed (a full disk, a read-only file, damage, a lock held too long), or
        ``error`` itself when it is a bug to report."""
        message = failure_message(self.path, error)
        return StoreUnavailableError(message) if message is not None else error

    def scrub(self) -> bool:
        """Copy the write-ahead log into the file and truncate it: after an erasure, so that the log
        keeps no image of the pages as they were before the deletes (with ``secure_delete`` on, the
        file's own pages hold zeros where the rows were). False when another connection's read, longer
        than the busy timeout, kept the checkpoint from finishing: the file and its log still hold those
        images until a checkpoint after that connection's read (``scrub`` again) finishes."""
        with self._lock:
            if self._grouped is None and self.path != IN_MEMORY:
                busy = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                return busy is None or busy[0] == 0
            return True

    def close(self) -> None:
        """Close the connection (WAL is checkpointed into the file by SQLite on the last close)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLiteDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def select_in(conn: sqlite3.Connection, sql: str, keys: Iterable[str], *params: object) -> Iterator[Any]:
    """The rows of ``sql`` for every key: ``{keys}`` in ``sql`` stands for the ``IN (...)`` list, filled
    with a slice of the keys per statement (``MAX_PARAMETERS`` at most) after ``params``."""
    values = list(keys)
    for start in range(0, len(values), MAX_PARAMETERS):
        part = values[start : start + MAX_PARAMETERS]
        yield from conn.execute(sql.format(keys=", ".join("?" * len(part))), [*params, *part]).fetchall()


__all__ = ["APPLICATION_ID", "IN_MEMORY", "MAX_PARAMETERS", "SCHEMA_VERSION", "SQLiteDatabase", "select_in"]
