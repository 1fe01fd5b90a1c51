"""``profilesync resolve`` writes the same bytes and rows with its lines read in compiled code.

bench.resolve_scaling's generated population (three tools, overlapping people, 2% malformed lines),
large enough that ``resolve`` normalises it in its worker process (profilesync.parallel_normalise,
over ``MIN_BYTES``), is resolved twice in this process: once with the worker's Python path
(``PROFILESYNC_NATIVE=off``: each line decoded, parsed by ``json`` and drafted by connectors.jsonl,
normalised by core.normalise), once with native/'s ``normalise_line`` (native/src/norm_line*.rs),
which the worker (profilesync.parallel_lines) asks first for each line of its batches (of 1,000
lines here: a file that fits one batch is read in file order, by the Python path). The
``--out`` file, the quarantine file and every row of the run's own store (read just before the run
removes it) must be the same, and the worker must have read every line of a record of the second
run by the compiled call (it counts them; the test's wrapper hands the count back through a file).
"""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import profilesync.parallel_normalise as parallel
import profilesync.resolve_native as resolve_native
import profilesync.stores as stores_module
from bench.resolve_scaling import generate
from profilesync.cli import main

if resolve_native.worker_line_normaliser() is None:  # the test says why it skips
    pytest.skip(
        f"the compiled line reader is not in use: {resolve_native.UNAVAILABLE}", allow_module_level=True
    )


def _resolve(source: Path, folder: Path, compiled: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The output's and quarantine's bytes and the store's rows of one run, and the lines the
    compiled call read and left (None when it was not used)."""
    rows: list[list[tuple[Any, ...]]] = []
    remove = stores_module._remove_store
    counts = folder / "counts"
    chosen = resolve_native.worker_line_normaliser

    def keep_rows(path: Path) -> None:
        with sqlite3.connect(path) as conn:
            rows.append(conn.execute("SELECT * FROM items ORDER BY pk, sk").fetchall())
        remove(path)

    def counted() -> Any:
        read = chosen()
        if read is None:
            return None
        start = resolve_native.line_counts()

        def call(raw: bytes, default_source: str, options: Any) -> Any:
            outcome = read(raw, default_source, options)
            taken, declined = resolve_native.line_counts()
            counts.write_text(f"{taken - start[0]} {declined - start[1]}")
            return outcome

        return call

    out, quarantine = folder / "profiles.jsonl", folder / "quarantine.jsonl"
    folder.mkdir()
    with monkeypatch.context() as patch:
        if not compiled:  # a forked worker reads the module; a spawned one, the environment
            patch.setenv("PROFILESYNC_NATIVE", "off")
            patch.setattr(resolve_native, "_MODULE", None)
        patch.setattr(stores_module, "_remove_store", keep_rows)
        patch.setattr(resolve_native, "worker_line_normaliser", counted)
        # forked, so that the worker runs this patched module (a thread another test left makes it
        # spawn otherwise, and a spawned worker imports it afresh)
        patch.setattr(parallel, "_context", lambda: multiprocessing.get_context("fork"))
        # batches of 1,000 lines: the worker reads a file in batches when it is larger than one
        argv = ["resolve", str(source), "--out", str(out), "--quarantine", str(quarantine), "--quiet"]
        argv += ["--batch-size", "1000"]
        main([*argv, "--state-dir", str(folder / "state")])
    assert len(rows) == 1
    taken = tuple(map(int, counts.read_text().split())) if counts.exists() else None
    return out.read_bytes(), quarantine.read_bytes(), rows[0], taken


def test_resolve_writes_the_same_bytes_and_rows_with_its_lines_read_in_compiled_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the scaling bench's population, over the size resolve normalises in a worker
    source = tmp_path / "records.jsonl"
    generate(source, 4000)
    assert source.stat().st_size >= parallel.MIN_BYTES
    # WHEN resolve runs with the worker's Python path, then with its compiled line reader
    python = _resolve(source, tmp_path / "python", False, monkeypatch)
    compiled = _resolve(source, tmp_path / "native", True, monkeypatch)
    # THEN the compiled call read the lines of records (the Python path only the malformed ones),
    # and every byte and row is the Python path's
    assert python[3] is None
    assert compiled[3] is not None
    taken, declined = compiled[3]
    assert taken > 3500
    assert declined < 200
    assert compiled[0] == python[0]
    assert compiled[1] == python[1]
    assert len(compiled[2]) == len(python[2]) > 4000
    assert compiled[2] == python[2]
