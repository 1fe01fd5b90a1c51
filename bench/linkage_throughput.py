"""Fuzzy matching cost per record: blocking keys, candidates per record, scoring microseconds per pair.

Target (issue 13): ingest with fuzzy matching on keeps >= 0.5x today's exact-only core throughput.
The integration into ``core.pipeline`` is the next step, so this bench measures the two halves on
one core and projects their sum:

1. the exact-only core path (normalise + ingest into the in-memory store), as bench.core_throughput;
2. the matcher's work for each new record, done the way ingest will do it: compute its blocking
   keys, read the records filed under them (a dict here, ``BLOCK#`` items in a store; the store
   reads are not timed here, see docs/identity.md for their count), decide each candidate pair with
   the model, and file the record under its keys.

    python -m bench.linkage_throughput [--people 20000] [--core-people 5000]

The projected rate is ``1 / (1 / exact_rate + fuzzy_seconds_per_record)``; the ratio printed is
projected / exact / 0.5 (>= 1.00 meets the target). Figures are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import random
import time

from connectors.jsonl import draft_from_flat
from core.linkage import blocking_keys, decide, train_model
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.runtime import bulk_gc
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.linkage_population import people
from core.testing.population import population

TARGET_RATIO = 0.5


def exact_rate(people_count: int) -> float:
    drafts = [draft_from_flat(flat) for _, flat in population(people_count, seed=3)]
    store = InMemoryProfileStore()
    settings = IngestSettings()
    with bulk_gc():
        start = time.perf_counter()
        batch: list[SourceRecord] = []
        for draft in drafts:
            outcome = normalise_record(draft)
            if isinstance(outcome, SourceRecord):
                batch.append(outcome)
            if len(batch) == 100:
                ingest(batch, store, settings)
                batch = []
        ingest(batch, store, settings)
        elapsed = time.perf_counter() - start
    return len(drafts) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--people", type=int, default=20_000, help="people for the matcher (1.5 records each)"
    )
    parser.add_argument("--core-people", type=int, default=5000, help="people for the exact-only baseline")
    args = parser.parse_args()

    records, _ = people(args.people, copies=1, typo_rate=0.15, seed=11, diverse=True)
    records = [r for i, r in enumerate(records) if i % 2 == 0 or i % 4 == 1]  # half the people repeat
    random.Random(5).shuffle(records)
    model = train_model(records[:3000], seed=0, population=len(records))
    limit = model.max_block_size

    index: dict[str, list[int]] = {}
    keys_seconds = lookup_seconds = score_seconds = 0.0
    candidates_total = links = reviews = 0
    with bulk_gc():
        for position, record in enumerate(records):
            t0 = time.perf_counter()
            keys = blocking_keys(record)
            t1 = time.perf_counter()
            candidates: set[int] = set()
            for key in keys:
                filed = index.get(key)
                if filed is None:
                    index[key] = [position]
                    continue
                if len(filed) <= limit:  # an overloaded key finds nothing, like a store's BLOCK# item
                    candidates.update(filed)
                    filed.append(position)
            t2 = time.perf_counter()
            for other in candidates:
                outcome = decide(record, records[other], model).outcome
                links += outcome == "link"
                reviews += outcome == "review"
            t3 = time.perf_counter()
            keys_seconds += t1 - t0
            lookup_seconds += t2 - t1
            score_seconds += t3 - t2
            candidates_total += len(candidates)

    n = len(records)
    per_record = (keys_seconds + lookup_seconds + score_seconds) / n
    per_pair_us = score_seconds / candidates_total * 1e6 if candidates_total else 0.0
    print(f"fuzzy matching: {n:,} records of {args.people:,} people, arriving in random order")
    print(
        f"  blocking keys   {keys_seconds / n * 1e6:7.1f} us/record "
        f"({sum(map(len, index.values())) / n:.1f} keys filed per record)"
    )
    print(f"  candidates      {candidates_total / n:7.2f} per record (block limit {limit})")
    print(f"  scoring         {per_pair_us:7.1f} us/pair (decide, with reasons)")
    print(f"  all fuzzy work  {per_record * 1e6:7.1f} us/record; {links:,} links, {reviews:,} reviews")
    rate = exact_rate(args.core_people)
    projected = 1.0 / (1.0 / rate + per_record)
    ratio = projected / rate
    print(f"exact-only core: {rate:,.0f} records/s (normalise + ingest, {args.core_people:,} people)")
    print(
        f"  projected with fuzzy matching: {projected:,.0f} records/s = {ratio:.2f}x exact-only; "
        f"target >= {TARGET_RATIO}x: ratio {ratio / TARGET_RATIO:.2f} (>= 1.00 meets it)"
    )


if __name__ == "__main__":
    main()
