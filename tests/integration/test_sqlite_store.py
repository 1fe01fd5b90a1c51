"""What the SQLite store adds to the port: a private file, a layout it checks, commits grouped for
bulk jobs, and conditional writes that hold between processes sharing one file."""

from __future__ import annotations

import multiprocessing
import os
import random
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.jsonl import draft_from_flat
from core.errors import ConflictError, StoreLayoutError, StoreUnavailableError
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.ports import Changeset, PutIdent, QuarantineEntry, SyncState
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import APPLICATION_ID, SCHEMA_VERSION, SQLiteDatabase
from core.storage.sqlite_sync import SQLiteSyncStateStore
from core.testing.invariants import store_problems
from core.testing.population import population
from core.testing.records import make_record

NO_SLEEP = IngestSettings(sleep=lambda _: None)


def test_the_store_is_a_private_wal_file_that_keeps_its_data_between_opens(tmp_path: Path) -> None:
    path = tmp_path / "state" / "profiles.sqlite3"
    # WHEN a store is created in a folder that does not exist yet, and written to
    with SQLiteDatabase(path) as database:
        ingest([make_record("crm", "1", email="ann@example.com")], SQLiteProfileStore(database), NO_SLEEP)
        mode = database._conn.execute("PRAGMA journal_mode").fetchone()[0]
        wal = path.with_name(path.name + "-wal")
        assert wal.exists()
        assert stat.S_IMODE(wal.stat().st_mode) & 0o077 == 0
    # THEN the folder and the file are the owner's only, in WAL mode
    assert mode == "wal"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    # AND a new open reads back what was committed
    with SQLiteDatabase(path) as database:
        [profile] = SQLiteProfileStore(database).iter_profiles()
        assert profile.identifiers[0].value == "ann@example.com"


def test_a_file_that_is_not_a_profilesync_store_is_refused_with_what_to_do(tmp_path: Path) -> None:
    # GIVEN a text file, another application's SQLite database, and a store from a newer layout
    text = tmp_path / "notes.sqlite3"
    text.write_text("hello, this is not a database at all" * 100, encoding="utf-8")
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE songs (title TEXT)")
    newer = tmp_path / "newer.sqlite3"
    with sqlite3.connect(newer) as conn:
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    # WHEN each is opened THEN a StoreLayoutError says what is wrong and what to do
    for path, words in ((text, "not a profilesync store"), (other, "songs"), (newer, "upgrade profilesync")):
        with pytest.raises(StoreLayoutError, match=words) as error:
            SQLiteDatabase(path)
        assert "--state-dir" in str(error.value)
    with sqlite3.connect(other) as conn:  # and the other application's data is untouched
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["songs"]


