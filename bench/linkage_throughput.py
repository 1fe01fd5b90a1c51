"""Ingest throughput with probabilistic identity on, against exact identifiers, measured in one run.

Target (issue 13): ingest with fuzzy matching on keeps >= 0.5x the exact-only core throughput.

Both modes run the same records through the same core path as bench.core_throughput (normalise +
ingest in batches of 100 into the in-memory store, on one core): the demo population varied as
tools vary people (core.testing.varied_population: birth dates and addresses, work emails,
nicknames, typos, old addresses), and the plain demo population (exact identifiers find everyone).
Probabilistic mode is ``IngestSettings(linkage=LinkageSettings())`` with the shipped model, as
``identity.mode: probabilistic`` gives: each batch files its records under their blocking keys,
reads the candidates, scores the pairs and builds the link graph over what it touches.

    python -m bench.linkage_throughput [--people 3000] [--batch 100] [--repeat 3] [--counts] [--parts]

Each mode runs ``--repeat`` times, the two modes taking turns, and its best run counts, so that a
burst of load from elsewhere does not land on one mode only. Rates are printed by wall-clock time
and by the process's CPU time (ingest runs on one thread, so on an idle machine the two agree; on a
shared one the CPU figure is the steadier). The ratio printed is (probabilistic rate / exact rate)
/ 0.5 by CPU time: >= 1.00 meets the target. The load average is printed with the figures, and
each population's line counts the candidate pairs probabilistic ingest scored (decided afresh, not
from its cache), per record: the work that grows with the population (docs/identity.md, Throughput).
``--counts`` adds one untimed probabilistic run through a counting store: per record, the candidates
read (records outside the batch whose match fields a scope read), the records the walks reached, the
re-checks run, the index keys read (and the members they held), the index keys written,
the identifier items read and the store requests (calls that are one request, or one batch of
requests, to a remote store), the pairs decided and, of them, those no key pairs once every record
is in: decided while a chain or a block was smaller (what grows with the population).
``--parts`` adds where probabilistic ingest's extra CPU goes: each part of the linkage (``PARTS``)
timed by ``time.process_time`` around the calls ingest makes (the outermost call of each, so a part
called from within itself is counted once), best of two runs with exact ingest, in µs a record; a
part is inclusive of the parts it calls. With it the collector's passes in each mode
(``gc.callbacks``, CPU time from each pass's start to its stop): not a part of the linkage, but a
share of both modes that grows with what a process keeps (docs/identity.md, Throughput).
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


def rate(drafts: Sequence[Any], settings: IngestSettings, batch_size: int) -> tuple[float, float, int]:
    """Records per second through normalise + ingest (by wall-clock and by CPU time), and the
    profiles made. With probabilistic identity, ``settings.linkage.decisions.scored`` then counts
    the pairs it scored."""
    store = InMemoryProfileStore()
    with bulk_gc():
        start, cpu = time.perf_counter(), time.process_time()
        _ingest_all(drafts, store, settings, batch_size)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return len(drafts) / elapsed, len(drafts) / cpu, sum(1 for _ in store.iter_profiles())


def _ingest_all(
    drafts: Sequence[Any], store: InMemoryProfileStore, settings: IngestSettings, batch_size: int
) -> None:
    """Normalise the drafts and ingest them in batches of ``batch_size``."""
    options = NormaliseOptions(default_region="GB")
    batch: list[SourceRecord] = []
    for draft in drafts:
        outcome = normalise_record(draft, options)
        if isinstance(outcome, SourceRecord):
            batch.append(outcome)
        if len(batch) == batch_size:
            ingest(batch, store, settings)
            batch = []
    ingest(batch, store, settings)


def best_rates(
    drafts: Sequence[Any], modes: dict[str, IngestSettings], batch_size: int, repeat: int
) -> tuple[dict[str, tuple[float, float, int]], int]:
    """Each mode's best wall-clock and best CPU rate over ``repeat`` runs, the modes taking turns,
    and the pairs a probabilistic run scored. A fresh ``LinkageSettings`` per run: its caches start
    empty, as in a new process."""
    best: dict[str, tuple[float, float, int]] = {}
    scored = 0
    for _ in range(repeat):
        for name, settings in modes.items():
            if settings.linkage is not None:
                settings = IngestSettings(linkage=LinkageSettings())
            wall, cpu, profiles = rate(drafts, settings, batch_size)
            if settings.linkage is not None:
                scored = settings.linkage.decisions.scored
            old = best.get(name, (0.0, 0.0, profiles))
            best[name] = (max(old[0], wall), max(old[1], cpu), profiles)
    return best, scored


_REQUESTS = (
    "get_blocks",
    "update_blocks",
    "get_owners",
    "get_customers",
    "commit",
    "get_reviews",
    "put_reviews",
    "drop_reviews",
    "requeue_review",
)
"""The store calls a batch makes (each one request, or one batch of requests, to a remote store)."""


class CountingStore(InMemoryProfileStore):
    """The in-memory store, counting what probabilistic ingest asks of it: the index keys read and
    written, the candidates' identifier items read, and the calls (``_REQUESTS``)."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = dict.fromkeys(
            ("index keys read", "their members", "index keys written", "owner items read", "requests"), 0
        )

    def _count(self, name: str, items: int) -> None:
        self.counts[name] += items
        self.counts["requests"] += 1

    def get_blocks(self, keys: Sequence[str], **how: Any) -> Any:
        self._count("index keys read", len(keys))
        found = super().get_blocks(keys, **how)
        self.counts["their members"] += sum(len(state.members) for state in found.values())
        return found

    def update_blocks(self, changes: Sequence[Any]) -> None:
        self._count("index keys written", len(changes))
        super().update_blocks(changes)

    def get_owners(self, keys: Sequence[str]) -> Any:
        self._count("owner items read", len(keys))
        return super().get_owners(keys)

    def __getattribute__(self, name: str) -> Any:
        if name in _REQUESTS[3:]:
            object.__getattribute__(self, "counts")["requests"] += 1
        return object.__getattribute__(self, name)


