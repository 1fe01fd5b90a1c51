"""The normalising worker's cost: CPU per record of ``profilesync resolve``'s second process.

    python -m bench.normalise_worker [--records 100000] [--runs 3] [--batch-size 20000] [--steps]

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
``--steps`` also times the worker's steps one by one in this process (the plan of the batches,
reading and parsing the lines, normalising, the JSON and hash, pickling the chunks), CPU
microseconds a line each, every cache cold as in a new worker.
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


def steps(path: Path, batch_size: int) -> dict[str, float]:
    """CPU microseconds a line of each of the worker's steps, one after the other in this process."""
    from connectors.jsonl.batched import plan_batches, read_jsonl_batched
    from core.normalise import (
        NormaliseOptions,
        normalise_record,
        use_assembler,
        use_email_normaliser,
        use_order_reader,
    )
    from core.schema import Quarantined, SourceRecord
    from profilesync.parallel_normalise import CHUNK_SIZE, _pickled
    from profilesync.resolve_native import (
        worker_assembler,
        worker_email_normaliser,
        worker_json_and_hash,
        worker_order_reader,
    )

    record_json_and_hash = worker_json_and_hash()  # compiled where native/ is built and on
    use_assembler(worker_assembler())  # as the worker chooses them
    use_email_normaliser(worker_email_normaliser())
    use_order_reader(worker_order_reader())

    tune_gc_for_bulk_work()
    clock = time.process_time
    started = clock()
    plan_batches(path, batch_size)
    plan = clock() - started
    started = clock()
    items = list(read_jsonl_batched(path, batch_size))  # the plan again, then the lines
    read = clock() - started - plan
    options = NormaliseOptions()
    started = clock()
    outcomes = [i if isinstance(i, Quarantined | BatchEnd) else normalise_record(i, options) for i in items]
    normalise = clock() - started
    started = clock()
    for outcome in outcomes:
        if isinstance(outcome, SourceRecord):
            record_json_and_hash(outcome)
    serialise = clock() - started
    started = clock()
    for start in range(0, len(outcomes), CHUNK_SIZE):
        _pickled(outcomes[start : start + CHUNK_SIZE])
    pickling = clock() - started
    lines = sum(1 for item in items if not isinstance(item, BatchEnd)) / 1e6
    return {
        "plan of the batches": plan / lines,
        "reading and parsing the lines": read / lines,
        "normalising": normalise / lines,
        "JSON and hash": serialise / lines,
        "pickling": pickling / lines,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--batch-size", type=int, default=EMBEDDED_BATCH_SIZE, help="as resolve's; 0: file order, no plan"
    )
    parser.add_argument("--steps", action="store_true", help="also time each step in this process")
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
        if args.steps:
            timed = steps(path, args.batch_size or EMBEDDED_BATCH_SIZE)
            for step, micros in timed.items():
                print(f"  {step:<32} {micros:5.1f} µs a line")
            print(f"  {'in all':<32} {sum(timed.values()):5.1f} µs a line (one process)")
    print(f"worker {best:.1f} µs a record: ratio {best / LIMIT_US_PER_RECORD:.2f} of the limit")


if __name__ == "__main__":
    main()
