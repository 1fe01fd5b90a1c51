"""``profilesync resolve`` writes the same bytes and rows with one compiled call a record.

bench.resolve_scaling's generated population (three tools, overlapping people, 2% malformed lines),
large enough that ``resolve`` normalises it in its worker process (profilesync.parallel_normalise,
over ``MIN_BYTES``), is resolved twice in this process: once with the worker's Python path
(``PROFILESYNC_NATIVE=off``: ``core.normalise.normalise_record`` and the Python pieces), once with
native/'s ``normalise_record`` (native/src/norm_record*.rs), which the worker calls for each draft.
The ``--out`` file, the quarantine file and every row of the run's own store (read just before the
run removes it) must be the same, and the worker must have written every record of the second run
by the compiled call (it counts them, and the test's wrapper hands the count back through a file).
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

if resolve_native.UNAVAILABLE:  # CI says why the build failed; the test says it skips
    pytest.skip(f"the compiled call is not in use: {resolve_native.UNAVAILABLE}", allow_module_level=True)


def _resolve(source: Path, folder: Path, compiled: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The output's and quarantine's bytes and the store's rows of one run."""
    rows: list[list[tuple[Any, ...]]] = []
    remove = stores_module._remove_store
    counts = folder / "counts"
    chosen = resolve_native.worker_record_normaliser

    def keep_rows(path: Path) -> None:
        with sqlite3.connect(path) as conn:
            rows.append(conn.execute("SELECT * FROM items ORDER BY pk, sk").fetchall())
        remove(path)

    def counted() -> Any:
        normalise = chosen()
        if normalise is None:
            return None
        start = resolve_native.record_counts()

        def call(draft: Any, options: Any) -> Any:
            outcome = normalise(draft, options)
            taken, declined = resolve_native.record_counts()
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
        patch.setattr(resolve_native, "worker_record_normaliser", counted)
        # forked, so that the worker runs this patched module: a thread another test left in this
        # process (a moto server) makes the worker spawn, and a spawned one imports it afresh
        patch.setattr(parallel, "_context", lambda: multiprocessing.get_context("fork"))
        argv = ["resolve", str(source), "--out", str(out), "--quarantine", str(quarantine), "--quiet"]
        main([*argv, "--state-dir", str(folder / "state")])
    assert len(rows) == 1
    taken = tuple(map(int, counts.read_text().split())) if counts.exists() else None
    return out.read_bytes(), quarantine.read_bytes(), rows[0], taken


def test_resolve_writes_the_same_bytes_and_rows_with_one_compiled_call_a_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the scaling bench's population, over the size resolve normalises in a worker
    source = tmp_path / "records.jsonl"
    generate(source, 4000)
    assert source.stat().st_size >= parallel.MIN_BYTES
    # WHEN resolve runs with the worker's Python path, then with its one compiled call a record
    python = _resolve(source, tmp_path / "python", False, monkeypatch)
    compiled = _resolve(source, tmp_path / "native", True, monkeypatch)
    # THEN the compiled call wrote the records (the Python function only the quarantined drafts),
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