def work_counts(drafts: Sequence[Any], batch_size: int) -> dict[str, float]:
    """One untimed probabilistic run: per record, the candidates read (match fields of records not in
    the batch), the records the walks reached (``reachable``, every round), the re-checks that read
    the batch's keys again (a lone writer's are skipped: core.link_changes), the index keys read and
    their members, the index keys written, the owner items read and the store requests."""
    store = CountingStore()
    settings = IngestSettings(linkage=LinkageSettings())
    from core import link_scope

    read = [0]
    original = link_scope.Scope.add_candidates

    def counting(scope: Any, keys: Any, merged_into: Any) -> Any:
        wanted = [k for k in keys if k not in scope.nodes]
        read[0] += len(wanted)
        return original(scope, wanted, merged_into)

    from core import link_recheck, link_scope_graph

    walked, rechecks = [0], [0]
    walk, recheck = link_scope_graph.reachable, link_recheck.filed_since_read

    def walking(*args: Any, **kwargs: Any) -> set[str]:
        found = walk(*args, **kwargs)
        walked[0] += len(found)
        return found

    def rechecking(*args: Any, **kwargs: Any) -> set[str]:
        rechecks[0] += 1
        return recheck(*args, **kwargs)

    link_scope.Scope.add_candidates = counting  # type: ignore[method-assign]
    link_scope_graph.reachable, link_recheck.filed_since_read = walking, rechecking
    try:
        _ingest_all(drafts, store, settings, batch_size)
    finally:
        link_scope.Scope.add_candidates = original  # type: ignore[method-assign]
        link_scope_graph.reachable, link_recheck.filed_since_read = walk, recheck
    assert settings.linkage is not None
    decided = settings.linkage.decisions.known.keys()
    counts = {
        "candidates read": read[0],
        "records walked": walked[0],
        "re-checks run": rechecks[0],
        **store.counts,
        "pairs decided": settings.linkage.decisions.scored,
        "of them no candidates at the end": len(decided - _final_pairs(drafts, settings)),
    }
    return {name: value / len(drafts) for name, value in counts.items()}


