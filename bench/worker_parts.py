"""The normalising worker's parts, a line at a time, in one process: where its CPU goes.

    python -m bench.worker_parts [--file FILE | --records 50000] [--runs 3]

Reads the batched lines of ``FILE`` (or of a population of ``bench.resolve_scaling``) as bytes,
as the worker of ``profilesync resolve`` does (profilesync.parallel_lines), then times, CPU
microseconds a line, every cache of core.normalise cleared before each run as a new worker starts:

* ``drafts``: each line decoded and read into its draft by the Python path
  (``connectors.jsonl.batched.raw_line_outcome``: ``json``'s scanner and ``_draft_from_json``);
* ``normalise``: those drafts normalised by the one compiled call a record (``normalise_record``);
* ``python path``: the two together, line by line (the worker before the compiled line reader);
* ``line``: the compiled line reader, ``normalise_line`` (the Python path for the lines it leaves);
* ``json+hash``: each record's JSON and content hash (``record_json_and_hash``, compiled);
* ``pickle``: the records pickled in chunks of 500 (the worker's ``_pickled``), and ``unpickle``:
  read back (what the resolving process pays to receive them).

``python path`` and ``line`` alternate within each run; the best of the runs and the ratio of the
two are printed, with how many lines the compiled reader took. Then, with every cache warm (a pass
first), the two alternate chunk by chunk (500 lines, each first on every other chunk) for the whole
file ``--runs`` times, their CPU summed: a comparison a load that drifts during a run moves less.
CPU time, not wall time.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.normalise_compiled import _choose, _clear_caches
from bench.resolve_scaling import source_file
from connectors.jsonl.batched import BatchEnd, batched_lines, plan_batches, raw_line_outcome
from core.normalise import NormaliseOptions
from core.runtime import tune_gc_for_bulk_work
from core.schema import RecordDraft, SourceRecord
from profilesync import resolve_native
from profilesync.parallel_normalise import CHUNK_SIZE, _pickled


def _timed(work: Callable[[Any], Any], given: Any, count: int) -> tuple[float, Any]:
    """CPU µs a line of ``work(given)``, caches cleared first, and what it returned."""
    _clear_caches()
    gc.collect()
    started = time.process_time()
    result = work(given)
    return (time.process_time() - started) / count * 1e6, result


def _interleaved(
    raws: list[tuple[int, bytes]],
    first: Callable[[list[tuple[int, bytes]]], Any],
    second: Callable[[list[tuple[int, bytes]]], Any],
    runs: int,
) -> tuple[float, float]:
    """CPU µs a line of ``first`` and ``second`` over ``raws``, caches warm, alternating by chunk."""
    first(raws)  # every cache warm
    spent = [0.0, 0.0]
    for _ in range(runs):
        for number, at in enumerate(range(0, len(raws), CHUNK_SIZE)):
            chunk = raws[at : at + CHUNK_SIZE]
            order = ((0, first), (1, second)) if number % 2 == 0 else ((1, second), (0, first))
            for which, work in order:
                started = time.process_time()
                work(chunk)
                spent[which] += time.process_time() - started
    return spent[0] / (runs * len(raws)) * 1e6, spent[1] / (runs * len(raws)) * 1e6


def run(path: Path, runs: int) -> None:
    plan = plan_batches(path, 20_000)
    if plan is None:
        raise SystemExit(f"{path}: not read in batches (see connectors.jsonl.batched)")
    raws = [item for item in batched_lines(path, plan) if not isinstance(item, BatchEnd)]
    options = NormaliseOptions()
    tune_gc_for_bulk_work()
    normalise = resolve_native.worker_record_normaliser()
    read_line = resolve_native.worker_line_normaliser()
    json_and_hash = resolve_native.worker_json_and_hash()
    if normalise is None or read_line is None:
        raise SystemExit(f"the compiled calls are not available: {resolve_native.UNAVAILABLE}")
    count = len(raws)

    def drafts(raws: list[tuple[int, bytes]]) -> list[Any]:
        return [raw_line_outcome(number, raw, "jsonl") for number, raw in raws]

    def python_path(raws: list[tuple[int, bytes]]) -> list[Any]:
        found = []
        for number, raw in raws:
            read = raw_line_outcome(number, raw, "jsonl")
            if read is not None:
                found.append(normalise(read, options) if type(read) is RecordDraft else read)
        return found

    def compiled_lines(raws: list[tuple[int, bytes]]) -> list[Any]:
        found = []
        for number, raw in raws:
            outcome = read_line(raw, "jsonl", options)
            if outcome is None:
                read = raw_line_outcome(number, raw, "jsonl")
                if read is None:
                    continue
                outcome = normalise(read, options) if type(read) is RecordDraft else read
            found.append(outcome)
        return found

    times: dict[str, list[float]] = {
        name: [] for name in ("drafts", "normalise", "python path", "line", "json+hash", "pickle", "unpickle")
    }
    _choose(True)
    taken_before = resolve_native.line_counts()[0]
    try:
        for _ in range(runs):
            spent, read = _timed(drafts, raws, count)
            times["drafts"].append(spent)
            made = [item for item in read if type(item) is RecordDraft]
            spent, _ = _timed(lambda given: [normalise(draft, options) for draft in given], made, count)
            times["normalise"].append(spent)
            del read, made
            spent, _ = _timed(python_path, raws, count)
            times["python path"].append(spent)
            spent, outcomes = _timed(compiled_lines, raws, count)
            times["line"].append(spent)
            records = [item for item in outcomes if type(item) is SourceRecord]
            spent, _ = _timed(lambda given: [json_and_hash(record) for record in given], records, count)
            times["json+hash"].append(spent)
            chunks = [outcomes[at : at + CHUNK_SIZE] for at in range(0, len(outcomes), CHUNK_SIZE)]
            spent, sent = _timed(lambda given: [_pickled(chunk) for chunk in given], chunks, count)
            times["pickle"].append(spent)
            spent, _ = _timed(lambda given: [pickle.loads(data) for data in given], sent, count)
            times["unpickle"].append(spent)
            del outcomes, records, chunks, sent
        warm = _interleaved(raws, python_path, compiled_lines, runs)
    finally:
        _choose(False)
    taken = (resolve_native.line_counts()[0] - taken_before) // (2 * runs)
    print(f"{count:,} lines, load {os.getloadavg()[0]:.1f}, caches cold each run, CPU µs a line")
    for name, values in times.items():
        print(f"  {name:<12} best {min(values):6.1f}; runs " + " ".join(f"{v:.1f}" for v in values))
    print(f"line / python path (best of each): {min(times['line']) / min(times['python path']):.2f}")
    print(
        f"caches warm, alternating chunk by chunk: python path {warm[0]:.1f}, line {warm[1]:.1f} "
        f"µs a line ({warm[1] / warm[0]:.2f})"
    )
    print(f"the compiled reader took {taken:,} of the {count:,} lines itself (the rest: the Python path)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=None, help="the scaling bench's file")
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run(source_file(args.file, Path(folder), args.records), args.runs)


if __name__ == "__main__":
    main()
