"""How long each test waits: a pytest plugin, loaded by hand (``-p tests.sleep_report``), that adds up
each test's ``time.sleep`` and timed ``threading.Condition.wait`` (``Event.wait``, ``Thread.join``,
``queue.Queue.get`` with a timeout wait through it), in every thread, and appends
``<seconds>\\t<node id>`` for each test that waited at least ``MIN_SECONDS`` to the file
``PROFILESYNC_SLEEP_REPORT`` names (one file for every xdist worker):

    PROFILESYNC_SLEEP_REPORT=/tmp/sleeps.tsv .venv/bin/pytest -q -n 2 -p tests.sleep_report tests/e2e
    sort -rn /tmp/sleeps.tsv | head

A test that sleeps holds one of CI's two workers while it waits, with no CPU used. The plugin must be
loaded with ``-p`` (before tests/conftest.py and the project's modules), so that the code that keeps
``time.sleep`` as a default (``RetryPolicy.sleep``, the rate limiters) keeps the counting one.
Waits count as they lasted (the monotonic clock), so two threads waiting at once count twice.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

MIN_SECONDS = 0.05
_waited = [0.0]
_real_sleep = time.sleep
_real_wait = threading.Condition.wait


def _counted_sleep(seconds: float) -> None:
    start = time.monotonic()
    try:
        _real_sleep(seconds)
    finally:
        _waited[0] += time.monotonic() - start


def _counted_wait(self: threading.Condition, timeout: float | None = None) -> bool:
    if timeout is None:
        return _real_wait(self, timeout)
    start = time.monotonic()
    try:
        return _real_wait(self, timeout)
    finally:
        _waited[0] += time.monotonic() - start


time.sleep = _counted_sleep
threading.Condition.wait = _counted_wait  # type: ignore[method-assign]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Iterator[None]:
    _waited[0] = 0.0
    yield
    report = os.environ.get("PROFILESYNC_SLEEP_REPORT")
    if report and _waited[0] >= MIN_SECONDS:
        with open(report, "a", encoding="utf-8") as out:  # one short line: appends do not interleave
            out.write(f"{_waited[0]:.2f}\t{item.nodeid}\n")