def _final_pairs(drafts: Sequence[Any], settings: IngestSettings) -> set[tuple[str, str]]:
    """The candidate pairs of the records' last versions, as one batch of them all would pair them
    (``candidate_pairs``): a pair ingest decided and not among these was a candidate in passing (a
    chain's neighbours before a later record came between them, a block before it grew dense)."""
    from core.linkage.blocking import candidate_pairs
    from core.linkage.fields import from_source_record

    assert settings.linkage is not None
    assert settings.linkage.model is not None
    options = NormaliseOptions(default_region="GB")
    last: dict[str, SourceRecord] = {}
    for draft in drafts:
        outcome = normalise_record(draft, options)
        if isinstance(outcome, SourceRecord):
            last[outcome.key] = outcome
    records = [from_source_record(r) for r in last.values()]
    found = candidate_pairs(records, settings.linkage.model.max_block_size)
    keys = [r.key for r in records]
    return {(keys[a], keys[b]) if keys[a] < keys[b] else (keys[b], keys[a]) for a, b in found.pairs}


PARTS: tuple[tuple[str, str, str | None, str], ...] = (
    ("the linkage (plan_linked)", "core.link_plan", None, "plan_linked"),
    ("the batch's records as nodes (Scope.add_batch)", "core.link_scope", "Scope", "add_batch"),
    ("filing: the index changes (changes_for)", "core.link_plan", None, "changes_for"),
    ("filing: the write-ahead entries (ahead)", "core.link_plan", None, "ahead"),
    ("filing: the store's update_blocks", "core.storage.memory", "InMemoryProfileStore", "update_blocks"),
    ("reading: index keys (Scope.read_index)", "core.link_scope", "Scope", "read_index"),
    ("reading: crowded keys' neighbours (neighbours_to_read)", "core.link_plan", None, "neighbours_to_read"),
    ("reading: candidates as nodes (Scope.add_candidates)", "core.link_scope", "Scope", "add_candidates"),
    ("reading: widening (Scope.widen)", "core.link_scope", "Scope", "widen"),
    ("pairs chains make and unmake (shifted_pairs)", "core.link_plan", None, "shifted_pairs"),
    ("the graph (Scope.graph)", "core.link_scope", "Scope", "graph"),
    ("the walk, deciding included (reachable)", "core.link_scope_graph", None, "reachable"),
    ("deciding pairs (DecisionCache.decide_keys)", "core.link_reach", "DecisionCache", "decide_keys"),
    ("the link graph (link_graph)", "core.link_scope_graph", None, "link_graph"),
    (
        "re-check: skipped, or the keys read again (join_filed_since)",
        "core.link_recheck",
        None,
        "join_filed_since",
    ),
)
"""The parts ``--parts`` times: label, module, class (None: a module-level name), attribute: each at
the name ingest calls it through (tests/unit/test_bench_linkage_throughput.py checks each is
reached). Only calls made a few times a batch are wrapped: ``time.process_time`` costs about a
microsecond, which a wrapper around each pair's ``decide`` added to every pair."""


@contextmanager
def _timed_parts(spent: dict[str, float]) -> Iterator[None]:
    """Wrap every part of ``PARTS`` to add its CPU time to ``spent`` (outermost calls only); undone on
    exit."""
    undo: list[Callable[[], None]] = []
    try:
        for label, module_name, owner_name, attribute in PARTS:
            module = importlib.import_module(module_name)
            owner: Any = getattr(module, owner_name) if owner_name else module
            own = owner.__dict__.get(attribute)
            wrapped = _timer(getattr(owner, attribute), label, spent)
            if owner_name and isinstance(own, staticmethod | classmethod):
                raise TypeError(f"{label}: only plain methods and functions are timed")
            setattr(owner, attribute, wrapped)
            undo.append(
                functools.partial(setattr, owner, attribute, own)
                if own is not None
                else functools.partial(delattr, owner, attribute)
            )
        yield
    finally:
        for step in reversed(undo):
            step()


def _timer(function: Callable[..., Any], label: str, spent: dict[str, float]) -> Callable[..., Any]:
    depth = [0]
    clock = time.process_time

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        if depth[0]:
            return function(*args, **kwargs)
        depth[0] += 1
        start = clock()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + clock() - start
            depth[0] -= 1

    return timed


