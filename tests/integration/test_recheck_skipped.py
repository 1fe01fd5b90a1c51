"""The concurrent-writer re-check (core.link_recheck) skipped when nobody else wrote since the
batch's read, on the stores that count their writes (core.link_changes): the in-memory store and
SQLite (its own count, and ``PRAGMA data_version`` for other connections). A writer alone reads its
keys once, not twice; a writer another one wrote beside still reads them again and joins.

Red first: ``test_a_lone_writer_reads_no_key_after_its_commit`` fails on the code before the
counter (the re-check's ``get_blocks`` came after every commit). The two-connection test passed
before (the re-check always ran); it fails when SQLite's mark leaves ``data_version`` out
(``changed_by_others`` comparing the connection's own count only: two customers).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from core.link_changes import writing
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from tests.integration.identity_attack_records import groups, ingest_settings, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_erasure_attacks import STORES
from tests.integration.test_lean17_writer_between_batches import ANN_CRM, ANN_MAIL, ANN_SHOP
from tests.interleave import after_call


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_lone_writer_reads_no_key_after_its_commit(store: str) -> None:
    # GIVEN Ann's CRM record stored, and no other writer
    with STORES[store]() as stores:
        s = _settings(stores)
        resolve_lines([ANN_CRM], stores.profiles, settings=s)
        # WHEN her shop record (a fuzzy match) is ingested alone
        with after_call(stores.profiles, None, lambda: None) as made:
            resolve_lines([ANN_SHOP], stores.profiles, settings=s)
        # THEN it joins her, and its commit is its last store call: the keys are not read again
        assert groups(stores.profiles) == {frozenset({"crm:1", "shop:2"})}
        assert made[-1] == "commit", made
        assert made.count("get_blocks") >= 1


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_writer_inside_another_writers_calls_is_another_writer(store: str) -> None:
    # GIVEN a writer whose store calls may each have another writer's ingest run after them, on the
    # same store object (one connection, one count)
    _, made = _nested(store, None)
    assert made[-1] == "commit"  # alone, no re-check
    for k in range(1, len(made) + 1):
        # WHEN her mail record is ingested after the CRM writer's k-th call
        customers, _ = _nested(store, k)
        # THEN the two are one customer, as one after the other
        assert customers == {frozenset({"crm:1", "mail:3"})}, f"after call {k} ({made[k - 1]})"


def _nested(store: str, k: int | None) -> tuple[set[frozenset[str]], list[str]]:
    with STORES[store]() as stores:
        s, profiles = _settings(stores), stores.profiles
        with after_call(profiles, k, lambda: resolve_lines([ANN_MAIL], profiles, settings=s)) as made:
            resolve_lines([ANN_CRM], profiles, settings=s)
        return groups(profiles), list(made)


def test_another_connection_committing_between_read_and_commit_is_seen() -> None:
    # GIVEN two connections to one SQLite file (two processes, as far as the counts know)
    _, made = _two(None)
    commit = made.index("commit")
    read = commit + 1 - made[commit::-1].index("get_blocks")  # her last read before her commit
    assert made[read:] == ["commit"]  # alone, her re-check is skipped
    # WHEN the other connection ingests her shop record whole between her read and her commit
    customers, _ = _two(read)
    # THEN her re-check runs (the other connection committed: data_version moved) and joins them
    assert customers == {frozenset({"crm:1", "shop:2"})}


def _two(k: int | None) -> tuple[set[frozenset[str]], list[str]]:
    """Her CRM record through one connection, her shop record through another after its ``k``-th
    store call (None: never); the customers and the CRM writer's calls."""
    with (
        tempfile.TemporaryDirectory() as folder,
        SQLiteDatabase(Path(folder) / "two.sqlite3") as first,
        SQLiteDatabase(Path(folder) / "two.sqlite3") as second,
    ):
        mine, theirs = SQLiteProfileStore(first), SQLiteProfileStore(second)
        s = ingest_settings()
        with after_call(mine, k, lambda: resolve_lines([ANN_SHOP], theirs, settings=s)) as made:
            resolve_lines([ANN_CRM], mine, settings=s)
        return groups(mine), list(made)


def test_counts_tell_a_writer_from_others() -> None:
    from core.link_changes import ChangeCounter

    counter = ChangeCounter()
    assert counter.mark() is None  # outside any writer: own and others' cannot be told apart
    with writing():
        mark = counter.mark()
        assert mark is not None
        counter.wrote()  # its own
        assert not counter.others_since(mark)
        with writing():  # a writer run inside its call (the interleaving tests' hook)
            counter.wrote()
        assert counter.others_since(mark)
    with writing():
        mark = counter.mark()
        assert mark is not None
    counter.wrote()  # a write made outside any writer (a review decided, an erasure)
    assert counter.others_since(mark)
    assert ChangeCounter().others_since(mark)  # another store's count
