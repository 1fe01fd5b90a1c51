"""Ingest throughput with probabilistic identity on, against exact identifiers, measured in one run.

Target (issue 13): ingest with fuzzy matching on keeps >= 0.5x the exact-only core throughput.

Both modes run the same records through the same core path as bench.core_throughput (normalise +
ingest in batches of 100 into the in-memory store, on one core): the demo population varied as
tools vary people (core.testing.varied_population: birth dates and addresses, work emails,
nicknames, typos, old addresses), and the plain demo population (exact identifiers find everyone).
Probabilistic mode is ``IngestSettings(linkage=LinkageSettings())`` with the shipped model, as
``identity.mode: probabilistic`` gives: each batch files its records under their blocking keys,
reads the candidates, scores the pairs and builds the link graph over what it touches.

    python -m bench.linkage_throughput [--people 3000] [--batch 100]

The ratio printed is (probabilistic rate / exact rate) / 0.5: >= 1.00 meets the target. Figures are
noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

from connectors.jsonl import draft_from_flat
from core.link_scope import LinkageSettings
from core.normalise import NormaliseOptions, normalise_record
from core.pipeline import IngestSettings, ingest
from core.runtime import bulk_gc
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.population import population
from core.testing.varied_population import varied_population

TARGET_RATIO = 0.5


def rate(drafts: Sequence[Any], settings: IngestSettings, batch_size: int) -> tuple[float, int]:
    """Records per second through normalise + ingest, and the profiles made."""
    store = InMemoryProfileStore()
    options = NormaliseOptions(default_region="GB")
    with bulk_gc():
        start = time.perf_counter()
        batch: list[SourceRecord] = []
        for draft in drafts:
            outcome = normalise_record(draft, options)
            if isinstance(outcome, SourceRecord):
                batch.append(outcome)
            if len(batch) == batch_size:
                ingest(batch, store, settings)
                batch = []
        ingest(batch, store, settings)
        elapsed = time.perf_counter() - start
    return len(drafts) / elapsed, sum(1 for _ in store.iter_profiles())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    exact = IngestSettings()
    linked = IngestSettings(linkage=LinkageSettings())
    print(
        f"ingest throughput, exact vs probabilistic identity, {args.people:,} people, batches of {args.batch}"
    )
    for name, flats in (
        ("varied population", [f for _, f in varied_population(args.people, seed=3)]),
        ("plain population", [f for _, f in population(args.people, seed=3)]),
    ):
        drafts = [draft_from_flat(f) for f in flats]
        exact_rate, exact_profiles = rate(drafts, exact, args.batch)
        linked_rate, linked_profiles = rate(drafts, linked, args.batch)
        ratio = linked_rate / exact_rate
        print(f"  {name} ({len(drafts):,} records)")
        print(f"    exact          {exact_rate:8,.0f} records/s -> {exact_profiles:,} profiles")
        print(f"    probabilistic  {linked_rate:8,.0f} records/s -> {linked_profiles:,} profiles")
        verdict = f"ratio {ratio / TARGET_RATIO:.2f} (>= 1.00 meets it)"
        print(f"    {ratio:.2f}x exact; target >= {TARGET_RATIO}x: {verdict}", flush=True)


if __name__ == "__main__":
    main()
