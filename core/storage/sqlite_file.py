"""The embedded store's file and what its failures mean: core.storage.sqlite_database's surroundings.

Opening a store's file (private to its owner, or read only without writing anything) and turning
SQLite's result codes that come from the file's surroundings (a full disk, a read-only folder,
damage, a lock held too long) into a message saying what to do.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import suppress
from pathlib import Path
from typing import Final

from core.errors import StoreLayoutError

#: SQLite's primary result codes (``sqlite3.Error.sqlite_errorcode & 0xFF``) that come from the
#: file's surroundings rather than from a bug.
BUSY_CODES: Final = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_WRITE_CODES: Final = frozenset({sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN})
_DAMAGE_CODES: Final = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})


def primary_code(error: BaseException) -> int:
    return int(getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF


def failure_message(path: str, error: BaseException) -> str | None:
    """What ``error`` means for the user of the store at ``path``, and what to do; None when it is
    not the surroundings' doing."""
    code = primary_code(error)
    if code == sqlite3.SQLITE_FULL:
        return (
            f"the disk holding {path} is full ({error}); free some space or keep the store on another "
            "disk (resolve: --out's folder; sync: --state-dir), then run again"
        )
    if code in _WRITE_CODES:
        return (
            f"{path} cannot be written ({error}): the file or its folder is read-only or not yours; "
            "make them writable or choose another folder (resolve: --out; sync: --state-dir)"
        )
    if code in _DAMAGE_CODES:
        return (
            f"{path} is damaged ({error}); move it away (the next sync starts afresh, a full refresh) "
            "or put back a copy, then run again"
        )
    if code in BUSY_CODES:
        return (
            f"{path} stayed locked by another process ({error}); let the other profilesync run on it "
            "end, then run again"
        )
    if code == sqlite3.SQLITE_IOERR:
        return f"reading or writing {path} failed ({error}); check its disk, then run again"
    return None


def open_failure_message(path: str, error: BaseException) -> str:
    """Why the store at ``path`` cannot be opened, and what to do."""
    if isinstance(error, OSError):
        return (
            f"cannot create the store {path} ({error.strerror or error}); choose a folder you can "
            "write (resolve: --out; sync: --state-dir)"
        )
    if primary_code(error) == sqlite3.SQLITE_NOTADB:
        return f"{path} is not a profilesync store ({error}); move it away or choose another --state-dir"
    return failure_message(path, error) or f"cannot open the store {path} ({error})"


def connect_read_only(path: str, busy_timeout: float) -> sqlite3.Connection:
    """A connection that never writes the file: for reading a store (``profilesync status``) that
    may sit in a read-only folder. A WAL database is read through its ``-shm`` file, which SQLite
    cannot create there: a store nobody has open (no ``-wal`` left) is then read as immutable."""
    if not Path(path).is_file():
        raise StoreLayoutError(f"there is no store at {path}: run `profilesync sync` first")
    uri = Path(path).resolve().as_uri()
    conn = sqlite3.connect(
        f"{uri}?mode=ro", uri=True, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as error:
        conn.close()
        if primary_code(error) not in _WRITE_CODES or Path(path + "-wal").exists():
            raise
    return sqlite3.connect(
        f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None, check_same_thread=False
    )


def create_private(path: Path) -> None:
    """Create the file (and its folder) for the owner only, unless it exists already. SQLite gives
    the ``-wal`` and ``-shm`` files it adds the database file's permissions. Another process may
    create them at the same moment (two runs starting on a new folder): that is no error."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    # A file an earlier version (or another tool) made readable by others is made private too, with
    # its log files: SQLite gives a new -wal/-shm file the database file's permissions.
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        _make_private(file)


def _make_private(file: Path) -> None:
    """Take the group's and others' permissions away from a file this user owns (else leave it)."""
    try:
        found = file.stat()
    except FileNotFoundError:
        return
    mine = not hasattr(os, "getuid") or found.st_uid == os.getuid()
    if mine and found.st_mode & 0o077:
        with suppress(OSError):  # a file system without Unix permissions keeps what it has
            os.chmod(file, found.st_mode & 0o700)


__all__ = [
    "BUSY_CODES",
    "connect_read_only",
    "create_private",
    "failure_message",
    "open_failure_message",
    "primary_code",
]
