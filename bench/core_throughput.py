"""Core throughput: normalise + resolve + merge on one core against the in-memory store.

Target: at least 10,000 records/s over a generated population with realistic overlap.

    python -m bench.core_throughput [--people 5000] [--batch 100] [--breakdown]

``--breakdown`` also prints where the time went: normalising, ingesting, and the garbage collector's
passes by generation (the core keeps a large heap of models alive, so full passes are expensive).
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

from connectors.jsonl import draft_from_flat
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.runtime import bulk_gc
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.population import population

TARGET_RECORDS_PER_SECOND = 10_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--breakdown", action="store_true", help="print normalise / ingest / GC times")
    args = parser.parse_args()
    flats = [flat for _, flat in population(args.people, seed=3)]
    drafts = [draft_from_flat(f) for f in flats]  # parsing the file is not part of the core

    store = InMemoryProfileStore()
    settings = IngestSettings()
    clock = _Breakdown() if args.breakdown else None
    normalise_one = normalise_record if clock is None else clock.normalise
    ingest_batch = ingest if clock is None else clock.ingest
    # The same GC settings as `profilesync resolve`, which also enters core.runtime.bulk_gc after its
    # set-up: what is alive before the timed run (imports, and here the generated drafts) is frozen,
    # and the collector's thresholds are raised for the bulk work.
    with bulk_gc():
        start = time.perf_counter()
        batch: list[SourceRecord] = []
        quarantined = 0
        for draft in drafts:
            outcome = normalise_one(draft)
            if not isinstance(outcome, SourceRecord):
                quarantined += 1
                continue
            batch.append(outcome)
            if len(batch) == args.batch:
                ingest_batch(batch, store, settings)
                batch = []
        ingest_batch(batch, store, settings)
        elapsed = time.perf_counter() - start
        if clock is not None:
            clock.stop()  # leaving bulk_gc restores the thresholds: its next pass is not the run's

    rate = len(drafts) / elapsed
    profiles = sum(1 for _ in store.iter_profiles())
    print(
        f"core throughput: {len(drafts):,} records ({quarantined:,} quarantined) -> {profiles:,} profiles "
        f"for {args.people:,} people in {elapsed:.2f} s"
    )
    print(
        f"  {rate:,.0f} records/s; target >= {TARGET_RECORDS_PER_SECOND:,}: "
        f"ratio {rate / TARGET_RECORDS_PER_SECOND:.2f} (>= 1.00 meets it)"
    )
    if clock is not None:
        clock.report(len(drafts))


class _Breakdown:
    """Times normalise and ingest calls, and the garbage collector's passes (counted inside them)."""

    def __init__(self) -> None:
        self.spent = {"normalise": 0.0, "ingest": 0.0}
        self.gc = {generation: [0, 0.0] for generation in range(3)}
        self._gc_start = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            passes = self.gc[info["generation"]]
            passes[0] += 1
            passes[1] += time.perf_counter() - self._gc_start

    def normalise(self, draft: Any) -> Any:
        start = time.perf_counter()
        try:
            return normalise_record(draft)
        finally:
            self.spent["normalise"] += time.perf_counter() - start

    def ingest(self, *args: Any) -> Any:
        start = time.perf_counter()
        try:
            return ingest(*args)
        finally:
            self.spent["ingest"] += time.perf_counter() - start

    def stop(self) -> None:
        gc.callbacks.remove(self._on_gc)

    def report(self, records: int) -> None:
        for name, seconds in self.spent.items():
            print(f"  {name:9s} {seconds:6.2f} s  {seconds / records * 1e6:6.1f} us/record (GC included)")
        passes = ", ".join(f"gen{g}: {n} in {s:.2f} s" for g, (n, s) in self.gc.items())
        print(f"  garbage collector: {passes}")


if __name__ == "__main__":
    main()
