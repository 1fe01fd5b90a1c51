"""core.link_plan._read_back: which members of the batch's keys the re-check (core.link_recheck)
counts as read, worked out by set operations over the scope's filings, against the per-member
rule it replaces (kept here as the oracle: ``_reference``).

Every call ingest makes is checked, on the varied population in shuffled batches of several sizes
(new versions, moved people, crowded keys read as places) and in every interleaving of a writer
filing a new version while another reads it (tests/integration/test_conc19_changed_version.py:
the member found under a key its stored fields do not give) and of three writers whose records are
filed and not yet stored when the others read (test_conc19_filed_since_read.py).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

import pytest

import core.link_plan
import core.link_recheck
from bench.linkage_throughput import _ingest_all
from connectors.jsonl import draft_from_flat
from core.link_nodes import index_keys
from core.link_scope import LinkageSettings, Scope
from core.pipeline import IngestSettings
from core.storage.memory import InMemoryProfileStore
from core.testing.varied_population import varied_population


def _reference(scope: Scope, new_keys: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
    """The rule as it was written first: each member tested by the keys of the node the scope holds."""
    keys_of: dict[str, frozenset[str]] = {}

    def scored_here(member: str, key: str) -> bool:
        if member in scope.unowned:
            return False
        node = scope.nodes.get(member)
        if node is None:
            return True
        if member not in keys_of:
            keys_of[member] = frozenset(index_keys(node, scope.model, retired=True))
        return key in keys_of[member]

    return {
        k: frozenset(m for m in scope.as_read[k] if scored_here(m, k))
        for keys in new_keys.values()
        for k in keys
        if k in scope.as_read
    }


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Every ``_read_back`` ingest calls compared with ``_reference``; counts of what was met."""
    seen = {"calls": 0, "left out": 0, "left out though held": 0}
    fast = core.link_plan._read_back

    def both(scope: Scope, new_keys: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
        got, want = fast(scope, new_keys), _reference(scope, new_keys)
        assert got == want
        seen["calls"] += 1
        for k, kept in want.items():
            out = scope.as_read[k] - kept
            seen["left out"] += len(out)
            seen["left out though held"] += len(out & scope.nodes.keys())
        return got

    monkeypatch.setattr(core.link_plan, "_read_back", both)
    # every re-check run, so that every batch's read back is worked out (alone, a writer skips it)
    monkeypatch.setattr(core.link_recheck, "nobody_else_wrote", lambda store, mark: False)
    return seen


@pytest.mark.parametrize(("seed", "sizes"), [(3, (100,)), (5, (1, 7, 37, 100)), (8, (13, 250))])
def test_the_varied_population_in_shuffled_batches(
    checked: dict[str, int], seed: int, sizes: tuple[int, ...]
) -> None:
    drafts = [draft_from_flat(f) for _, f in varied_population(300, seed=seed)]
    random.Random(seed).shuffle(drafts)
    store = InMemoryProfileStore()
    settings = IngestSettings(linkage=LinkageSettings())
    start = 0
    for size in sizes * 20:
        _ingest_all(drafts[start : start + size], store, settings, size)
        start += size
        if start >= len(drafts):
            break
    assert checked["calls"] > 5


def test_a_new_version_filed_while_another_writer_reads(checked: dict[str, int]) -> None:
    from tests.integration.test_conc19_changed_version import NEW_CRM, _calls, _interleaved

    for a in range(_calls("memory", NEW_CRM) + 1):
        _interleaved("memory", a, 6)
    assert checked["left out though held"] > 0  # the old version held, its new keys' reads left out


def test_records_filed_and_not_stored_when_the_others_read(checked: dict[str, int]) -> None:
    from tests.integration.test_conc19_filed_since_read import _three

    for k in range(12):
        for j in (0, 3, 6):
            _three("memory", k, j)
    assert checked["left out"] > checked["left out though held"]  # unowned members met
