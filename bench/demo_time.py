"""Demo time: ``profilesync demo`` (3,000 people, as ``make demo`` runs it), phase by phase.

Runs ``profilesync.demo.run_demo`` with the Makefile's defaults and prints each phase's wall-clock
and CPU seconds (the demo's own stages: pulls, merge, push, settle, reading the results), the total,
and the ratio of the total to a stated baseline: 97.4 s, ``make demo`` at commit 54f5088 on a quiet
2-core machine (issue 12's last target: no slower than that). On a shared machine the wall-clock
figure grows with the load (the load average is printed beside it); the CPU seconds much less so.

It also prints what must not change when the demo gets faster, so two runs (two commits) can be
compared: the summary's counts (records pulled, pushed, merged...), a digest of which source
records ended up together in one profile (customer ids are random, so they are left out), and the
table's items by kind at the end (profiles, source records, identifiers, history events, pushes).

With ``--requests`` it also prints the AWS requests each phase sent and the table items they named
(bench.demo_requests): the demo's CPU time is mostly moto's work per request and item, and these
counts, unlike seconds, do not move with the machine's load.

With ``--profile DIR`` each phase runs under cProfile and its statistics are written to
``DIR/run<n>-<phase>.prof`` (``python -m pstats``), timed by this process's CPU clock: cProfile's
default timer is the wall clock, which on a loaded machine charges the waits for a core to whatever
function was running (one round's push showed ``mailbox_key`` at 1.4 and then 17.8 s for the same
171,179 calls). Compare two commits by the call counts first: they do not move with the load.

    python -m bench.demo_time [--people 3000] [--runs 1] [--baseline 97.4] [--requests] [--profile DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import json
import os
import re
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.demo_requests import RequestCount
from profilesync.demo import Progress, RoundReport, run_demo, summary_lines
from profilesync.local import LocalRuntime

#: ``make demo`` at 54f5088 on a quiet machine, in seconds (issue 12: no slower than this).
BASELINE_SECONDS = 97.4


class PhaseClock(Progress):
    """The demo's progress lines, with each stage's wall-clock and CPU seconds kept."""

    def __init__(self, requests: RequestCount | None = None, profile_to: Path | None = None) -> None:
        super().__init__(live=False)
        self.phases: list[tuple[str, float, float]] = []
        self._cpu = time.process_time()
        self.requests = requests
        self.profile_to = profile_to
        """Where each phase's cProfile statistics go (``profile_path``), or None: not profiled."""
        self._profile: cProfile.Profile | None = None

    def begin(self, stage: str) -> None:
        self._cpu = time.process_time()
        if self.requests is not None:
            self.requests.phase = stage
        super().begin(stage)
        if self.profile_to is not None:
            self._profile = cProfile.Profile(time.process_time)  # CPU seconds: the load's waits left out
            self._profile.enable()

    def end(self, text: str) -> None:
        if self._profile is not None and self.profile_to is not None:
            self._profile.disable()
            self._profile.dump_stats(profile_path(self.profile_to, self.stage))
            self._profile = None
        self.phases.append((self.stage, time.monotonic() - self.started, time.process_time() - self._cpu))
        super().end(text)


def profile_path(prefix: Path, stage: str) -> Path:
    """The file of one phase's statistics: ``prefix`` and the phase's name in letters, digits and
    ``_`` (``round 1: push`` -> ``run1-round_1_push.prof`` for the prefix ``run1``)."""
    return prefix.with_name(f"{prefix.name}-{re.sub(r'[^A-Za-z0-9]+', '_', stage).strip('_')}.prof")


def item_kinds(rt: LocalRuntime) -> Counter[str]:
    """The table's items by kind: the sort key up to its ``#`` (``PROFILE``, ``SOURCE``, ``HISTORY``...)."""
    kinds: Counter[str] = Counter()
    request: dict[str, Any] = {"TableName": rt.table_name, "ProjectionExpression": "PK, SK"}
    while True:
        page = rt.dynamodb.scan(**request)
        for item in page["Items"]:
            pk, sk = item["PK"]["S"].split("#", 1)[0], item["SK"]["S"].split("#", 1)[0]
            kinds[sk if pk == "CUSTOMER" else pk] += 1
        if "LastEvaluatedKey" not in page:
            return kinds
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def grouping_digest(profiles_path: Path) -> str:
    """A digest of which source records share a profile (not of customer ids, which are random)."""
    groups = sorted(
        json.dumps(sorted([s["source"], s["object_type"], s["id"]] for s in json.loads(line)["sources"]))
        for line in profiles_path.read_text(encoding="utf-8").splitlines()
    )
    return hashlib.sha256("\n".join(groups).encode()).hexdigest()[:16]


