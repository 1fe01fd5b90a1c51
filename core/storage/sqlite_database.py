"""One SQLite file holding the profile table: the embedded store's database.

The layout is DynamoDB's (``docs/architecture.md``): one ``items`` table keyed by ``(pk, sk)``, with
the same key strings (``CUSTOMER#<cid>`` / ``PROFILE``, ``IDENT#<key>`` / ``IDENT``, ...). A few
typed columns hold the attributes the stores read in bulk or put conditions on; ``data`` holds a
model's JSON and ``attrs`` a JSON object of the rest. Mirroring the item layout keeps the three
stores (in-memory, SQLite, DynamoDB) one design: a new item kind is a new key prefix, "every item
of a customer" is one key range, and the stores' code reads alike. The table is ``WITHOUT ROWID``,
so rows are clustered on the key: a customer's items sit together, and ``pk IN (...)`` reads a
batch of customers or identifiers with one B-tree walk per key.

Transactions: the connection is in autocommit mode and every unit of work opens its own. A write
starts with ``BEGIN IMMEDIATE``, which takes the database's write lock at once, so the conditions it
checks cannot change before it commits (across processes too: two ``profilesync sync`` runs on one
directory serialise their commits). A read of several statements runs in one ``BEGIN`` so it sees
one snapshot, never half a commit. WAL mode lets readers go on while a writer commits, and
``synchronous=NORMAL`` syncs at checkpoints only: a power cut can lose the last commits, but never
a commit without those before it, so a saved cursor never outlives the data it covers.

The file (and the folder, if this creates it) is made readable by its owner only: it holds
personal data.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

from core.errors import StoreLayoutError

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
    ) -> None:
        self.durable = durable
        self.path = str(path)
        self._lock = threading.RLock()
        self._grouped: tuple[float, float] | None = None  # (last group commit, seconds between)
        if self.path != IN_MEMORY:
            _create_private(Path(self.path))
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as error:
            raise StoreLayoutError(f"cannot open the store {self.path}: {error}") from error
        try:
            self._set_up(cache_mb)
        except sqlite3.DatabaseError as error:
            self._conn.close()
            raise StoreLayoutError(
                f"{self.path} is not a profilesync store ({error}); move it away or choose another "
                "--state-dir"
            ) from error
        except StoreLayoutError:
            self._conn.close()
            raise

    def _set_up(self, cache_mb: int) -> None:
        conn = self._conn
        # Honoured by a new, empty file only (a page size is fixed once the file has content).
        conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
        conn.execute(f"PRAGMA journal_mode={'WAL' if self.durable else 'MEMORY'}")
        conn.execute(f"PRAGMA synchronous={'NORMAL' if self.durable else 'OFF'}")
        conn.execute(f"PRAGMA cache_size=-{int(cache_mb) * 1024}")
        conn.execute("PRAGMA temp_store=MEMORY")
        with self.writing() as tx:
            application = tx.execute("PRAGMA application_id").fetchone()[0]
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
            if application == 0:
                tables = [r[0] for r in tx.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
                if tables:
                    raise StoreLayoutError(
                        f"{self.path} is a SQLite database of something else (tables: "
                        f"{', '.join(sorted(tables)[:5])}); choose another --state-dir"
                    )
                tx.execute(f"PRAGMA application_id={APPLICATION_ID}")
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    tx.execute(statement)
            tx.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            # SQLite has no TTL: expired items (quarantine after 30 days, stale leases) go at open,
            # where DynamoDB would have deleted them in the background.
            tx.execute("DELETE FROM items WHERE expires_at < ?", (int(time.time()),))

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """The connection inside one read transaction: every statement sees the same snapshot."""
        with self._lock:
            conn = self._conn
            if self._grouped is not None:
                yield conn  # inside the open group transaction: it is one snapshot already
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """The connection inside one write transaction: committed if the block ends normally, rolled
        back (nothing written) if it raises."""
        with self._lock:
            conn = self._conn
            if self._grouped is not None:
                # A savepoint inside the group transaction: all or nothing as a transaction is.
                conn.execute("SAVEPOINT write")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK TO write")
                    conn.execute("RELEASE write")
                    raise
                conn.execute("RELEASE write")
                if time.monotonic() - self._grouped[0] >= self._grouped[1]:
                    conn.execute("COMMIT")
                    conn.execute("BEGIN IMMEDIATE")
                    self._grouped = (time.monotonic(), self._grouped[1])
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def grouped_commits(self, seconds: float = 1.0) -> Iterator[None]:
        """Commit the writes of the block together, about every ``seconds``, instead of one by one.

        Each write stays all-or-nothing (a savepoint), and is seen by the reads after it; what
        changes is durability and sharing: the block holds the write lock (other processes wait),
        and a crash loses the writes since the last group commit (never some of a write, and
        never a write without the ones before it). For a bulk job that owns its database (``resolve``
        on a temporary store), this saves writing the same B-tree pages again at every commit.
        """
        with self._lock:
            if self._grouped is not None:
                yield
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._grouped = (time.monotonic(), seconds)
            try:
                yield
            finally:
                self._grouped = None
                self._conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection (WAL is checkpointed into the file by SQLite on the last close)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> SQLiteDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _create_private(path: Path) -> None:
    """Create the file (and its folder) for the owner only, unless it exists already. SQLite gives
    the ``-wal`` and ``-shm`` files it adds the database file's permissions."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))


def select_in(conn: sqlite3.Connection, sql: str, keys: Iterable[str], *params: object) -> Iterator[Any]:
    """The rows of ``sql`` for every key: ``{keys}`` in ``sql`` stands for the ``IN (...)`` list, filled
    with a slice of the keys per statement (``MAX_PARAMETERS`` at most) after ``params``."""
    values = list(keys)
    for start in range(0, len(values), MAX_PARAMETERS):
        part = values[start : start + MAX_PARAMETERS]
        yield from conn.execute(sql.format(keys=", ".join("?" * len(part))), [*params, *part]).fetchall()


__all__ = ["APPLICATION_ID", "IN_MEMORY", "MAX_PARAMETERS", "SCHEMA_VERSION", "SQLiteDatabase", "select_in"]
