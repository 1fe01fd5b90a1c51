"""bench.ingest_parts's ``--staged-json`` replay writes the rows ingest stored, row for row.

The staged replay hands each kind's rows to SQLite as one JSON array (``INSERT ... SELECT`` over
``json_each``), the candidate of docs/architecture.md's *What is left for 4x* for inserting new
customers' rows in SQLite's C. Its figures compare with the executemany replay only if it writes the
same table: the same texts (quotes, backslashes, control characters, non-ASCII), the same NULLs
where a row leaves a column out, the same version and sort keys.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bench.ingest_parts import batches, ingest, replay
from bench.resolve_scaling import generate
from core.storage.sqlite_new_items import NewItems


def _rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT * FROM items ORDER BY pk, sk").fetchall()


def test_the_staged_replay_stores_what_ingest_stored(tmp_path: Path) -> None:
    # GIVEN the rows a full store's ingest wrote for a generated population (every kind of item)
    source = tmp_path / "records.jsonl"
    generate(source, 600, seed=7)
    _, written = ingest(batches(source), tmp_path, scratch=False)
    # WHEN they are replayed as one JSON array per kind and slice
    replay(written, tmp_path / "staged.sqlite3", narrow=False, staged=True)
    # THEN the table holds what the store holds, row for row
    assert _rows(tmp_path / "staged.sqlite3") == _rows(tmp_path / "store.sqlite3")


def test_the_staged_replay_keeps_odd_texts_and_nulls(tmp_path: Path) -> None:
    # GIVEN rows whose texts need escaping in JSON and whose left-out columns are NULL
    odd = 'a"b\\c\n\t\x01 é 😀 \u2028'
    group: NewItems = (
        [("IDENT#email#" + odd, None, "cus_x", None, None), ("IDENT#source#s:c:1", "h1", "cus_x", "t", "1")],
        [("CUSTOMER#cus_x", "ph", '{"v":"' + odd + '"}', '{"owned": []}')],
        [("CUSTOMER#cus_x", "SOURCE#s:c:1", "h1", odd)],
        [("CUSTOMER#cus_x", "HISTORY#t#e", odd)],
        [("IDENT#mailbox#" + odd, "HOLDER#cus_x", "cus_x")],
    )
    # WHEN they are replayed both ways
    replay([[group]], tmp_path / "rows.sqlite3", narrow=False)
    replay([[group]], tmp_path / "staged.sqlite3", narrow=False, staged=True)
    # THEN both tables hold the same rows
    assert _rows(tmp_path / "staged.sqlite3") == _rows(tmp_path / "rows.sqlite3")
    assert len(_rows(tmp_path / "rows.sqlite3")) == 6
