"""The stores the CLI runs on: the embedded SQLite file by default, or a DynamoDB endpoint.

``profilesync resolve`` and ``profilesync sync`` take their stores from ``open_stores``: without
``--endpoint-url`` a SQLite file (core.storage.sqlite: the DynamoDB item layout in one local file,
made for one machine and a million records); with it, any DynamoDB endpoint (DynamoDB Local, AWS),
creating the table from template.yaml if it is missing. moto is not involved either way: it stays
for testing the DynamoDB adapter and for ``profilesync demo``, which runs the Lambda handlers.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.lease import LeaseStore
from core.ports import ProfileStore, SyncStateStore
from core.privacy import ErasureStore
from core.suppression import SuppressionStore
from profilesync.sync_lease import process_alive

#: The file name of the embedded store of one table in a state folder.
STORE_SUFFIX = ".sqlite3"
#: A SQLite store that lives as long as the run (``sync --sandbox``).
IN_MEMORY_STORE = ":memory:"
#: The name of a run's temporary store starts with this and the run's process id (``resolve``).
TEMPORARY_PREFIX = ".profilesync-"
#: A run's copy of input read from a pipe (``resolve /dev/stdin``): named like its temporary store.
SPOOL_SUFFIX = ".input.jsonl"


@dataclass
class Stores:
    """The stores of one run, and the embedded database when there is one (``None`` on DynamoDB)."""

    profiles: ProfileStore
    sync_state: SyncStateStore
    erasure: ErasureStore
    suppression: SuppressionStore
    database: Any = None
    where: str = ""
    """Where the data lives, for messages: a file path or an endpoint and table."""
    client: Any = None
    """The DynamoDB client (``None`` on the embedded store)."""

    def connectors(self) -> list[str]:
        """The connectors this store has a saved sync state of (whose quarantines privacy searches)."""
        listing = getattr(self.sync_state, "connectors", None)
        if listing is not None:
            return list(listing())
        found: list[str] = []
        kwargs: dict[str, Any] = {
            "TableName": getattr(self.sync_state, "table_name", ""),
            "FilterExpression": "begins_with(PK, :s) AND SK = :t",
            "ExpressionAttributeValues": {":s": {"S": "SYNC#"}, ":t": {"S": "STATE"}},
            "ProjectionExpression": "PK",
        }
        while True:
            page = self.client.scan(**kwargs)
            found.extend(item["PK"]["S"][len("SYNC#") :] for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(found)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    leases: LeaseStore | None = None
    """The connectors' leases (``sync`` holds its connector's: profilesync.sync_lease)."""


def store_path(state_dir: Path, table: str) -> Path:
    """The embedded store of ``table`` in ``state_dir``: ``.profilesync/profilesync-dev-profiles.sqlite3``."""
    return state_dir / f"{table}{STORE_SUFFIX}"


def existing_store_path(state_dir: Path, table: str, to_do: str) -> Path:
    """``store_path`` of a store a command reads or changes, which must already be there: a
    StoreLayoutError says how to make it, or to pass --endpoint-url ``to_do`` (``"to read"``)."""
    from core.errors import StoreLayoutError

    path = store_path(state_dir, table)
    if not path.exists():
        raise StoreLayoutError(
            f"there is no embedded store at {path}: run `profilesync sync` first, or pass "
            f"--endpoint-url {to_do} a DynamoDB table"
        )
    return path


@contextmanager
def open_stores(
    *,
    endpoint_url: str | None,
    table: str,
    path: Path | str | None = None,
    durable: bool = True,
    read_only: bool = False,
    scratch: bool = False,
) -> Iterator[Stores]:
    """The stores on DynamoDB at ``endpoint_url``, or on the SQLite file ``path`` (``":memory:"``
    for one that lives as long as the block). The SQLite file is closed when the block ends;
    ``durable=False`` is for a file deleted after the run, ``read_only=True`` for reading a store
    without writing anything to it or its folder (see ``SQLiteDatabase``); ``scratch=True`` for
    ``resolve``'s own file, whose profile store leaves out the items nothing in the run reads
    (history events, holder markers: ``SQLiteProfileStore``'s scratch mode)."""
    if endpoint_url is not None:
        yield _dynamodb_stores(endpoint_url, table)
        return
    from core.storage.sqlite import SQLiteProfileStore
    from core.storage.sqlite_database import SQLiteDatabase
    from core.storage.sqlite_lease import SQLiteLeaseStore
    from core.storage.sqlite_privacy import SQLiteErasureStore, SQLiteSuppressionStore
    from core.storage.sqlite_sync import SQLiteSyncStateStore

    if path is None:
        raise ValueError("open_stores needs a path for the embedded store, or an endpoint_url")
    database = SQLiteDatabase(path, durable=durable, read_only=read_only)
    try:
        yield Stores(
            SQLiteProfileStore(database, scratch=scratch),
            SQLiteSyncStateStore(database),
            SQLiteErasureStore(database),
            SQLiteSuppressionStore(database),
            database,
            str(path),
            leases=SQLiteLeaseStore(database),
        )
    finally:
        database.close()


def table_salt() -> str:
    """The salt keying a DynamoDB table's identifier items (core.storage.ident_keys): the
    ``audit-salt`` secret a deployed stack keys them with (``PROFILESYNC_AUDIT_SALT``, or the secret
    under ``PROFILESYNC_SECRETS_PREFIX``), else the public development salt of a local table."""
    from connectors.secrets import resolve_secret
    from core.errors import ConnectorConfigError
    from core.storage.ident_keys import DEFAULT_IDENT_SALT

    try:
        return resolve_secret("audit-salt")
    except ConnectorConfigError:
        return DEFAULT_IDENT_SALT


def _dynamodb_stores(endpoint_url: str, table: str) -> Stores:
    from core.storage.dynamodb import DynamoDBProfileStore, DynamoDBSyncStateStore
    from core.storage.dynamodb_lease import DynamoDBLeaseStore
    from core.storage.dynamodb_privacy import DynamoDBErasureStore
    from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
    from profilesync.embedded import dynamodb_client
    from profilesync.template import create_table

    client = dynamodb_client(endpoint_url)
    try:
        status = client.describe_table(TableName=table)["Table"]["TableStatus"]
    except client.exceptions.ResourceNotFoundException:
        try:
            create_table(client, table)
            from core.storage.ident_keys import mark_new_table

            # made by this version: no identifier or index item under an old key; the salt's check
            mark_new_table(client, table, table_salt())
            status = "ACTIVE"
        except client.exceptions.ResourceInUseException:
            status = "CREATING"  # another run started at the same time (a second resolve) makes it
    if status == "CREATING":
        # DynamoDB refuses reads and writes until the table is active: wait as create_table does.
        client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})
    salt = table_salt()
    return Stores(
        DynamoDBProfileStore(client, table, salt=salt),
        DynamoDBSyncStateStore(client, table),
        DynamoDBErasureStore(client, table, salt=salt),
        DynamoDBSuppressionStore(client, table),
        None,
        f"{endpoint_url} table {table}",
        client=client,
        leases=DynamoDBLeaseStore(client, table),
    )


