"""Round 31's bench changes for issue 13: the baseline bench runs each side on the code it names, and
the bounds bench's per-record unit adds up every step it names.

``bench.linkage_baseline`` reads issue 13's ratio against the exact-only ingest of the commit the
issue was filed against: a side that silently imported this worktree's ``core`` instead of the old
tree's would print today's rate under the old commit's name. ``bench.linkage_bounds`` sums the
replayed steps a compiled record struct would take over: a step left out of the sum (a label
misspelt in ``UNIT``) would understate the bound.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.linkage_baseline import _side
from bench.linkage_bounds import UNIT, record_inputs, replayed
from connectors.jsonl import draft_from_flat
from core.testing.varied_population import varied_population

_FAKE = {
    "connectors/__init__.py": "",
    "connectors/jsonl/__init__.py": "def draft_from_flat(flat):\n    return flat\n",
    "core/__init__.py": "",
    "core/schema.py": "class SourceRecord:\n    pass\n",
    "core/normalise/__init__.py": (
        "from core.schema import SourceRecord\n"
        "class NormaliseOptions:\n"
        "    def __init__(self, default_region):\n"
        "        pass\n"
        "def normalise_record(draft, options):\n"
        "    return SourceRecord() if draft.get('keep') else 'quarantined'\n"
    ),
    "core/pipeline.py": (
        "SEEN = []\n"
        "class IngestSettings:\n"
        "    pass\n"
        "def ingest(batch, store, settings):\n"
        "    store.items.extend(batch)\n"
    ),
    "core/runtime.py": ("import contextlib\n@contextlib.contextmanager\ndef bulk_gc():\n    yield\n"),
    "core/storage/__init__.py": "",
    "core/storage/memory.py": (
        "class InMemoryProfileStore:\n"
        "    def __init__(self):\n"
        "        self.items = []\n"
        "    def iter_profiles(self):\n"
        "        return iter(self.items * 7)\n"
    ),
}


def test_a_baseline_side_runs_the_core_under_its_root(tmp_path: Path) -> None:
    # GIVEN a project tree whose core is not this worktree's (a store that reports 7 profiles a record)
    root = tmp_path / "old"
    for name, text in _FAKE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    flats = tmp_path / "flats.json"
    flats.write_text(json.dumps([{"keep": True}, {"keep": False}, {"keep": True}]))
    # WHEN one side runs there
    result = _side(root, str(flats), "exact", 100)
    # THEN it normalised and ingested with that tree's code, not the installed project's
    assert result["records"] == 3
    assert result["quarantined"] == 1
    assert result["profiles"] == 14
    assert result["cpu"] >= 0


def test_the_per_record_unit_sums_every_step_it_names() -> None:
    # GIVEN one probabilistic run's inputs, recorded
    drafts = [draft_from_flat(f) for _, f in varied_population(40, seed=3)]
    inputs = record_inputs(drafts, batch_size=20)
    # WHEN its steps are replayed
    steps = replayed(inputs, 1)
    # THEN every step the unit names was replayed (none left out of the sum), preparing and deciding
    # among them
    assert set(steps) >= UNIT
    assert "deciding the fresh pairs (decide)" in UNIT
    assert "preparing the batch's records as nodes (_graph_node)" in UNIT
    assert len(UNIT) == 5
