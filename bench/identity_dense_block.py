"""A dense block with probabilistic identity: many different Smiths in one postcode, against the same
number of people spread over many surnames and postcodes, in one run.

Target (issue 13, "huge blocks"): blocking keys have a size limit like the identifier guardrails, so
a dense block costs about what the same number of ordinary people cost. Both populations
(core.testing.dense_block) go through ``profilesync resolve``'s path (normalise, then ingest in
batches of 100) into an embedded SQLite store in memory, with the shipped model.

    python -m bench.identity_dense_block [--people 800]

Printed: seconds, pairs decided and review items of each, and the ratio (dense seconds / spread
seconds) / LIMIT: <= 1.00 meets the target. Times are noisy on a shared machine; the pair and review
counts are not.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import core.link_reach
from connectors.jsonl import draft_from_flat
from core.config import IdentitySection
from core.link_scope import LinkageSettings
from core.link_settings import linkage_settings
from core.linkage import decide
from core.pipeline import IngestSettings
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.testing.dense_block import smiths, spread_people
from profilesync.resolve import resolve

#: A dense block may cost this many times the time of as many ordinary people.
LIMIT = 3.0


def run(lines: list[dict[str, Any]]) -> tuple[float, int, int]:
    """(seconds, pairs decided, review items) for resolving ``lines``."""
    shipped = linkage_settings(IdentitySection(mode="probabilistic"))
    assert shipped is not None
    settings = IngestSettings(linkage=LinkageSettings(model=shipped.model, model_name=shipped.model_name))
    decided = [0]

    def counting(a: Any, b: Any, model: Any) -> Any:
        decided[0] += 1
        return decide(a, b, model)

    # every pair ingest scores goes through the decision cache's call of decide
    core.link_reach.decide = counting
    try:
        store = SQLiteProfileStore(SQLiteDatabase(":memory:"))
        start = time.perf_counter()
        report = resolve((draft_from_flat(dict(line)) for line in lines), store, settings=settings)
        elapsed = time.perf_counter() - start
    finally:
        core.link_reach.decide = decide
    return elapsed, decided[0], report.ingest.reviews


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=800)
    args = parser.parse_args()
    spread = run(spread_people(args.people))
    dense = run(smiths(args.people))
    for name, (seconds, pairs, reviews) in (("spread", spread), ("dense", dense)):
        print(
            f"{name:>6}: {args.people:,} people  {seconds:7.1f} s  {pairs:9,} pairs decided  "
            f"{reviews:9,} reviews"
        )
    ratio = dense[0] / spread[0]
    print(
        f"dense/spread time {ratio:.1f}x; ratio to the limit ({LIMIT:.0f}x): {ratio / LIMIT:.2f} "
        "(<= 1.00 meets it)"
    )


if __name__ == "__main__":
    main()