@contextmanager
def temporary_store_path(folder: Path) -> Iterator[Path]:
    """A fresh store file in ``folder`` for one run, removed (with its WAL files) when the block ends.

    ``resolve`` builds its profiles in one: the folder is the output's, which has room for the
    output (the store is about twice its size) where a RAM-backed /tmp may not. The file's name
    holds the process id, so the store of a run that was killed (and could not remove it) is
    removed by the next run in that folder once that process is gone: it holds personal data, and
    at a million records a few GB.
    """
    folder.mkdir(parents=True, exist_ok=True)
    remove_abandoned_stores(folder)
    prefix = f"{TEMPORARY_PREFIX}{os.getpid()}-"
    handle, name = tempfile.mkstemp(prefix=prefix, suffix=STORE_SUFFIX, dir=folder)  # mode 0600
    os.close(handle)
    path = Path(name)
    try:
        yield path
    finally:
        _remove_store(path)


@contextmanager
def spooled_input(source: Path, folder: Path) -> Iterator[Path]:
    """``source`` itself when it is a regular file; else (a pipe: ``export | profilesync resolve
    /dev/stdin``, a FIFO, a device) a copy of everything it gives, read once, in a file of this run in
    ``folder`` (mode 0600, removed when the block ends, or by the next run in that folder if this one
    is killed: it holds personal data), so that the checks, the byte-order mark, the progress's line
    count and the reading each open a file that gives them all the same lines (attack31r: each
    opening of a pipe took a buffer of lines out of it, never read, never counted)."""
    if source.is_file() or not source.exists():
        yield source
        return
    folder.mkdir(parents=True, exist_ok=True)
    remove_abandoned_stores(folder)
    handle, name = tempfile.mkstemp(
        prefix=f"{TEMPORARY_PREFIX}{os.getpid()}-", suffix=SPOOL_SUFFIX, dir=folder
    )
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as copy, source.open("rb") as given:
            shutil.copyfileobj(given, copy, 1 << 20)
        yield path
    finally:
        path.unlink(missing_ok=True)


def remove_abandoned_stores(folder: Path) -> list[Path]:
    """Remove the temporary stores in ``folder`` whose run has ended without removing them (it was
    killed); the stores of runs still going are left alone. Returns the files removed."""
    removed: list[Path] = []
    if os.name != "posix":  # no cheap, safe test of whether a process lives
        return removed
    for path in [
        *folder.glob(f"{TEMPORARY_PREFIX}*-*{STORE_SUFFIX}"),
        *folder.glob(f"{TEMPORARY_PREFIX}*-*{SPOOL_SUFFIX}"),
    ]:
        pid = path.name[len(TEMPORARY_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not process_alive(int(pid)):
            _remove_store(path)
            removed.append(path)
    return removed


def _remove_store(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def old_embedded_state(state_dir: Path, table: str) -> Path | None:
    """The embedded state an older profilesync kept (moto's table as JSON lines), if it is there.

    It is not read: ``sync`` starts over in the SQLite store (a full refresh) and says so once.
    """
    old = state_dir / f"{table}.jsonl"
    return old if old.exists() and not store_path(state_dir, table).exists() else None


__all__ = [
    "IN_MEMORY_STORE",
    "Stores",
    "existing_store_path",
    "old_embedded_state",
    "open_stores",
    "remove_abandoned_stores",
    "spooled_input",
    "store_path",
    "temporary_store_path",
]
