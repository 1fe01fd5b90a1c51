"""Issue 13's throughput target read against both baselines: the exact-only core as it was when the
issue was filed, and as it is now.

Issue 13 asks ingest with fuzzy matching on to keep ">= 0.5x today's exact-only core throughput",
written against commit 34ae094 (main when the linkage branch started: the first linkage commit,
baf17c8, is its child). Exact-only ingest has since become faster, so the ratio against the code of
now is the harder one; both are printed, neither stands for the other.

    python -m bench.linkage_baseline --old DIR [--people 1000] [--batch 100] [--repeat 3]

``DIR`` holds the project's files at the filing commit, e.g.
``mkdir /tmp/old && git archive 34ae094 | tar -x -C /tmp/old``. The varied population (and the plain
one) is generated once by this code and written to a file; each run is a fresh process that reads it,
normalises (region GB) and ingests it in batches of 100 into the in-memory store under ``bulk_gc``,
as ``bench.linkage_throughput`` does, and prints its CPU time. The three sides (exact at the filing
commit, exact now, probabilistic now) take turns ``--repeat`` times and each keeps its best CPU rate.
The filing commit's normalise quarantines a record without email or phone (issue 13 taught it to
keep one with enough other identity): its side counts those records in its rate, as the bench of that
time did, and the line says how many it quarantined.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_RATIO = 0.5
_HERE = Path(__file__).resolve().parent.parent


def run_side(flats_path: str, mode: str, batch_size: int) -> dict[str, Any]:
    """Normalise and ingest the flats in ``flats_path`` with the ``core`` this process imports
    (exact, or probabilistic with the shipped model); its CPU seconds, records, quarantined and
    profiles made."""
    from connectors.jsonl import draft_from_flat
    from core.normalise import NormaliseOptions, normalise_record
    from core.pipeline import IngestSettings, ingest
    from core.runtime import bulk_gc
    from core.schema import SourceRecord
    from core.storage.memory import InMemoryProfileStore

    settings: Any = IngestSettings()
    if mode == "probabilistic":
        from core.link_scope import LinkageSettings

        settings = IngestSettings(linkage=LinkageSettings())
    flats = json.loads(Path(flats_path).read_text())
    drafts = [draft_from_flat(f) for f in flats]
    options = NormaliseOptions(default_region="GB")
    store = InMemoryProfileStore()
    quarantined = 0
    with bulk_gc():
        cpu = time.process_time()
        batch: list[Any] = []
        for draft in drafts:
            outcome = normalise_record(draft, options)
            if isinstance(outcome, SourceRecord):
                batch.append(outcome)
            else:
                quarantined += 1
            if len(batch) == batch_size:
                ingest(batch, store, settings)
                batch = []
        ingest(batch, store, settings)
        cpu = time.process_time() - cpu
    profiles = sum(1 for _ in store.iter_profiles())
    return {"cpu": cpu, "records": len(drafts), "quarantined": quarantined, "profiles": profiles}


def _side(root: Path, flats_path: str, mode: str, batch_size: int) -> dict[str, Any]:
    """One run in a fresh process whose ``core`` is the one under ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONHASHSEED": "0"}
    # This file is loaded by its path: the filing commit's tree has a ``bench`` package of its own.
    code = (
        "import importlib.util, json, sys; sys.path.insert(0, sys.argv[1]); "
        f"spec = importlib.util.spec_from_file_location('linkage_baseline_side', {__file__!r}); "
        "side = importlib.util.module_from_spec(spec); spec.loader.exec_module(side); "
        "print(json.dumps(side.run_side(sys.argv[2], sys.argv[3], int(sys.argv[4]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(root), flats_path, mode, str(batch_size)],
        env=env,
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="the project's files at the filing commit")
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    from core.testing.population import population
    from core.testing.varied_population import varied_population

    old = Path(args.old).resolve()
    sides = {
        "exact, filing commit": (old, "exact"),
        "exact, now": (_HERE, "exact"),
        "probabilistic, now": (_HERE, "probabilistic"),
    }
    print(
        f"issue 13's ratio against both baselines, {args.people:,} people, batches of {args.batch}, "
        f"best of {args.repeat} by CPU time; load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name, flats in (
            ("varied population", [f for _, f in varied_population(args.people, seed=3)]),
            ("plain population", [f for _, f in population(args.people, seed=3)]),
        ):
            path = str(Path(tmp) / "flats.json")
            Path(path).write_text(json.dumps(flats, default=str))
            best: dict[str, dict[str, Any]] = {}
            for _ in range(args.repeat):
                for label, (root, mode) in sides.items():
                    result = _side(root, path, mode, args.batch)
                    if label not in best or result["cpu"] < best[label]["cpu"]:
                        best[label] = result
            print(f"  {name} ({len(flats):,} records)")
            for label, result in best.items():
                rate = result["records"] / result["cpu"]
                print(
                    f"    {label:22} {rate:8,.0f} records/CPU-s ({result['quarantined']:,} quarantined, "
                    f"{result['profiles']:,} profiles)"
                )
            fuzzy = best["probabilistic, now"]["cpu"]
            for label in ("exact, filing commit", "exact, now"):
                ratio = best[label]["cpu"] / fuzzy
                print(f"    probabilistic now / {label}: {ratio:.3f}x (target >= {TARGET_RATIO}x)")
    print(f"  load average after: {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
