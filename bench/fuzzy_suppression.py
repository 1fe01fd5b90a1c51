"""The cost of fuzzy suppression at merge: the suppression check with an erased person's fingerprints.

    python -m bench.fuzzy_suppression [--people 10000] [--erased 0.1] [--repeat 3]

Merge checks every batch against suppression before it plans (core.ingest_plan). With probabilistic
identity the check also looks each person record up by its two fingerprint keys (core.
suppression_fuzzy: an HMAC each, in the same store read as its identifiers) and weighs a record
that hits against the fingerprint. This runs the check on the varied population of bench.
linkage_throughput (core.testing.varied_population: birth dates, addresses, nicknames and typos
vary between tools), normalised, in batches of 100, against an in-memory suppression store holding
what the erasure of a share of the people left (a tenth by default: many more than a deployment
erases, so that many records hit a fingerprint and are weighed) (their first record's identifiers and
fingerprints): the identifier check alone (``split(records)``), then with the model
(``split(records, model, policy)``). The records' graph nodes are prepared first, as ingest's link
graph prepares them anyway (core.link_nodes caches them on the record): what is measured is what
the fingerprints add.

It prints each mode's CPU time per record (best of ``--repeat``, the two modes taking turns), the
difference, the records of the erased people the fingerprints dropped (their other records, queued
as if the erasure came first) and the records of other people dropped (0: a stranger is never
dropped, tests/unit/test_suppression_fuzzy.py), and the ratio of the added cost to its limit,
``LIMIT_US`` a record: <= 1.00 meets it. The load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from connectors.jsonl import draft_from_flat
from core.identity import IdentityPolicy
from core.link_nodes import graph_node
from core.linkage import LinkageModel, default_model
from core.normalise import NormaliseOptions, normalise_record
from core.schema import SourceRecord
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry, keyed_hash
from core.suppression_fuzzy import fingerprint_entries
from core.testing.varied_population import varied_population

#: What the fingerprints may add to the suppression check, in CPU microseconds a record: 5% of what
#: probabilistic ingest costs a record (503 µs at 3,000 people: docs/identity.md, "Throughput").
LIMIT_US = 25.0
BATCH = 100
SALT = "bench-salt"


def _records(people: int) -> list[tuple[int, SourceRecord]]:
    options = NormaliseOptions(default_region="GB")
    found: list[tuple[int, SourceRecord]] = []
    for person, flat in varied_population(people, seed=3):
        record = normalise_record(draft_from_flat(flat), options)
        if person is not None and isinstance(record, SourceRecord):
            found.append((person, record))
    return found


def _erase(
    records: Sequence[tuple[int, SourceRecord]], share: float, policy: IdentityPolicy
) -> tuple[InMemorySuppressionStore, set[int]]:
    """A store holding what the erasure of every ``1/share``-th person's first record left."""
    step = max(1, round(1 / share))
    first: dict[int, SourceRecord] = {}
    for person, record in records:
        if person % step == 0:
            first.setdefault(person, record)
    at = datetime(2026, 3, 1, tzinfo=UTC)
    entries: list[SuppressionEntry] = []
    for person, record in first.items():
        erasure = f"req-{person}"
        entries += [
            SuppressionEntry(keyed_hash(SALT, i.key), "source", erasure, at) for i in record.identifiers
        ]
        entries += fingerprint_entries([record], policy, SALT, erasure, at)
    store = InMemorySuppressionStore()
    store.suppress(entries)
    return store, set(first)


def _run(
    records: Sequence[SourceRecord],
    store: InMemorySuppressionStore,
    model: LinkageModel | None,
    policy: IdentityPolicy,
) -> tuple[float, set[str]]:
    check = SuppressionCheck(store, SALT)  # its memory of hashes starts empty, as in a new process
    dropped: set[str] = set()
    cpu = time.process_time()
    for start in range(0, len(records), BATCH):
        _, out = check.split(records[start : start + BATCH], model, policy)
        dropped.update(r.key for r in out)
    return time.process_time() - cpu, dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10000)
    parser.add_argument("--erased", type=float, default=0.1, help="the share of the people erased")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    policy = IdentityPolicy()
    pairs = _records(args.people)
    records = [r for _, r in pairs]
    for record in records:
        graph_node(record, policy)  # prepared as the link graph prepares them anyway
    store, erased = _erase(pairs, args.erased, policy)
    person_of = {r.key: p for p, r in pairs}
    model = default_model()
    best: dict[str, float] = {}
    drops: dict[str, set[str]] = {}
    for _ in range(args.repeat):
        for name, with_model in (("identifiers", None), ("with fingerprints", model)):
            cpu, dropped = _run(records, store, with_model, policy)
            best[name] = min(best.get(name, cpu), cpu)
            drops[name] = dropped
    print(
        f"suppression check at merge, {len(records):,} records of {args.people:,} people, "
        f"{len(erased):,} erased, batches of {BATCH}, best of {args.repeat}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    per = {name: cpu / len(records) * 1e6 for name, cpu in best.items()}
    for name, us in per.items():
        print(f"  {name:18} {us:7.2f} CPU µs a record")
    added = per["with fingerprints"] - per["identifiers"]
    fuzzy = drops["with fingerprints"] - drops["identifiers"]
    theirs = sum(1 for p in person_of.values() if p in erased)
    strangers = sum(1 for k in fuzzy if person_of[k] not in erased)
    print(
        f"  dropped by identifiers {len(drops['identifiers']):,}, by fingerprints {len(fuzzy):,} more "
        f"(of {theirs:,} records of the erased people; {strangers} of anybody else)"
    )
    print(f"  added {added:.2f} CPU µs a record: {added / LIMIT_US:.2f} of its limit ({LIMIT_US:.0f} µs)")


if __name__ == "__main__":
    main()
