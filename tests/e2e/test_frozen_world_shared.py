"""tests/e2e/frozen_world.py's ``built_once_in_the_run``: the erasure tests' world built by one xdist
worker of a run and read by the others (a build cost about 5 CPU s, reading it 0.005 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.frozen_world import FrozenWorld, built_once_in_the_run


def _made(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _counting(built: list[FrozenWorld]) -> FrozenWorld:
    world = FrozenWorld(b"state", {"a": "b"}, f"arn-{len(built)}", "log", {"items": []})
    built.append(world)
    return world


def test_the_second_worker_of_a_run_reads_the_world_the_first_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN two xdist workers of one run (their tmp_path folders under the run's)
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    first, second = (_made(tmp_path / "run" / f"popen-gw{n}" / "test0") for n in (0, 1))
    built: list[FrozenWorld] = []
    # WHEN each asks for the world
    one = built_once_in_the_run(first, "w", lambda: _counting(built))
    other = built_once_in_the_run(second, "w", lambda: _counting(built))
    # THEN it was built once, and the second has what the first built
    assert len(built) == 1
    assert other == one
    # AND another run builds its own
    assert (
        built_once_in_the_run(_made(tmp_path / "next" / "popen-gw0" / "test0"), "w", lambda: _counting(built))
        != one
    )
    assert len(built) == 2


def test_outside_xdist_each_process_builds_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    built: list[FrozenWorld] = []
    folder = _made(tmp_path / "run" / "popen-gw0" / "test0")
    for _ in range(2):
        built_once_in_the_run(folder, "w", lambda: _counting(built))
    assert len(built) == 2
    assert list((tmp_path / "run").glob("w.*")) == []
