"""The normalising worker's cost: CPU per record of ``profilesync resolve``'s second process.

    python -m bench.normalise_worker [--records 100000] [--runs 3] [--batch-size 20000]

Generates the population of ``bench.resolve_scaling`` (three tools, 2% malformed lines) and reads it
through ``profilesync.parallel_normalise.NormalisingWorker`` as ``resolve`` does, doing nothing with
the outcomes: the worker plans the batches that keep each person's lines together (a first pass over
the file, ``connectors.jsonl.batched``; ``--batch-size 0`` reads in file order without it), then
reads, parses, normalises, hashes and pickles every line; the main process only receives them.
It prints, per run, the worker's CPU microseconds a record (its own process's user and system
time, imports done before the fork as in ``resolve``) and the main process's for receiving, and
the ratio of the worker's best run against the limit: a third of what resolve's main process
spends on a record (about 300 µs at 100k records), so that a worker with a core of its own never
keeps resolve waiting. CPU time, not wall time: other jobs on the machine change the second.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

# Imported here, as resolve's process has them imported when it forks the worker.
import connectors.jsonl  # noqa: F401
import core.merge  # noqa: F401
from bench.resolve_scaling import generate
from connectors.jsonl.batched import BatchEnd
from core.runtime import tune_gc_for_bulk_work
from profilesync.parallel_normalise import NormalisingWorker
from profilesync.resolve import EMBEDDED_BATCH_SIZE

LIMIT_US_PER_RECORD = 100.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(path: Path, batch_size: int | None) -> tuple[int, float, float]:
    """``(outcomes, worker CPU s, main CPU s)`` of one pass through a worker."""
    tune_gc_for_bulk_work()
    children, main = _children_cpu(), time.process_time()
    outcomes = NormalisingWorker(path, batch_size=batch_size)
    count = sum(1 for item in outcomes if not isinstance(item, BatchEnd))
    return count, _children_cpu() - children, time.process_time() - main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--batch-size", type=int, default=EMBEDDED_BATCH_SIZE, help="as resolve's; 0: file order, no plan"
    )
    args = parser.parse_args()
    batch_size = args.batch_size or None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "records.jsonl"
        written = generate(path, args.records)
        order = f"batches of {batch_size:,}" if batch_size else "file order"
        print(f"{written:,} lines ({order}), {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
        best = float("inf")
        for n in range(1, args.runs + 1):
            count, worker, received = run(path, batch_size)
            per_record = worker / count * 1e6
            best = min(best, per_record)
            receiving = received / count * 1e6
            print(f"run {n}: worker {per_record:.1f} µs a record, main process {receiving:.1f} µs")
    print(f"worker {best:.1f} µs a record: ratio {best / LIMIT_US_PER_RECORD:.2f} of the limit")


if __name__ == "__main__":
    main()
