"""Where ``profilesync resolve``'s time goes: CPU of each process and each phase, and the waits.

    python -m bench.resolve_phases [--records 250000] [--file FILE] [--out OUT]

Generates the population of ``bench.resolve_scaling`` (or reads ``--file``) and runs ``profilesync
resolve FILE --out OUT --quiet`` in this process, with its phases timed: resolving the records
(of which ingest, ``core.batch_ingest.ingest_batch``, and the rest: receiving the records from the
normalising worker and the loop), writing the output, and the rest (set-up, the store). It prints
the CPU seconds and µs a record of each, the CPU of the child processes (the normalising worker
and the output's second writer), and the wall seconds the resolving process spent waiting for the
worker's records: with a free core, the run's wall time is about the  CPU plus
that wait. CPU time, not wall time, is what to compare between runs on a shared machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import core.batch_ingest
import profilesync.parallel_normalise as parallel
import profilesync.resolve
import profilesync.resolve_output
from bench.resolve_scaling import source_file
from core import ingest_native
from profilesync.cli import main as cli_main

_cpu: dict[str, float] = {}
_wall: dict[str, float] = {}


def _timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _cpu[name] = _cpu.get(name, 0.0) + time.process_time() - cpu
            _wall[name] = _wall.get(name, 0.0) + time.perf_counter() - wall

    return timed


_worker_cpu: list[float] = []
_first_wait: list[float] = []


def _worker_usage(stop: Callable[..., Any]) -> Callable[..., Any]:
    """``NormalisingWorker.stop`` that first reads the worker's own CPU seconds (Linux: its
    ``/proc`` entry, there until it is waited for), apart from the output's second writer's."""

    def stopping(self: parallel.NormalisingWorker) -> Any:
        if self.process is not None and self.process.pid is not None:
            try:
                fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
                _worker_cpu.append((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
            except (OSError, IndexError, ValueError):
                pass
        return stop(self)

    return stopping


def _first_message(receive: Callable[..., Any]) -> Callable[..., Any]:
    """``_next_message`` that keeps the wall seconds of the first wait: the worker plans the
    batches (reads the whole file once) before it sends anything, and this process waits."""

    def receiving(*args: Any, **kwargs: Any) -> Any:
        if not _first_wait:
            started = time.perf_counter()
            try:
                return receive(*args, **kwargs)
            finally:
                _first_wait.append(time.perf_counter() - started)
        return receive(*args, **kwargs)

    return receiving


def _instrument() -> None:
    # The CLI imports ingest_batch when it runs (and wraps it: core.runtime.collected_after).
    core.batch_ingest.ingest_batch = _timed("ingest", core.batch_ingest.ingest_batch)
    profilesync.resolve.resolve = _timed("resolve", profilesync.resolve.resolve)  # type: ignore[assignment]
    profilesync.resolve_output.write_store = _timed("write", profilesync.resolve_output.write_store)  # type: ignore[assignment]
    parallel.NormalisingWorker._next_message = _first_message(  # type: ignore[method-assign]
        _timed("wait", parallel.NormalisingWorker._next_message)
    )
    parallel.NormalisingWorker.stop = _worker_usage(parallel.NormalisingWorker.stop)  # type: ignore[method-assign]


def _usage(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run(source: Path, out: Path) -> int:
    """Resolve ``source`` into ``out`` with the phases timed; the records read."""
    _instrument()
    own, children = _usage(resource.RUSAGE_SELF), _usage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    assert cli_main(["resolve", str(source), "--out", str(out), "--quiet"]) == 0
    wall = time.perf_counter() - started
    main_cpu = _usage(resource.RUSAGE_SELF) - own
    child_cpu = _usage(resource.RUSAGE_CHILDREN) - children
    records = sum(1 for line in source.open("rb") if line.strip())

    def line(label: str, seconds: float) -> str:
        return f"  {label:<44} {seconds:7.1f} CPU s {seconds / records * 1e6:7.1f} µs a record"

    resolving, ingest, write = _cpu.get("resolve", 0.0), _cpu.get("ingest", 0.0), _cpu.get("write", 0.0)
    print(f"{records:,} records, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}: {wall:.1f} s wall")
    print(f"  the compiled path (core.ingest_native): {ingest_native.UNAVAILABLE or 'on'}")
    print(line("resolving process", main_cpu))
    print(line("  ingest", ingest))
    print(line("  receiving the records and the loop", resolving - ingest))
    print(line("  writing the output", write))
    print(line("  the rest (set-up, the store)", main_cpu - resolving - write))
    print(line("child processes (worker, second writer)", child_cpu))
    if _worker_cpu:
        print(line("  normalising worker", _worker_cpu[0]))
        print(line("  the rest (the output's second writer)", child_cpu - _worker_cpu[0]))
    waited, wrote = _wall.get("wait", 0.0), _wall.get("write", 0.0)
    first = _first_wait[0] if _first_wait else 0.0
    print(
        f"  waited for the worker's records {waited:.1f} s wall, of which {first:.1f} s for the first "
        f"(the worker plans the batches first); wrote the output in {wrote:.1f} s wall"
    )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=250_000)
    parser.add_argument(
        "--file", type=Path, default=None, help="resolve this file instead of a generated one"
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="keep the profiles here (default: a temporary file)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="resolve-phases-") as folder:
        source = source_file(args.file, Path(folder), args.records)
        run(source, args.out or Path(folder) / "profiles.jsonl")


if __name__ == "__main__":
    main()
