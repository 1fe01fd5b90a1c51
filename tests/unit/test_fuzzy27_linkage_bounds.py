"""bench.linkage_bounds: each candidate's bound is a replay of exactly what ingest gave the step.

The bounds are only worth reading if the replay runs over the inputs ingest really gave each step: a
wrapper at a name ingest no longer calls through records nothing (and the bound reads 0), one at a
cache's entry point records its hits too (and the bound reads high). So the pairs recorded must be
the pairs the run's decision cache scored afresh, decided the same way again, and the records the
ones the run prepared, each once; and the wrappers must be gone after the run.
"""

from __future__ import annotations

import core.link_nodes
import core.link_reach
import core.linkage
import core.linkage.linking
from bench.linkage_bounds import record_inputs
from connectors.jsonl import draft_from_flat
from core.linkage import decide
from core.testing.varied_population import varied_population


def test_the_replay_is_of_the_pairs_and_records_ingest_worked_on() -> None:
    # GIVEN a varied population ingested in batches, probabilistic identity on
    before = (core.link_reach.decide, core.linkage.linking._explained, core.link_nodes._graph_node)
    drafts = [draft_from_flat(f) for _, f in varied_population(80, seed=3)]
    # WHEN its steps' inputs are recorded
    inputs = record_inputs(drafts, batch_size=40)
    # THEN every pair the decision cache scored afresh was recorded once, and decides as it did
    assert inputs.scored > 0
    assert len(inputs.pairs) == inputs.scored
    keys = [tuple(sorted((a.key, b.key))) for a, b, _ in inputs.pairs]
    assert len(set(keys)) == len(keys)
    outcomes = {decide(a, b, m).outcome for a, b, m in inputs.pairs}
    assert "link" in outcomes
    assert "no_link" in outcomes
    # the explained pairs are those of them that are no clear non-match (links among them)
    explained = {tuple(sorted((a.key, b.key))) for a, b, _ in inputs.explained}
    assert explained
    assert explained <= set(keys)
    linked = {tuple(sorted((a.key, b.key))) for a, b, m in inputs.pairs if decide(a, b, m).outcome == "link"}
    assert linked <= explained
    # every record was prepared as a node once (none is a later version in this population)
    prepared = [record.key for record, _ in inputs.records]
    assert len(prepared) == len(set(prepared)) == len(drafts)
    assert inputs.later_versions == 0
    # and the wrappers are gone: a later run times the code, not them
    assert (core.link_reach.decide, core.linkage.linking._explained, core.link_nodes._graph_node) == before
    assert core.link_reach.decide is core.linkage.decide
