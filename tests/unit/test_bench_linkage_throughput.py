"""bench.linkage_throughput: --parts times the linkage's parts where ingest calls them; --counts
counts the pairs decided in passing.

The parts are timed by wrapping functions at the names ingest calls them through; if a call site
moved (a function renamed, imported under another name, or no longer called), its part would read
0 and the table would quietly point the next round at the wrong place. Every part must be seen
working on a varied population, the parts must nest inside the linkage's total, and the wrappers
must be gone afterwards (a later run times the code, not the wrappers).

A pair decided in passing is one no key pairs once every record is in (a chain's neighbours before a
later record came between them): one batch of every record decides none, batches of ten some.
"""

from __future__ import annotations

import gc

import pytest

import core.link_plan
import core.link_reach
import core.link_scope_graph
from bench.linkage_throughput import COLLECTOR, PARTS, linkage_parts, work_counts
from connectors.jsonl import draft_from_flat
from core.runtime import bulk_gc
from core.testing.varied_population import varied_population


def test_every_part_is_timed_inside_the_linkage_and_the_wrappers_go() -> None:
    decide_keys = core.link_reach.DecisionCache.decide_keys
    before = (core.link_plan.changes_for, decide_keys, core.link_scope_graph.reachable)
    drafts = [draft_from_flat(f) for _, f in varied_population(120, seed=3)]
    parts = linkage_parts(drafts, batch_size=50)
    labels = {"exact ingest", "probabilistic ingest", *(label for label, *_ in PARTS), *COLLECTOR.values()}
    assert set(parts) == labels
    assert all(parts[label] > 0 for label, *_ in PARTS), parts
    linkage = parts["the linkage (plan_linked)"]
    assert linkage < parts["probabilistic ingest"]
    walk = parts["the walk, deciding included (reachable)"]
    assert parts["deciding pairs (DecisionCache.decide_keys)"] < walk < linkage
    after = (
        core.link_plan.changes_for,
        core.link_reach.DecisionCache.decide_keys,
        core.link_scope_graph.reachable,
    )
    assert after == before
    assert not [c for c in gc.callbacks if c.__qualname__.startswith("_collector")]  # the timing goes too


def test_the_collector_passes_are_timed_in_each_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a collector that runs a pass every 100 net allocations (many passes over a small run)
    monkeypatch.setattr("bench.linkage_throughput.bulk_gc", lambda: bulk_gc((100, 10, 10)))
    drafts = [draft_from_flat(f) for _, f in varied_population(40, seed=3)]
    # WHEN the parts are timed
    parts = linkage_parts(drafts, batch_size=50, repeat=1)
    # THEN each mode's passes took some of its time, and less than all of it
    for mode, label in COLLECTOR.items():
        assert 0 < parts[label] < parts[mode], parts


def test_pairs_decided_in_passing_are_none_in_one_batch_and_some_in_small_batches() -> None:
    drafts = [draft_from_flat(f) for _, f in varied_population(150, seed=3)]
    whole = {k: round(v * len(drafts)) for k, v in work_counts(drafts, len(drafts)).items()}
    small = {k: round(v * len(drafts)) for k, v in work_counts(drafts, 10).items()}
    passing = "of them no candidates at the end"
    assert whole["pairs decided"] > 0
    assert whole[passing] == 0
    assert 0 < small[passing] < small["pairs decided"]
    assert small["pairs decided"] - small[passing] == whole["pairs decided"]
