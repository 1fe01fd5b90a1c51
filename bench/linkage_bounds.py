"""The most each remaining candidate for issue 13's throughput could save, measured before building it.

Issue 13's last open target is probabilistic ingest at >= 0.5x exact ingest's rate
(bench.linkage_throughput). Each candidate removes part of one step of the linkage; the most it can
save is what that step costs. This bench runs probabilistic ingest once (normalise + ingest into the
in-memory store, batches of ``--batch``, the varied population, as bench.linkage_throughput does),
keeping the pairs it decided afresh and the records it prepared as graph nodes, then replays each
step alone over exactly those inputs (CPU time, best of ``--repeat``), in µs a record:

- ``weighing the fresh pairs``: the fused weigh (core.linkage.scoring.pair_weigh) of every pair
  ingest decided afresh. Exact pruning of pairs (stop once the best the remaining fields can add
  cannot reach the review threshold) skips part of each weigh: it saves less than this.
- ``deciding the fresh pairs``: ``core.linkage.decide`` on the same pairs (the weigh, then the
  per-field explanation of the pairs that are no clear non-match, and the decision).
- ``explaining the pairs decide explains``: ``score_pair`` over the pairs that are no clear non-match
  (links, reviews): what building their per-field reasons only when asked could save.
- ``preparing the batch's records as nodes``: ``core.link_nodes._graph_node`` (comparison features,
  blocking keys, values) of every record ingest prepared; each record is prepared once already
  (kept on the record), so features per record instead of per pair are this already.
- ``filing orders``, ``index keys`` and ``match documents`` of those records (round 31), and the
  per-record unit (``UNIT``): preparing, the keys, the orders, the document and deciding together,
  what a record's node held as one compiled struct would take over, so the most that could save.

It also counts the records delivered as later versions of a record ingest saw before (a pair cache by
the two records' versions can hit only on pairs of those), and runs both modes with the collector off
(``gc.disable()``) and as the throughput bench runs them (``bulk_gc``), the modes and settings taking
turns: the collector's share of the ratio. Replayed steps run with their caches warm (each input
seen once by ingest), so a replay costs about half what the step costs inside ingest
(docs/identity.md, Throughput): read the figures as what the step costs at least.

    python -m bench.linkage_bounds [--people 1000] [--batch 100] [--repeat 5]

``--only MODE --runs N`` runs only that mode's ingest N times in one process and prints nothing else:
for counting instructions, which the load does not move (``PYTHONHASHSEED=0 valgrind --tool=callgrind
python -m bench.linkage_bounds --people 300 --only probabilistic --runs 2``, and ``--runs 1``: the
difference is one warm run, the one the throughput bench's best of several stands for).
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import core.link_nodes
import core.link_reach
import core.linkage.linking
from bench.linkage_throughput import _ingest_all
from connectors.jsonl import draft_from_flat
from core.link_match import match_document
from core.link_nodes import index_keys, node_orders
from core.link_scope import LinkageSettings
from core.linkage import Decision, LinkageModel, LinkageRecord, decide, default_model
from core.linkage.scoring import pair_weigh, score_pair
from core.pipeline import IngestSettings
from core.runtime import bulk_gc
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.varied_population import varied_population

__all__ = ["UNIT", "Inputs", "collector_share", "record_inputs", "replayed"]

UNIT: frozenset[str] = frozenset(
    {
        "deciding the fresh pairs (decide)",
        "preparing the batch's records as nodes (_graph_node)",
        "filing orders of the prepared nodes (node_orders)",
        "index keys of the prepared nodes (index_keys)",
        "match documents of the records (match_document)",
    }
)
"""The replayed steps a record's node held as one compiled struct would take over (``decide``
includes the weigh and the explanation, so those two are not added again)."""

Pair = tuple[LinkageRecord, LinkageRecord, LinkageModel]


@dataclass
class Inputs:
    """What one probabilistic run gave its steps: the pairs decided afresh (``decide``), the pairs of
    them that ``decide`` explained, the records prepared as graph nodes, and the records that were a
    later version of a record seen before in the run."""

    pairs: list[Pair] = field(default_factory=list)
    explained: list[Pair] = field(default_factory=list)
    records: list[tuple[SourceRecord, Any]] = field(default_factory=list)
    later_versions: int = 0
    scored: int = 0
    """The pairs the run's decision cache counts as scored afresh (``DecisionCache.scored``)."""


@contextmanager
def _recording(inputs: Inputs) -> Iterator[None]:
    """Keep each step's inputs as ingest calls it, at the names it calls them through; undone on exit."""
    deciding, explaining, preparing = (
        core.link_reach.decide,
        core.linkage.linking._explained,
        core.link_nodes._graph_node,
    )

    def decided(a: LinkageRecord, b: LinkageRecord, model: LinkageModel) -> Decision:
        inputs.pairs.append((a, b, model))
        return deciding(a, b, model)

    def explained(a: LinkageRecord, b: LinkageRecord, model: LinkageModel) -> Decision:
        inputs.explained.append((a, b, model))
        return explaining(a, b, model)

    def prepared(record: SourceRecord, policy: Any) -> Any:
        inputs.records.append((record, policy))
        return preparing(record, policy)

    core.link_reach.decide = decided  # type: ignore[assignment]
    core.linkage.linking._explained = explained
    core.link_nodes._graph_node = prepared
    try:
        yield
    finally:
        core.link_reach.decide = deciding
        core.linkage.linking._explained = explaining
        core.link_nodes._graph_node = preparing


