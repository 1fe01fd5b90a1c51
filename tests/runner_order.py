"""The slowest tests first: a pytest plugin (tests/conftest.py loads it; `-p tests.runner_order` elsewhere).

The order is the longest known duration first, file by file (a file's tests together: see
``order``), so that no long test starts when the other worker is nearly done. A test's duration is
the last local run's (pytest's cache, .pytest_cache/) or else the one shipped in
``tests/durations.json`` (a whole run of the suite, refreshed by ``make durations``): a fresh
checkout (CI) has no cache and orders by the shipped file. A test neither knows counts as nothing,
unless it is marked ``slow`` and its file is new: then as longer than any timed one. Every xdist
worker reads the same cache and file, so all of them collect the same order, as xdist requires.

``--write-durations=PATH`` (``make durations``) writes this run's durations of at least
``SHIPPED_MIN`` seconds to PATH over what it held: the entries of the files this run timed are
replaced, those of files that no longer exist dropped, the others kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

#: Where the durations of the last run are kept (pytest's cache, .pytest_cache/): seconds by node id.
CACHE_KEY = "profilesync/durations"
#: The durations shipped with the repository, relative to the rootdir.
SHIPPED = "tests/durations.json"
#: Shorter tests are left out of the shipped file (they keep their collected place), but for the
#: longest of a file with none longer: about 1,050 of 5,200 tests last this long, and the shorter ones
#: sum to about a minute.
SHIPPED_MIN = 0.1


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--write-durations",
        metavar="PATH",
        default=None,
        help=f"write this run's durations over PATH's (make durations: {SHIPPED})",
    )


def read_shipped(path: Path) -> dict[str, float]:
    """The durations of ``path``; none when it is missing (a checkout without it orders by marks)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    loaded = json.loads(text)
    if not isinstance(loaded, dict) or not all(
        isinstance(k, str) and isinstance(v, int | float) for k, v in loaded.items()
    ):
        raise pytest.UsageError(f"{path}: expected an object of seconds by test id")
    return {k: float(v) for k, v in loaded.items()}


def known_durations(cached: Mapping[str, float] | None, shipped: Mapping[str, float]) -> dict[str, float]:
    """The local run's durations over the shipped ones: a test timed here is timed as it runs here."""
    return {**shipped, **(cached or {})}


def order(items: list[pytest.Item], known: Mapping[str, float]) -> None:
    """Sort ``items`` in place by file, the longest first: a file's known durations summed, an
    untimed ``slow`` test of an untimed file (a new one) counting as longer than any timed one (the
    shipped file leaves out tests under ``SHIPPED_MIN``: a timed file's others were short, and a
    slow-marked file of many short tests went first); files alike keep their collected
    order, and a file's tests theirs (pytest's own, which groups the tests of a parametrised
    fixture).

    A file's tests stay together: xdist hands each worker a run of consecutive tests, so a
    module-scoped fixture (the demo's run, a data set loaded once) is built by one worker, not by
    both (ordered test by test, tests/e2e/test_demo.py's three runs took 43 s against 19 s)."""
    slowest = max(known.values(), default=0.0)
    # A file with a known test was timed whole: its others ran under the shipped threshold.
    timed_files = {nodeid.partition("::")[0] for nodeid in known}

    def key(item: pytest.Item) -> float:
        if item.nodeid in known:
            return -known[item.nodeid]
        if item.nodeid.partition("::")[0] in timed_files:
            return 0.0
        return -slowest - 1.0 if item.get_closest_marker("slow") else 0.0

    files: dict[str, float] = {}
    for item in items:
        file = item.nodeid.partition("::")[0]
        files[file] = files.get(file, 0.0) + key(item)
    items.sort(key=lambda item: files[item.nodeid.partition("::")[0]])


def merged_for_shipping(
    old: Mapping[str, float], timed: Mapping[str, float], exists: Iterable[str]
) -> dict[str, float]:
    """What ``--write-durations`` writes: this run's durations of at least ``SHIPPED_MIN`` (rounded to
    hundredths) in place of the old ones of the files it timed, and of a timed file with none that
    long its longest test, so that every file it timed has an entry (``order`` takes a file without
    one for a new file, whose slow tests go first); the old ones of other files that still exist are
    kept. Sorted by node id, so that a refresh's diff shows what moved."""
    timed_files = {nodeid.partition("::")[0] for nodeid in timed}
    existing = set(exists)
    kept = {
        k: v
        for k, v in old.items()
        if k.partition("::")[0] not in timed_files and k.partition("::")[0] in existing
    }
    fresh = {k: round(v, 2) for k, v in timed.items() if v >= SHIPPED_MIN}
    longest: dict[str, tuple[float, str]] = {}
    for k, v in timed.items():
        file = k.partition("::")[0]
        longest[file] = max(longest.get(file, (v, k)), (v, k))
    shipped = {k.partition("::")[0] for k in fresh}
    fresh.update({k: round(v, 2) for file, (v, k) in longest.items() if file not in shipped})
    return dict(sorted({**kept, **fresh}.items()))


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_Durations(config), "profilesync-durations")


class _Durations:
    """This run's durations (setup, call and teardown summed) by node id, as the reports arrive."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.timed: dict[str, float] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        cache = getattr(self.config, "cache", None)
        cached = cache.get(CACHE_KEY, None) if cache is not None else None
        order(items, known_durations(cached, read_shipped(self.config.rootpath / SHIPPED)))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.timed[report.nodeid] = self.timed.get(report.nodeid, 0.0) + report.duration

    def pytest_sessionfinish(self) -> None:
        """The controller (or the only process) keeps this run's durations over the last run's, and
        writes them to ``--write-durations``'s file when asked."""
        config = self.config
        if hasattr(config, "workerinput") or not self.timed:
            return
        cache = getattr(config, "cache", None)
        if cache is not None:
            cache.set(CACHE_KEY, {**(cache.get(CACHE_KEY, None) or {}), **self.timed})
        target = config.getoption("--write-durations")
        if target:
            path = Path(target)
            old = read_shipped(path)
            files = {nodeid.partition("::")[0] for nodeid in old}
            exists = [f for f in files if (config.rootpath / f).exists()]
            text = json.dumps(merged_for_shipping(old, self.timed, exists), indent=0)
            path.write_text(text + "\n", encoding="utf-8")
