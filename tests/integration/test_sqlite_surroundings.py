"""The SQLite store when its surroundings fail: processes opening a new file together, a full disk,
a read-only folder, a damaged file, and the temporary store of a killed ``resolve``.

Each failure must end as a typed error that names the file and what to do (never a misleading
"not a profilesync store", never SQLite's "no transaction is active" hiding a full disk), and must
not pretend: a write that failed is not there, and writes a failure took with it are not read back.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.errors import StoreLayoutError, StoreUnavailableError
from core.ports import Changeset, PutIdent, SyncState
from core.storage import sqlite_database
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_sync import SQLiteSyncStateStore
from profilesync.stores import remove_abandoned_stores, temporary_store_path
from tests.folders import freezable_folder


def _idents(start: int, count: int) -> Changeset:
    """A changeset of ``count`` identifiers of 200-odd bytes each: pages fill quickly."""
    ops = tuple(PutIdent(f"email#p{start + i}-{'x' * 200}@example.com", "cus_a", None) for i in range(count))
    return Changeset(f"c{start}", ops)


class _OtherWriterEndsAtFirstWait:
    """The ``time`` module as the store sees it, but the store's first wait ends another connection's
    write transaction: the other writer finishes exactly while this one is retrying, every time."""

    def __init__(self, other: sqlite3.Connection) -> None:
        self.other = other
        self.waits = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    def sleep(self, seconds: float) -> None:
        self.waits += 1
        if self.other.in_transaction:
            self.other.execute("ROLLBACK")
        time.sleep(seconds)


def test_a_new_store_opened_while_another_process_writes_it_waits_for_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a new store's file that another `profilesync sync`, started a moment earlier, has
    # created and holds the write lock of
    path = tmp_path / "profiles.sqlite3"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    clock = _OtherWriterEndsAtFirstWait(other)
    monkeypatch.setattr(sqlite_database, "time", clock)
    try:
        # WHEN this one opens it: switching a new file to WAL needs the file to itself, and SQLite
        # answers "database is locked" at once there (its busy handler is not called)
        with SQLiteDatabase(path, busy_timeout=5.0) as database:
            state = SQLiteSyncStateStore(database).get_sync_state("hubspot")
            mode = database._conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        other.close()
    # THEN it waited for the other writer (at least once) instead of failing, and opened the store
    assert clock.waits >= 1
    assert (state.cursor, state.version, mode) == (None, 0, "wal")


def _open_and_read(path: str, barrier: Any, results: Any) -> None:
    try:
        barrier.wait()
        with SQLiteDatabase(path) as database:
            SQLiteSyncStateStore(database).get_sync_state("hubspot")
        results.put("ok")
    except Exception as error:  # reported to the parent, which asserts on it
        results.put(f"{type(error).__name__}: {error}")


@pytest.mark.skipif(os.name != "posix", reason="forks processes")
def test_processes_that_create_one_new_store_together_all_open_it(tmp_path: Path) -> None:
    # GIVEN six processes that open the same store at the same moment, before it exists (two
    # `profilesync sync` runs started together on a fresh folder). Whether they meet while one
    # switches the file to WAL is up to the scheduler (0 of 40 such runs did without the retry):
    # the test above makes that meeting happen; this one is the real thing, once.
    context = multiprocessing.get_context("fork")
    path = str(tmp_path / "profiles.sqlite3")
    barrier, results = context.Barrier(6), context.Queue()
    workers = [context.Process(target=_open_and_read, args=(path, barrier, results)) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    outcomes = [results.get(timeout=10) for _ in workers]
    # THEN every one of them opened it
    assert [o for o in outcomes if o != "ok"] == []


# --- a full disk ------------------------------------------------------------------------------------
# SQLite's max_page_count makes a file "full" (SQLITE_FULL, as a full disk does) at a chosen size.


def test_a_full_disk_fails_the_write_alone_and_says_so(tmp_path: Path) -> None:
    database = SQLiteDatabase(tmp_path / "s.sqlite3")
    store = SQLiteProfileStore(database)
    assert store.commit([_idents(0, 20)]) == []
    database._conn.execute("PRAGMA max_page_count=12")
    # WHEN commits go on until the file cannot grow
    with pytest.raises(StoreUnavailableError, match="is full") as error:  # noqa: PT012
        for start in range(20, 20_000, 20):
            assert store.commit([_idents(start, 20)]) == []
    # THEN the error names the file and what to do, and the failed commit wrote nothing
    assert str(tmp_path / "s.sqlite3") in str(error.value)
    assert "free some space" in str(error.value)
    stored = len(store.ident_owners())
    assert stored % 20 == 0
    # AND the store stays usable: once there is room, the next commit goes in
    database._conn.execute("PRAGMA max_page_count=100000")
    assert store.commit([_idents(50_000, 20)]) == []
    assert len(store.ident_owners()) == stored + 20
    database.close()


@pytest.mark.parametrize("durable", [True, False])
def test_a_full_disk_under_grouped_commits_is_reported_as_such_and_nothing_lost_is_read_back(
    tmp_path: Path, durable: bool
) -> None:
    # GIVEN the grouped commits of resolve's temporary store, on a file that fills up
    database = SQLiteDatabase(tmp_path / "g.sqlite3", durable=durable)
    store = SQLiteProfileStore(database)
    database._conn.execute("PRAGMA max_page_count=12")
    # WHEN writes go on until the disk is full
    with pytest.raises(StoreUnavailableError, match="is full"), database.grouped_commits(seconds=3600):  # noqa: PT012
        for start in range(0, 20_000, 20):
            assert store.commit([_idents(start, 20)]) == []
    # THEN the error is the disk's (SQLite rolled the group back: its "cannot commit - no
    # transaction is active" must not hide why) and no read pretends the lost writes happened
    with pytest.raises(StoreUnavailableError, match="lost the writes"):
        store.ident_owners()
    database.close()
    with SQLiteDatabase(tmp_path / "g.sqlite3") as reopened:
        assert SQLiteProfileStore(reopened).ident_owners() == {}


# --- a read-only folder -------------------------------------------------------------------------------


@pytest.fixture
def freezable(tmp_path: Path) -> Iterator[tuple[Path, Callable[[], None]]]:
    with freezable_folder(tmp_path / "state") as freeze:
        yield tmp_path / "state", freeze


def test_a_store_in_a_read_only_folder_is_read_without_writing_and_writes_are_refused_clearly(
    freezable: tuple[Path, Callable[[], None]],
) -> None:
    folder, freeze = freezable
    path = folder / "profiles.sqlite3"
    with SQLiteDatabase(path) as database:
        SQLiteSyncStateStore(database).put_sync_state(SyncState("hubspot", "c1"))
    freeze()
    # WHEN the store is opened read-only (what `profilesync status` does)
    with SQLiteDatabase(path, read_only=True) as database:
        # THEN it reads what was saved, and creates no file next to it
        assert SQLiteSyncStateStore(database).get_sync_state("hubspot").cursor == "c1"
    assert sorted(p.name for p in folder.iterdir()) == ["profiles.sqlite3"]
    # AND opening it to write says the folder is read-only, not that the file is no store
    with pytest.raises(StoreLayoutError, match="cannot be written") as error:
        SQLiteDatabase(path)
    assert "not a profilesync store" not in str(error.value)
    assert "--state-dir" in str(error.value)


def test_reading_a_store_that_is_missing_or_never_written_says_to_sync_first(tmp_path: Path) -> None:
    with pytest.raises(StoreLayoutError, match="profilesync sync"):
        SQLiteDatabase(tmp_path / "missing.sqlite3", read_only=True)
    (tmp_path / "empty.sqlite3").touch()
    with pytest.raises(StoreLayoutError, match="profilesync sync"):
        SQLiteDatabase(tmp_path / "empty.sqlite3", read_only=True)


# --- a damaged file -------------------------------------------------------------------------------------


def test_a_damaged_store_is_named_damaged_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "profiles.sqlite3"
    with SQLiteDatabase(path) as database:
        store = SQLiteProfileStore(database)
        for start in range(0, 2000, 50):
            store.commit([_idents(start, 50)])
    # GIVEN the store cut to its first 64 KB (a copy that stopped half-way, a disk that failed)
    with path.open("r+b") as handle:
        handle.truncate(64 * 1024)
    # WHEN it is opened and read THEN the error says it is damaged and what to do, whichever
    # read meets the damage first
    with (
        pytest.raises((StoreLayoutError, StoreUnavailableError), match="is damaged") as error,
        SQLiteDatabase(path) as database,
    ):
        SQLiteProfileStore(database).ident_owners()
    assert "move it away" in str(error.value)


# --- the temporary store of a killed resolve ------------------------------------------------------------


@pytest.mark.skipif(os.name != "posix", reason="uses signals")
def test_the_temporary_store_of_a_killed_run_is_removed_by_the_next_run_and_a_live_one_is_kept(
    tmp_path: Path,
) -> None:
    # GIVEN a run that made its temporary store and was killed, and a run that is still going
    code = (
        "import sys, time; from pathlib import Path; from profilesync.stores import temporary_store_path\n"
        "with temporary_store_path(Path(sys.argv[1])) as p:\n"
        "    Path(str(p) + '-wal').write_text('x'); print(p, flush=True); time.sleep(120)\n"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    killed, live = runs
    try:
        paths = [Path(run.stdout.readline().strip()) for run in runs if run.stdout is not None]
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        assert paths[0].exists()
        # WHEN the next run makes its own store there
        with temporary_store_path(tmp_path) as mine:
            # THEN the killed run's store and its WAL file are gone, the live run's is kept
            assert not paths[0].exists()
            assert not Path(str(paths[0]) + "-wal").exists()
            assert paths[1].exists()
            assert mine.exists()
            assert remove_abandoned_stores(tmp_path) == []
        assert not mine.exists()
    finally:
        live.kill()
        live.wait(timeout=30)
    # AND once that run ends too, its store goes with the next clean-up
    deadline = time.monotonic() + 10
    while not remove_abandoned_stores(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(p.name.startswith(".profilesync-") for p in tmp_path.iterdir())