COLLECTOR = {
    "exact ingest": "the collector's passes in exact ingest",
    "probabilistic ingest": "the collector's passes in probabilistic ingest",
}
"""The labels of each mode's collector passes in ``linkage_parts``."""


def linkage_parts(drafts: Sequence[Any], batch_size: int, repeat: int = 2) -> dict[str, float]:
    """µs a record of exact ingest, probabilistic ingest, each part of its linkage (``PARTS``) and
    each mode's collector passes (``COLLECTOR``), each the best of ``repeat`` runs, the modes taking
    turns."""
    best: dict[str, float] = {}
    for _ in range(repeat):
        for mode in ("exact ingest", "probabilistic ingest"):
            exact = mode == "exact ingest"
            settings = IngestSettings() if exact else IngestSettings(linkage=LinkageSettings())
            spent: dict[str, float] = {COLLECTOR[mode]: 0.0}
            store = InMemoryProfileStore()
            with _untimed() if exact else _timed_parts(spent), _collector(spent, COLLECTOR[mode]), bulk_gc():
                cpu = time.process_time()
                _ingest_all(drafts, store, settings, batch_size)
                spent[mode] = time.process_time() - cpu
            for label, seconds in spent.items():
                best[label] = min(best.get(label, seconds), seconds)
    order = [
        "exact ingest",
        "probabilistic ingest",
        *(label for label, *_ in PARTS),
        *COLLECTOR.values(),
    ]
    return {label: best[label] / len(drafts) * 1e6 for label in order if label in best}


@contextmanager
def _collector(spent: dict[str, float], label: str) -> Iterator[None]:
    """Add the CPU time of every collector pass to ``spent[label]`` while the block runs."""
    started = [0.0]
    clock = time.process_time

    def timing(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = clock()
        else:
            spent[label] += clock() - started[0]

    gc.callbacks.append(timing)
    try:
        yield
    finally:
        gc.callbacks.remove(timing)


@contextmanager
def _untimed() -> Iterator[None]:
    yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--counts", action="store_true", help="also count the store work per record")
    parser.add_argument("--parts", action="store_true", help="also time the linkage's parts (CPU)")
    args = parser.parse_args()
    modes = {"exact": IngestSettings(), "probabilistic": IngestSettings(linkage=LinkageSettings())}
    print(
        f"ingest throughput, exact vs probabilistic identity, {args.people:,} people, batches of "
        f"{args.batch}, best of {args.repeat}; load average {os.getloadavg()[0]:.1f}"
    )
    for name, flats in (
        ("varied population", [f for _, f in varied_population(args.people, seed=3)]),
        ("plain population", [f for _, f in population(args.people, seed=3)]),
    ):
        drafts = [draft_from_flat(f) for f in flats]
        best, scored = best_rates(drafts, modes, args.batch, args.repeat)
        per_record = scored / len(drafts)
        print(f"  {name} ({len(drafts):,} records; {scored:,} pairs scored, {per_record:.1f} a record)")
        for mode, (wall, cpu, profiles) in best.items():
            print(f"    {mode:14} {wall:8,.0f} records/s wall, {cpu:8,.0f} CPU -> {profiles:,} profiles")
        if args.counts:
            counts = work_counts(drafts, args.batch)
            print("    a record, probabilistic: " + ", ".join(f"{v:.1f} {k}" for k, v in counts.items()))
        if args.parts:
            print("    CPU us a record (best of 2; a part includes the parts it calls):")
            for label, micros in linkage_parts(drafts, args.batch).items():
                print(f"      {label:58} {micros:7.1f}")
        wall_ratio = best["probabilistic"][0] / best["exact"][0]
        ratio = best["probabilistic"][1] / best["exact"][1]
        verdict = f"ratio {ratio / TARGET_RATIO:.2f} (>= 1.00 meets it)"
        print(
            f"    {ratio:.2f}x exact by CPU time ({wall_ratio:.2f}x by wall); "
            f"target >= {TARGET_RATIO}x: {verdict}"
        )
    print(f"  load average after: {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
