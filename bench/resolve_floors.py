"""What ``profilesync resolve`` must spend on a record, stage by stage, against 4x the DuckDB peer's CPU.

    python -m bench.resolve_floors [--records 100000] [--file FILE] [--free STAGE ...]

Issue 12 wants ``resolve`` within 4x of the peer of ``bench.resolve_scaling`` (DuckDB: connected
components over normalised email and phone, a line per person). This bench asks whether any
arrangement of resolve's processes can get there: it times each stage resolve runs on every record
in this one process, with nothing waiting and nothing crossing a process boundary but where resolve
crosses one, and sets their sum against the budget, 4x the peer's CPU per record measured on the
same file in the same run (a child process). The stages are the worker's (``bench.normalise_worker``'s
steps: the batches' plan, reading and parsing, normalising, the JSON and hash, pickling), unpickling
in the resolving process, ingest's parts (``bench.ingest_parts``: the split, the new customers' rows,
their profiles, SQLite's inserts, the rest) and writing the output (``resolve_output.write_store``,
one process). Two cores share the work in resolve, but the peer uses both as well: CPU per record,
not wall time, is what a 4x target on a shared machine can be held to. A stage whose floor alone
is over the budget cannot be arranged away: it must do less.

It also adds the stages up by the process that runs them in resolve (``PROCESSES``: the worker, the
resolving process, the output's second writer; the batches' plan and the output are shared half and
half): with a core each, the run takes about as long as its slowest process, so a step that makes one
process cheaper than the other shortens the run only down to the other. ``--free STAGE`` (repeated)
prints the sums again with those stages taken as costing nothing: the ceiling of a step that would
remove them (docs/architecture.md, *What is left for 4x*).
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

from bench.ingest_parts import batches, ingest
from bench.normalise_worker import steps
from bench.resolve_scaling import PEER_MAX_RATIO, source_file
from profilesync.parallel_normalise import CHUNK_SIZE, _pickled
from profilesync.resolve import EMBEDDED_BATCH_SIZE
from profilesync.resolve_output import write_store

#: bench.ingest_parts's parts of ingest, and their names here.
#: Set by bench.ingest_parts when one compiled call a batch wrote the rows with their profiles
#: (native/src/batch.rs): the profiles are then no part of their own.
ONE_CALL_ROWS: Final = "rows_with_profiles"
_INGEST_PARTS: Final = {
    "split": "ingest: split into fresh groups",
    "rows": "ingest: new customers' rows",
    "profiles": "ingest: profiles",
    "inserts": "ingest: SQLite's inserts",
}


def peer_cpu(source: Path, folder: Path) -> float:
    """The DuckDB peer's CPU seconds on ``source``, in a child process of its own."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(Path.cwd()), os.environ.get("PYTHONPATH")])),
    }
    command = [
        sys.executable,
        "-m",
        "bench.resolve_scaling",
        "--child-duckdb",
        str(source),
        str(folder / "peer.jsonl"),
    ]
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


#: Where resolve runs each stage: a process's share of the stage (the plan is read half by the
#: resolving process's thread and half by the worker; the output is written half by each writer).
PROCESSES: Final = {
    "plan of the batches": {"worker": 0.5, "resolving": 0.5},
    "reading and parsing the lines": {"worker": 1.0},
    "normalising": {"worker": 1.0},
    "JSON and hash": {"worker": 1.0},
    "pickling": {"worker": 1.0},
    "unpickling (resolving process)": {"resolving": 1.0},
    **{stage: {"resolving": 1.0} for stage in _INGEST_PARTS.values()},
    "ingest: the rest": {"resolving": 1.0},
    "writing the output": {"resolving": 0.5, "second writer": 0.5},
}


def by_process(stages: dict[str, float], free: frozenset[str] = frozenset()) -> dict[str, float]:
    """Each process's µs a line: the stages it runs (``PROCESSES``), but the ``free`` ones. A stage
    with no process, or a free stage that is no stage, is a KeyError: a sum silently missing one
    would flatter the ceiling."""
    missing = free - set(stages)
    if missing:
        raise KeyError(f"no such stage: {sorted(missing)}")
    out: dict[str, float] = {}
    for stage, micros in stages.items():
        for process, share in PROCESSES[stage].items():
            out[process] = out.get(process, 0.0) + (0.0 if stage in free else share * micros)
    return out


def floors(source: Path, folder: Path) -> dict[str, float]:
    """Each stage's CPU µs a line of ``source``, in resolve's order (a part missing from the benches
    timed here is a KeyError, not a stage silently timed at nothing)."""
    stages = steps(source, EMBEDDED_BATCH_SIZE)  # the worker's, µs a line
    work = batches(source)
    lines = sum(1 for line in source.open("rb") if line.strip()) / 1e6
    chunks = [
        _pickled(list(batch[start : start + CHUNK_SIZE]))
        for batch in work
        for start in range(0, len(batch), CHUNK_SIZE)
    ]
    started = time.process_time()
    for chunk in chunks:
        pickle.loads(chunk)
    stages["unpickling (resolving process)"] = (time.process_time() - started) / lines
    cpu, _ = ingest(work, folder)
    parts = dict(_INGEST_PARTS)
    if "profiles" not in cpu and ONE_CALL_ROWS in cpu:  # one compiled call a batch writes both
        del parts["profiles"]
        parts["rows"] = "ingest: new customers' rows and profiles"
    for part, stage in parts.items():
        stages[stage] = cpu[part] / lines
    stages["ingest: the rest"] = (cpu["ingest"] - sum(cpu[part] for part in parts)) / lines
    started = time.process_time()
    write_store(folder / "store.sqlite3", io.StringIO(), parallel=False)
    stages["writing the output"] = (time.process_time() - started) / lines
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--file", type=Path, default=None, help="read this file instead of a generated one")
    parser.add_argument(
        "--free", action="append", default=[], help="also sum the processes with this stage at nothing"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="resolve-floors-") as name:
        folder = Path(name)
        source = source_file(args.file, folder, args.records)
        lines = sum(1 for line in source.open("rb") if line.strip())
        peer = peer_cpu(source, folder) / lines * 1e6
        stages = floors(source, folder)
    budget = PEER_MAX_RATIO * peer
    print(f"{lines:,} lines, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print(f"  DuckDB peer {peer:6.1f} µs a line; the budget ({PEER_MAX_RATIO:g}x) {budget:6.1f} µs")
    for stage, micros in stages.items():
        print(f"  {stage:<36} {micros:6.1f} µs a line  {micros / budget:5.2f} of the budget")
    total = sum(stages.values())
    worst = max(stages, key=stages.__getitem__)
    print(f"  {'every stage':<36} {total:6.1f} µs a line: ratio {total / budget:.2f} of the budget")
    print(f"largest stage: {worst}, ratio {stages[worst] / budget:.2f} of the budget alone")
    cases = [("as now", frozenset[str]())]
    if args.free:
        cases.append((f"without {', '.join(args.free)}", frozenset(args.free)))
    for label, free in cases:
        sums = by_process(stages, free)
        slowest = max(sums, key=sums.__getitem__)
        parts = ", ".join(f"{process} {micros:.1f}" for process, micros in sums.items())
        print(f"by process, {label}: {parts} µs a line; all {sum(sums.values()):.1f}")
        print(f"  slowest: {slowest}, {sums[slowest] / budget:.2f} of the budget")


if __name__ == "__main__":
    main()