def record_inputs(drafts: Sequence[Any], batch_size: int) -> Inputs:
    """One probabilistic run over ``drafts``, keeping what each step was given (``Inputs``)."""
    inputs = Inputs()
    settings = IngestSettings(linkage=LinkageSettings())
    with _recording(inputs), bulk_gc():
        _ingest_all(drafts, InMemoryProfileStore(), settings, batch_size)
    assert settings.linkage is not None
    inputs.scored = settings.linkage.decisions.scored
    seen: set[str] = set()
    for record, _ in inputs.records:
        inputs.later_versions += record.key in seen
        seen.add(record.key)
    return inputs


def replayed(inputs: Inputs, repeat: int) -> dict[str, float]:
    """Each step replayed alone over its inputs: the best CPU seconds of ``repeat`` runs."""
    steps: dict[str, Callable[[], object]] = {
        "weighing the fresh pairs (pair_weigh)": lambda: [pair_weigh(m)(a, b) for a, b, m in inputs.pairs],
        "deciding the fresh pairs (decide)": lambda: [decide(a, b, m) for a, b, m in inputs.pairs],
        "explaining the pairs decide explains (score_pair)": lambda: [
            score_pair(a, b, m) for a, b, m in inputs.explained
        ],
        "preparing the batch's records as nodes (_graph_node)": lambda: [
            core.link_nodes._graph_node(r, p) for r, p in inputs.records
        ],
    }
    model = default_model()
    nodes = [core.link_nodes._graph_node(r, p) for r, p in inputs.records]
    records = [r for r, _ in inputs.records]
    # The unit a compiled record struct would take whole (round 31): a record prepared once, then
    # its blocking and index keys, its places in its keys' orders and its match document read from
    # it, and its pairs decided from it; what the unit costs, so the most compiling it could save.
    steps["filing orders of the prepared nodes (node_orders)"] = lambda: [node_orders(n) for n in nodes]
    steps["index keys of the prepared nodes (index_keys)"] = lambda: [index_keys(n, model) for n in nodes]
    steps["match documents of the records (match_document)"] = lambda: [match_document(r) for r in records]
    best: dict[str, float] = {}
    clock = time.process_time
    for _ in range(repeat):
        for label, step in steps.items():
            start = clock()
            step()
            best[label] = min(best.get(label, float("inf")), clock() - start)
    return best


def collector_share(drafts: Sequence[Any], batch_size: int, repeat: int) -> dict[tuple[str, str], float]:
    """CPU seconds of each mode with the collector as the throughput bench runs it (``bulk_gc``) and
    off, the best of ``repeat`` turns; a full collection between runs, so that no run inherits the
    previous one's young passes."""
    best: dict[tuple[str, str], float] = {}
    for _ in range(repeat):
        for mode in ("exact", "probabilistic"):
            for collector in ("on", "off"):
                settings = IngestSettings() if mode == "exact" else IngestSettings(linkage=LinkageSettings())
                gc.collect()
                with bulk_gc():
                    if collector == "off":
                        gc.disable()
                    try:
                        start = time.process_time()
                        _ingest_all(drafts, InMemoryProfileStore(), settings, batch_size)
                        spent = time.process_time() - start
                    finally:
                        gc.enable()
                best[(mode, collector)] = min(best.get((mode, collector), spent), spent)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", choices=("exact", "probabilistic"), help="run only this mode's ingest")
    parser.add_argument("--runs", type=int, default=1, help="with --only: how many runs in one process")
    args = parser.parse_args()
    drafts = [draft_from_flat(f) for _, f in varied_population(args.people, seed=3)]
    count = len(drafts)
    if args.only is not None:
        for _ in range(args.runs):
            linkage = LinkageSettings() if args.only == "probabilistic" else None
            with bulk_gc():
                _ingest_all(drafts, InMemoryProfileStore(), IngestSettings(linkage=linkage), args.batch)
        return
    print(
        f"issue 13's candidates, bounded: varied population, {args.people:,} people ({count:,} records), "
        f"batches of {args.batch}; load average {os.getloadavg()[0]:.1f}"
    )
    shares = collector_share(drafts, args.batch, max(1, args.repeat // 2))
    for (mode, collector), seconds in shares.items():
        print(f"  {mode:14} ingest, collector {collector:3}: {seconds / count * 1e6:7.1f} µs a record")
    for collector in ("on", "off"):
        ratio = shares[("exact", collector)] / shares[("probabilistic", collector)]
        print(f"  ratio (probabilistic rate / exact rate), collector {collector}: {ratio:.3f}x")
    inputs = record_inputs(drafts, args.batch)
    print(
        f"  one probabilistic run: {len(inputs.pairs):,} pairs decided afresh ({inputs.scored:,} scored), "
        f"{len(inputs.explained):,} of them explained, {len(inputs.records):,} records prepared as nodes, "
        f"{inputs.later_versions:,} of them later versions of a record seen before"
    )
    print("  each step replayed alone over those inputs, CPU µs a record (best of the repeats):")
    steps = replayed(inputs, args.repeat)
    for label, seconds in steps.items():
        print(f"    {label:56} {seconds / count * 1e6:7.1f}")
    unit = sum(seconds for label, seconds in steps.items() if label in UNIT)
    print(f"    {'the per-record unit (the steps marked in UNIT)':56} {unit / count * 1e6:7.1f}")
    print(f"  load average after: {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
