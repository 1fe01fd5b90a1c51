"""bench.ingest_parts replays exactly the rows ingest wrote: its figures per kind are resolve's rows.

The bench times SQLite's inserts by replaying the new customers' rows into a new file, one statement
per kind as ``insert_new_items`` sends them. If the store's statements changed and the bench's did
not, the bench would time rows resolve no longer writes: the replayed table must hold what the
store holds, row for row, and the narrow layout the same IDENT items.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bench.ingest_parts import batches, ingest, replay
from bench.resolve_scaling import generate


def _rows(path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(query).fetchall()


@pytest.mark.parametrize("scratch", [True, False], ids=["scratch", "full"])
def test_the_replayed_rows_are_the_rows_ingest_stored(tmp_path: Path, scratch: bool) -> None:
    source = tmp_path / "records.jsonl"
    generate(source, 600, seed=5)
    work = batches(source)
    cpu, written = ingest(work, tmp_path, scratch=scratch)
    assert written, "the population's new customers go through insert_new_items"
    assert {"ingest", "split", "rows", "inserts"} <= set(cpu)
    # the profiles timed apart, or written with the rows by one compiled call a batch (native30g)
    assert ("profiles" in cpu) != ("rows_with_profiles" in cpu)
    every = "SELECT * FROM items ORDER BY pk, sk"
    stored = _rows(tmp_path / "store.sqlite3", every)
    replay(written, tmp_path / "wide.sqlite3", narrow=False)
    assert _rows(tmp_path / "wide.sqlite3", every) == stored
    replay(written, tmp_path / "narrow.sqlite3", narrow=True)
    idents = "SELECT pk, hash, owner, updated_at FROM {} ORDER BY pk"
    assert _rows(tmp_path / "narrow.sqlite3", idents.format("idents")) == _rows(
        tmp_path / "store.sqlite3", idents.format("items WHERE sk = 'IDENT'")
    )
