"""bench.demo_time --profile: one cProfile file per demo phase, timed by the CPU clock.

Two commits' demos are compared phase by phase on a machine eight engineers share; cProfile's
default (wall-clock) timer charges the waits for a core to whatever function ran, so a phase's
statistics must hold its own calls only, in CPU seconds.
"""

from __future__ import annotations

import pstats
import time
from pathlib import Path

from bench.demo_time import PhaseClock, profile_path


def _busy() -> int:
    return sum(i * i for i in range(20_000))


def _stats_by_name(path: Path) -> dict[str, tuple[int, float]]:
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    return {name: (calls, cumulative) for (_f, _l, name), (_cc, calls, _tt, cumulative, _c) in stats.items()}


def test_each_phase_writes_its_own_statistics(tmp_path: Path) -> None:
    # GIVEN a clock that profiles into tmp_path/run1
    clock = PhaseClock(profile_to=tmp_path / "run1")
    # WHEN one phase computes and the next only waits
    clock.begin("round 1: push")
    _busy()
    clock.end("done")
    clock.begin("round 2: pull shopify")
    time.sleep(0.3)
    clock.end("done")
    # THEN each phase has its file, holding its own calls and not the other's
    push = _stats_by_name(tmp_path / "run1-round_1_push.prof")
    pull = _stats_by_name(tmp_path / "run1-round_2_pull_shopify.prof")
    assert push["_busy"][0] == 1
    assert "_busy" not in pull
    # AND the wait is not charged as work: the timer is this process's CPU clock, not the wall's
    sleep = next(v for k, v in pull.items() if "sleep" in k)
    assert sleep[1] < 0.15
    assert [stage for stage, _wall, _cpu in clock.phases] == ["round 1: push", "round 2: pull shopify"]


def test_a_phase_file_is_named_by_its_run_and_phase(tmp_path: Path) -> None:
    assert profile_path(tmp_path / "run2", "round 1: pull hubspot").name == "run2-round_1_pull_hubspot.prof"
