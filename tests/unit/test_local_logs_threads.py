"""Two invocations on two threads each get their own log (profilesync.local_logs, tie22).

The capture points the process's loggers, handlers and ``sys.stdout`` at one invocation's buffer: two
runtimes invoking at once from two threads wrote into each other's logs, lost lines when the first to
finish put the streams back, and could leave a logger at the other's level. Here two invocations of
one package's functions (real Powertools ``Logger`` objects), at DEBUG and at INFO, are made to
overlap on a barrier inside their captures as far as the capture lets them.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
import types
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from aws_lambda_powertools import Logger

from profilesync.local_logs import captured
from tests.threads import at_once

PACKAGE = "tie22_threaded_functions"


@pytest.fixture
def handler_logger() -> Iterator[Logger]:
    """A package of handlers whose module holds a Powertools Logger (at WARNING, on its own stream)."""
    package = types.ModuleType(PACKAGE)
    module = types.ModuleType(f"{PACKAGE}.handler")
    module.logger = Logger(service=PACKAGE, level="WARNING", stream=io.StringIO())  # type: ignore[attr-defined]
    sys.modules[PACKAGE], sys.modules[module.__name__] = package, module
    try:
        yield module.logger  # type: ignore[attr-defined]
    finally:
        del sys.modules[PACKAGE], sys.modules[module.__name__]


def _meet(barrier: threading.Barrier) -> None:
    """Wait for the other invocation inside its capture; go on alone if it cannot be there (the
    capture lets one invocation in at a time)."""
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait()


def test_two_invocations_on_two_threads_each_log_their_own_lines(handler_logger: Logger) -> None:
    underlying = logging.getLogger(handler_logger.name)
    streams = [h.stream for h in underlying.handlers if isinstance(h, logging.StreamHandler)]
    level = underlying.level
    logs: dict[str, list[str]] = {"a": [], "b": []}
    meeting = threading.Barrier(2, timeout=2)  # broken once, it lets every later wait through

    def invocation(name: str, log_level: str) -> None:
        with captured({"POWERTOOLS_LOG_LEVEL": log_level}, PACKAGE, logs[name].append):
            _meet(meeting)  # both captures set up before either writes
            handler_logger.debug(f"debug of {name}")
            handler_logger.info(f"info of {name}")
            print(f"print of {name}")
            logging.getLogger("botocore.retries").warning(f"library warning of {name}")
            _meet(meeting)  # both written before either puts the streams back

    # WHEN invocations at DEBUG (a) and at INFO (b) run at once on two threads
    assert at_once(lambda: invocation("a", "DEBUG"), lambda: invocation("b", "INFO")) == []
    # THEN each log holds its own lines, all of them, and none of the other's, at its own level
    for name, other in (("a", "b"), ("b", "a")):
        (text,) = logs[name]
        for line in ("info of", "print of", "library warning of"):
            assert f"{line} {name}" in text, (name, text)
        assert f" of {other}" not in text, (name, text)
    assert "debug of a" in logs["a"][0]
    assert "debug of b" not in logs["b"][0]
    # AND the logger is as it was: its level and its handlers' streams
    assert underlying.level == level
    assert [h.stream for h in underlying.handlers if isinstance(h, logging.StreamHandler)] == streams


def test_what_an_invocation_s_worker_threads_write_is_in_its_log(handler_logger: Logger) -> None:
    # GIVEN an invocation that reads on a pool of its own (as the DynamoDB store reads customers),
    # whose workers log (botocore's retries) and the handler's logger
    logs: list[str] = []

    def work(i: int) -> None:
        logging.getLogger("botocore.retries").warning(f"retry in worker {i}")
        handler_logger.info(f"read in worker {i}")

    # WHEN it runs under the capture
    with captured({}, PACKAGE, logs.append), ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(work, range(2)))
    # THEN its log holds what the workers wrote
    (text,) = logs
    for i in range(2):
        assert f"retry in worker {i}" in text
        assert f"read in worker {i}" in text
