"""The runner starts the longest test files first, on a fresh checkout too (tests/runner_order.py).

Each case runs pytest in-process on a small project of its own (pytester) with the plugin loaded as
tests/conftest.py loads it, and reads the order of ``--collect-only -q``.
"""

from __future__ import annotations

import json

import pytest

from tests import runner_order

pytest_plugins = ["pytester"]

FILES = {
    "test_a": "def test_quick(): pass\ndef test_long(): pass\n",
    "test_b": "def test_new(): pass\n",
    "test_c": "import pytest\n\n@pytest.mark.slow\ndef test_marked(): pass\n",
    "test_d": "def test_x(): pass\ndef test_y(): pass\n",
}


def project(
    pytester: pytest.Pytester, shipped: dict[str, float] | None, files: dict[str, str] = FILES
) -> None:
    pytester.makeini("[pytest]\nmarkers = slow: slow\n")
    pytester.makeconftest("pytest_plugins = ['tests.runner_order']\n")
    pytester.makepyfile(**files)
    if shipped is not None:
        (pytester.path / "tests").mkdir()
        (pytester.path / runner_order.SHIPPED).write_text(json.dumps(shipped), encoding="utf-8")


def collected(pytester: pytest.Pytester, *args: str) -> list[str]:
    """The test ids in the order collected (``--collect-only -q``)."""
    result = pytester.runpytest("--collect-only", "-q", *args)
    return [line for line in result.outlines if "::" in line]


SHIPPED = {
    "test_a.py::test_long": 9.0,
    "test_a.py::test_quick": 0.2,
    "test_d.py::test_y": 5.0,
    "test_e.py::test_0": 0.3,
}


def test_the_suite_loads_the_plugin(request: pytest.FixtureRequest) -> None:
    assert request.config.pluginmanager.has_plugin("profilesync-durations")


def test_a_checkout_without_a_cache_runs_the_shipped_longest_files_first(pytester: pytest.Pytester) -> None:
    # GIVEN a fresh checkout: no pytest cache, the durations of a whole run shipped
    project(pytester, SHIPPED)
    # THEN the file of an untimed slow test first, then the timed files longest first (9.2 s, 5 s),
    # then the rest as collected; a file's tests together in their collected order (test_d's 5 s
    # test does not come between test_a's 9 s and 0.2 s ones)
    assert collected(pytester, "-p", "no:cacheprovider") == [
        "test_c.py::test_marked",
        "test_a.py::test_quick",
        "test_a.py::test_long",
        "test_d.py::test_x",
        "test_d.py::test_y",
        "test_b.py::test_new",
    ]


def test_the_local_runs_durations_come_before_the_shipped_ones(pytester: pytest.Pytester) -> None:
    project(pytester, SHIPPED)
    # GIVEN a local run that timed test_x at 20 s (pytest's cache): test_d.py now sums 25 s
    cached = pytester.path / ".pytest_cache" / "v" / runner_order.CACHE_KEY
    cached.parent.mkdir(parents=True)
    cached.write_text(json.dumps({"test_d.py::test_x": 20.0}), encoding="utf-8")
    assert collected(pytester)[:3] == ["test_d.py::test_x", "test_d.py::test_y", "test_c.py::test_marked"]


def test_the_short_tests_of_a_shipped_slow_file_count_as_short(pytester: pytest.Pytester) -> None:
    # GIVEN a slow-marked file whose one test of 0.3 s is shipped, its four others having run under
    # the shipped file's threshold (SHIPPED_MIN), and a file of 9.2 s
    slow_file = "import pytest\n\npytestmark = pytest.mark.slow\n" + "".join(
        f"def test_{i}(): pass\n" for i in range(5)
    )
    project(pytester, SHIPPED, {"test_a": FILES["test_a"], "test_e": slow_file})
    # THEN the 9.2 s file comes first: the slow file's short tests are not untimed new ones
    assert collected(pytester, "-p", "no:cacheprovider")[:3] == [
        "test_a.py::test_quick",
        "test_a.py::test_long",
        "test_e.py::test_0",
    ]


def test_without_a_shipped_file_the_slow_mark_alone_orders(pytester: pytest.Pytester) -> None:
    project(pytester, None)
    assert collected(pytester, "-p", "no:cacheprovider") == [
        "test_c.py::test_marked",
        "test_a.py::test_quick",
        "test_a.py::test_long",
        "test_b.py::test_new",
        "test_d.py::test_x",
        "test_d.py::test_y",
    ]


def test_a_shipped_file_that_is_not_seconds_by_test_is_refused(pytester: pytest.Pytester) -> None:
    project(pytester, None)
    (pytester.path / "tests").mkdir()
    (pytester.path / runner_order.SHIPPED).write_text('{"test_a.py::test_long": "9"}', encoding="utf-8")
    result = pytester.runpytest("--collect-only", "-q", "-p", "no:cacheprovider")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*tests/durations.json: expected an object of seconds by test id*"])


def test_write_durations_replaces_the_files_it_ran_and_keeps_the_others(pytester: pytest.Pytester) -> None:
    # GIVEN a shipped file with a test of another file, a test of a file since deleted and a test of
    # test_a.py since renamed
    pytester.makeconftest("pytest_plugins = ['tests.runner_order']\n")
    pytester.makepyfile(
        test_a="import time\ndef test_sleepy(): time.sleep(0.15)\ndef test_fast(): pass\n",
        test_b="def test_other(): pass\n",
    )
    old = {"test_b.py::test_other": 2.0, "test_gone.py::test_x": 1.0, "test_a.py::test_renamed": 3.0}
    (pytester.path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    # WHEN test_a.py runs and writes its durations
    result = pytester.runpytest("test_a.py", "-p", "no:cacheprovider", "--write-durations=old.json")
    result.assert_outcomes(passed=2)
    written = json.loads((pytester.path / "old.json").read_text(encoding="utf-8"))
    # THEN test_a.py's tests are this run's (the fast one under the threshold left out), test_b's kept
    assert sorted(written) == ["test_a.py::test_sleepy", "test_b.py::test_other"]
    assert written["test_b.py::test_other"] == 2.0
    assert written["test_a.py::test_sleepy"] >= 0.15


def test_merged_for_shipping_rounds_and_sorts() -> None:
    merged = runner_order.merged_for_shipping(
        {"b.py::t": 1.0, "a.py::old": 4.0}, {"a.py::t2": 0.123456, "a.py::t1": 0.0999}, ["a.py", "b.py"]
    )
    assert list(merged.items()) == [("a.py::t2", 0.12), ("b.py::t", 1.0)]


def test_a_timed_file_whose_tests_all_ran_under_the_threshold_keeps_its_longest() -> None:
    # GIVEN a run that timed a slow-marked file of short tests only (all under SHIPPED_MIN)
    timed = {"c.py::t1": 0.031, "c.py::t2": 0.052, "a.py::t": 2.0, "a.py::quick": 0.01}
    # WHEN its durations are merged for shipping
    merged = runner_order.merged_for_shipping({}, timed, ["a.py", "c.py"])
    # THEN that file keeps its longest test, so a fresh checkout knows it was timed (not a new file,
    # whose slow tests go first); a file with a test over the threshold ships only those
    assert merged == {"a.py::t": 2.0, "c.py::t2": 0.05}