def test_expired_quarantine_items_are_deleted_when_the_store_is_opened(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    old = datetime.now(UTC) - timedelta(days=31)
    fresh = datetime.now(UTC) - timedelta(days=1)
    with SQLiteDatabase(path) as database:
        SQLiteSyncStateStore(database).put_quarantined(
            [
                QuarantineEntry("crm", "crm:contact:1", "no usable identifier", "{}", old),
                QuarantineEntry("crm", "crm:contact:2", "no usable identifier", "{}", fresh),
            ]
        )
        assert len(SQLiteSyncStateStore(database).quarantined("crm")) == 2
    # WHEN the store is opened again, with one entry past its 30 days THEN only that one is gone
    with SQLiteDatabase(path) as database:
        assert [q.key for q in SQLiteSyncStateStore(database).quarantined("crm")] == ["crm:contact:2"]


@pytest.mark.parametrize("durable", [True, False])
def test_grouped_commits_keep_each_write_all_or_nothing_and_commit_at_the_end(
    tmp_path: Path, durable: bool
) -> None:
    path = tmp_path / "g.sqlite3"
    database = SQLiteDatabase(path, durable=durable)
    mode = database._conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == ("wal" if durable else "memory")
    store = SQLiteProfileStore(database)
    state = SQLiteSyncStateStore(database)
    with database.grouped_commits(seconds=3600):
        assert store.commit([Changeset("a", (PutIdent("email#a@example.com", "cus_a", None),))]) == []
        # a write that fails half-way (a cursor saved over a stale version) leaves nothing behind
        state.put_sync_state(SyncState("crm", "c1"))
        with pytest.raises(ConflictError):
            state.put_sync_state(SyncState("crm", "c0"))
        # the reads inside the group see its writes
        assert store.get_owners(["email#a@example.com"])["email#a@example.com"].customer_id == "cus_a"
        # and nobody outside sees them before the group commits
        with sqlite3.connect(path) as outside:
            assert outside.execute("SELECT count(*) FROM items WHERE sk = 'IDENT'").fetchone()[0] == 0
    with sqlite3.connect(path) as outside:
        assert outside.execute("SELECT count(*) FROM items WHERE sk = 'IDENT'").fetchone()[0] == 1
    assert state.get_sync_state("crm").cursor == "c1"
    database.close()


def test_a_write_without_a_savepoint_that_fails_in_a_group_loses_the_group_and_says_so(
    tmp_path: Path,
) -> None:
    # GIVEN a group of commits holding a committed item and one written since the last commit
    database = SQLiteDatabase(tmp_path / "g.sqlite3", durable=False)
    store = SQLiteProfileStore(database)
    with database.grouped_commits(seconds=3600):
        assert store.commit([Changeset("a", (PutIdent("email#a@example.com", "cus_a", None),))]) == []
        database._conn.execute("COMMIT")  # as the group does every few seconds
        database._conn.execute("BEGIN IMMEDIATE")
        assert store.commit([Changeset("b", (PutIdent("email#b@example.com", "cus_b", None),))]) == []
        # WHEN a write without a savepoint of its own raises after writing a row
        with pytest.raises(RuntimeError), database.writing(savepoint=False) as conn:  # noqa: PT012
            conn.execute("INSERT INTO items (pk, sk) VALUES ('IDENT#email#c@example.com', 'IDENT')")
            raise RuntimeError("half done")
        # THEN nothing since the last commit is read back, neither the half write nor the one
        # before it: every read and write says the store lost them
        with pytest.raises(StoreUnavailableError, match="lost the writes"):
            store.get_owners(["email#b@example.com"])
    with sqlite3.connect(tmp_path / "g.sqlite3") as outside:
        keys = [row[0] for row in outside.execute("SELECT pk FROM items WHERE sk = 'IDENT'")]
    assert keys == ["IDENT#email#a@example.com"]
    database.close()


def test_a_write_without_a_savepoint_outside_a_group_is_a_transaction(tmp_path: Path) -> None:
    # GIVEN a store without grouped commits
    with SQLiteDatabase(tmp_path / "t.sqlite3") as database:
        # WHEN a write without a savepoint raises after writing a row
        with pytest.raises(RuntimeError), database.writing(savepoint=False) as conn:  # noqa: PT012
            conn.execute("INSERT INTO items (pk, sk) VALUES ('IDENT#email#c@example.com', 'IDENT')")
            raise RuntimeError("half done")
        # THEN it is rolled back, and the store goes on
        assert SQLiteProfileStore(database).get_owners(["email#c@example.com"]) == {}
        with database.writing(savepoint=False) as conn:
            conn.execute("INSERT INTO items (pk, sk) VALUES ('IDENT#email#d@example.com', 'IDENT')")
        with database.reading() as conn:
            assert conn.execute("SELECT count(*) FROM items WHERE sk = 'IDENT'").fetchone()[0] == 1


def _usable_records(people: int, seed: int) -> list[SourceRecord]:
    records = [
        normalise_record(draft_from_flat(flat)) for _, flat in population(people, seed, malformed_share=0)
    ]
    return [r for r in records if isinstance(r, SourceRecord)]


def _share(seed: int) -> list[SourceRecord]:
    rng = random.Random(seed)
    share = [r for r in _usable_records(50, seed=3) if rng.random() < 0.7]
    rng.shuffle(share)
    return share


def _writer(path: str, seed: int) -> None:
    share = _share(seed)
    database = SQLiteDatabase(path)
    store = SQLiteProfileStore(database)
    for start in range(0, len(share), 5):
        ingest(share[start : start + 5], store, IngestSettings())
    database.close()


def test_processes_sharing_one_file_leave_one_owner_per_identifier_and_lose_no_record(tmp_path: Path) -> None:
    # GIVEN three processes ingesting shuffled, overlapping shares of 50 people into one file
    path = str(tmp_path / "shared.sqlite3")
    SQLiteDatabase(path).close()
    context = multiprocessing.get_context("spawn" if os.name != "posix" else "fork")
    workers = [context.Process(target=_writer, args=(path, seed)) for seed in (1, 2, 3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    database = SQLiteDatabase(path)
    store = SQLiteProfileStore(database)
    # THEN the store is consistent and every record delivered is in exactly one profile
    delivered = {r.key for seed in (1, 2, 3) for r in _share(seed)}
    profiles = list(store.iter_profiles())
    assert store_problems(profiles, store.ident_owners()) == []
    assert sorted(s.key for p in profiles for s in p.sources) == sorted(delivered)
    # AND once every record is delivered, the customers are those one writer alone makes
    records = _usable_records(50, seed=3)
    ingest(records, store, NO_SLEEP)
    reference = InMemoryProfileStore()
    ingest(records, reference, NO_SLEEP)
    assert {frozenset(s.key for s in p.sources) for p in store.iter_profiles()} == {
        frozenset(s.key for s in p.sources) for p in reference.iter_profiles()
    }
    database.close()