def run_once(
    people: int,
    seed: int,
    out_dir: Path,
    requests: RequestCount | None = None,
    profile_to: Path | None = None,
) -> dict[str, Any]:
    clock = PhaseClock(requests, profile_to)
    kinds: Counter[str] = Counter()
    hook_seconds = 0.0

    def after_round(report: RoundReport, rt: LocalRuntime) -> None:
        nonlocal hook_seconds
        if report.name == "round 2":
            started = time.monotonic()
            kinds.update(item_kinds(rt))
            hook_seconds += time.monotonic() - started

    cpu = time.process_time()
    with contextlib.ExitStack() as counting:
        if requests is not None:
            counting.enter_context(requests.counting())
        result = run_demo(people=people, seed=seed, out_dir=out_dir, progress=clock, after_round=after_round)
    summary = [
        line
        for line in summary_lines(result)
        if not line.startswith(("wrote ", "done in")) and not line.startswith(("round 1", "round 2"))
    ]
    return {
        "phases": clock.phases,
        "seconds": result.seconds - hook_seconds,
        "cpu": time.process_time() - cpu,
        "summary": summary,
        "groups": grouping_digest(result.profiles_path),
        "kinds": dict(sorted(kinds.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=3000, help="people to generate (make demo: 3000)")
    parser.add_argument("--seed", type=int, default=7, help="population seed (make demo: 7)")
    parser.add_argument("--runs", type=int, default=1, help="runs; the fastest total is compared")
    parser.add_argument("--baseline", type=float, default=BASELINE_SECONDS, help="seconds to compare with")
    parser.add_argument(
        "--requests", action="store_true", help="also print each phase's AWS requests and items by kind"
    )
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="write each phase's cProfile statistics (CPU time) there"
    )
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        load = os.getloadavg()[0]
        requests = RequestCount() if args.requests else None
        with tempfile.TemporaryDirectory(prefix="demo-time-") as folder:
            profile_to = None
            if args.profile is not None:
                args.profile.mkdir(parents=True, exist_ok=True)
                profile_to = args.profile / f"run{n + 1}"
            run = run_once(args.people, args.seed, Path(folder), requests, profile_to)
        run["load"] = load
        runs.append(run)
        print(f"\nrun {n + 1}: {args.people:,} people, load average {load:.2f} at the start")
        print(f"  {'phase':<30}{'wall s':>9}{'cpu s':>9}")
        for stage, wall, cpu in run["phases"]:
            print(f"  {stage:<30}{wall:>9.1f}{cpu:>9.1f}")
        print(f"  {'total':<30}{run['seconds']:>9.1f}{run['cpu']:>9.1f}")
        if requests is not None:
            print("\n  requests sent and items named, by phase (bench.demo_requests):")
            for stage, _wall, _cpu in run["phases"]:
                print("\n".join(f"  {line}" for line in requests.lines(stage)))
    first = runs[0]
    changed = [
        n + 1
        for n, r in enumerate(runs)
        if (r["summary"], r["groups"], r["kinds"]) != (first["summary"], first["groups"], first["kinds"])
    ]
    print("\nwhat the demo did (compare between commits):")
    print("\n".join(first["summary"]))
    print(f"  profile groupings digest: {first['groups']}")
    print(f"  table items by kind: {first['kinds']}")
    if changed:
        print(f"  runs {changed} did something else than run 1")
    best = min(runs, key=lambda r: r["seconds"])
    print(
        f"\ndemo total {best['seconds']:.1f} s wall ({best['cpu']:.1f} s CPU) at load {best['load']:.2f}; "
        f"baseline {args.baseline:.1f} s (make demo at 54f5088, quiet machine): "
        f"ratio {best['seconds'] / args.baseline:.2f} (target <= 1.00)"
    )


if __name__ == "__main__":
    main()
