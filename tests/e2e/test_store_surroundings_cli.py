"""``resolve``, ``sync`` and ``status`` when the embedded store's surroundings fail, end to end: the
one line a user reads says what happened to which file and what to do, and nothing is left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.ports import SyncState
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_sync import SQLiteSyncStateStore
from core.testing.population import population
from profilesync.cli import main
from tests.folders import freezable_folder, tiny_disk

STORE = "profilesync-dev-profiles.sqlite3"


def test_resolve_onto_a_full_disk_says_the_disk_is_full_and_leaves_no_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN 3,000 people's records, and an output folder on a disk of 1 MB
    source = tmp_path / "people.jsonl"
    with source.open("w", encoding="utf-8") as handle:
        for _, flat in population(3000, seed=4):
            handle.write(json.dumps(flat) + "\n")
    with tiny_disk(tmp_path / "small") as small:
        # WHEN resolve writes its store and output there
        code = main(["resolve", str(source), "--out", str(small / "profiles.jsonl"), "--quiet"])
        err = capsys.readouterr().err
        # THEN it fails as a run (1) that names the full disk and what to do, not SQLite's words
        assert code == 1, err
        assert "is full" in err
        assert "free some space" in err
        assert "no transaction is active" not in err
        assert "unexpected error" not in err
        # AND its temporary store (personal data) is gone
        assert not [p.name for p in small.iterdir() if p.name.endswith((".sqlite3", "-wal", "-journal"))]


def test_status_reads_a_store_in_a_read_only_folder_and_sync_says_it_cannot_write_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROFILESYNC_HUBSPOT_TOKEN", "pat-unused")
    state = tmp_path / "state"
    empty = tmp_path / "empty.yaml"
    empty.write_text("connectors: {}\n", encoding="utf-8")
    with freezable_folder(state) as freeze:
        # GIVEN a store sync kept, in a folder that became read-only (a copy, a mount, a backup)
        with SQLiteDatabase(state / STORE) as database:
            SQLiteSyncStateStore(database).put_sync_state(SyncState("hubspot", "cursor-7"))
        freeze()
        # WHEN status reads it THEN it shows the saved state, and writes nothing there
        assert main(["status", "--state-dir", str(state), "--json", "--config", str(empty)]) == 0
        [row] = json.loads(capsys.readouterr().out)["instances"]
        assert (row["instance"], row["cursor"]) == ("hubspot", "cursor-7")
        assert sorted(p.name for p in state.iterdir()) == [STORE]
        # AND sync, which must write, refuses to start with what to do (not "not a profilesync store")
        sync = [
            "sync",
            "--connector",
            "hubspot",
            "--base-url",
            "http://127.0.0.1:9",
            "--state-dir",
            str(state),
        ]
        assert main(sync) == 2
        err = capsys.readouterr().err
        assert "cannot be written" in err
        assert "--state-dir" in err
        assert "not a profilesync store" not in err


def test_sync_and_status_on_a_damaged_store_say_it_is_damaged_and_how_to_start_afresh(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a store whose pages past the header were overwritten
    path = tmp_path / STORE
    with SQLiteDatabase(path) as database:
        state = SQLiteSyncStateStore(database)
        for n in range(300):
            state.put_sync_state(SyncState(f"tool{n:03d}", "x" * 2000))
    with path.open("r+b") as handle:
        handle.seek(8192)
        handle.write(b"\x5a" * (path.stat().st_size - 8192))
    monkeypatch.setenv("PROFILESYNC_HUBSPOT_TOKEN", "pat-unused")
    # WHEN sync or status opens it THEN the line says it is damaged and to move it away
    for argv in (
        ["sync", "--connector", "hubspot", "--base-url", "http://127.0.0.1:9", "--state-dir", str(tmp_path)],
        ["status", "--state-dir", str(tmp_path)],
    ):
        assert main(argv) in (1, 2)
        err = capsys.readouterr().err
        assert "is damaged" in err, err
        assert "move it away" in err
        assert "unexpected error" not in err
