"""The normalising worker's compiled pieces against core.normalise's Python, in one process.

    python -m bench.normalise_compiled [--file FILE | --records 20000] [--runs 6]

Reads the lines of ``FILE`` (or of a population of ``bench.resolve_scaling``) into drafts, then
normalises all of them in turn with ``core.normalise.normalise_record`` and the Python functions
("python"), with the same function and the compiled pieces the worker chose before (the models'
assembly, the ASCII email addresses, the orders' common shape: "pieces"), and with the one
compiled call a record the worker chooses now (``profilesync_native.normalise_record`` with those
pieces: "record"), every cache of core.normalise cleared before each run, as a new worker starts.
It prints CPU microseconds a record of each run, the best of each, their ratios to "python", and
how many records the one call wrote itself. CPU time, not wall time.
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import connectors.jsonl  # noqa: F401  (the connector the drafts are read by)
import core.normalise._email
import core.normalise._money
import core.normalise._names
import core.normalise._phone
import core.normalise._record
import core.normalise._time
from bench.resolve_scaling import source_file
from connectors.jsonl.batched import BatchEnd, read_jsonl_batched
from core.normalise import (
    NormaliseOptions,
    normalise_record,
    use_assembler,
    use_email_normaliser,
    use_order_reader,
)
from core.runtime import tune_gc_for_bulk_work
from core.schema import Quarantined
from profilesync import resolve_native

_CACHED = (
    core.normalise._email,
    core.normalise._money,
    core.normalise._names,
    core.normalise._phone,
    core.normalise._record,
    core.normalise._time,
)


def _clear_caches() -> None:
    for module in _CACHED:
        for value in list(vars(module).values()):
            if hasattr(value, "cache_clear"):
                value.cache_clear()


def _choose(compiled: bool) -> None:
    """The compiled pieces (``compiled``) or the Python functions."""
    use_assembler(resolve_native.worker_assembler() if compiled else None)
    use_email_normaliser(resolve_native.worker_email_normaliser() if compiled else None)
    use_order_reader(resolve_native.worker_order_reader() if compiled else None)


def run(path: Path, runs: int) -> None:
    drafts: list[Any] = [
        item for item in read_jsonl_batched(path, 20_000) if not isinstance(item, Quarantined | BatchEnd)
    ]
    options = NormaliseOptions()
    tune_gc_for_bulk_work()
    one_call = resolve_native.worker_record_normaliser() or normalise_record
    times: dict[str, list[float]] = {"python": [], "pieces": [], "record": []}
    taken_before = resolve_native.record_counts()[0]
    try:
        for _ in range(runs):
            for name in times:
                _choose(name != "python")
                normalise = one_call if name == "record" else normalise_record
                _clear_caches()
                gc.collect()
                started = time.process_time()
                outcomes = [normalise(draft, options) for draft in drafts]
                times[name].append((time.process_time() - started) / len(drafts) * 1e6)
                del outcomes
    finally:
        _choose(False)
    taken = (resolve_native.record_counts()[0] - taken_before) // runs
    print(f"{len(drafts):,} records, load {os.getloadavg()[0]:.1f}, caches cold each run")
    for name, values in times.items():
        print(
            f"  {name:<9} best {min(values):6.1f} µs a record; runs " + " ".join(f"{v:.1f}" for v in values)
        )
    for name in ("pieces", "record"):
        print(f"{name} / python (best of each): {min(times[name]) / min(times['python']):.2f}")
    print(f"the one call wrote {taken:,} of the {len(drafts):,} records itself (the rest: Python's)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=None, help="the scaling bench's file")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()
    if resolve_native.UNAVAILABLE:
        raise SystemExit(f"the compiled calls are not available: {resolve_native.UNAVAILABLE}")
    with tempfile.TemporaryDirectory() as folder:
        run(source_file(args.file, Path(folder), args.records), args.runs)


if __name__ == "__main__":
    main()
