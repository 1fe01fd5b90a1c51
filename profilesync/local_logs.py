"""The local runtime's log capture: what an invocation writes goes to its runtime's log, as Lambda sends
all of it to CloudWatch.

Powertools takes a ``Logger``'s service name, level and stream when a handler's module makes it: once
per process, so a module first imported by an earlier runtime at another ``LogLevel``, or by a test
under another service name while pytest held stdout, keeps what it had then. A runtime stands for one
deployment, whose execution environments import the handlers under its own environment; so while it
invokes a function, ``captured`` holds every Powertools ``Logger`` the function's package holds (the
handler module's own, however its service was named, and a helper's child) at the runtime's
``POWERTOOLS_LOG_LEVEL`` and points their handlers at the invocation's buffer, then puts back the
levels and streams they had: another runtime in the process, before or after, gets its own.

The loggers, their levels, their handlers' streams, the root logger and ``sys.stdout`` are the
process's, so a capture holds them all for its invocation: ``captured`` lets one invocation in at a
time (``INVOKING``, a lock held from before the loggers are found until they are put back). Two
runtimes invoking at once from two threads wrote to each other's logs, lost lines when the first to
finish put the streams back, and could leave a logger at the other's level
(``tests/unit/test_local_logs_threads.py``). A lock, not a capture per thread: a logger has one level
for the process (an invocation at DEBUG and one at INFO cannot both be right at once), and what an
invocation's own worker threads write (the DynamoDB store reads customers on a thread pool; botocore
logs its retries there) belongs to its log, which a capture keyed by thread would miss. The runtime
runs invocations one at a time anyway (``local``: one execution environment's worth), so nothing it
offers is serialised that ran at once before. Reentrant: an invocation that invokes another in its
own thread nests its capture.

What a thread that is not invoking writes while another invokes (a test's own ``print``) still goes
to that invocation's log, as it did.

What is still the import's: the ``service`` key of a function's JSON records (a module first imported
under another service name writes that name).
"""

from __future__ import annotations

import contextlib
import io
import logging
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any

INVOKING = threading.RLock()
"""Held by ``captured`` while an invocation runs: one at a time in the process (see the module)."""

# Lambda's runtime gives the root logger a handler in this format: library loggers (the HTTP layer's
# retry warnings) reach the function's log through it.
ROOT_FORMAT = "[%(levelname)s]\t%(asctime)s\t%(name)s\t%(message)s"


def package_loggers(package: str) -> list[logging.Logger]:
    """The standard loggers under the Powertools ``Logger`` objects that the loaded modules of
    ``package`` hold (module attributes), each once, in the order found."""
    from aws_lambda_powertools import Logger

    found: dict[int, logging.Logger] = {}
    for name, module in list(sys.modules.items()):
        if module is None or (name != package and not name.startswith(package + ".")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, Logger):
                underlying = logging.getLogger(value.name)
                found.setdefault(id(underlying), underlying)
    return list(found.values())


def _under(name: str, parents: set[str]) -> bool:
    return any(name == parent or name.startswith(parent + ".") for parent in parents)


def _swap(handler: logging.StreamHandler[Any], stream: Any) -> Any:
    """Point ``handler`` at ``stream``; the stream it had. Not ``setStream``, which flushes the one it
    had: a Logger made while pytest captured a test's output holds that test's stream, closed since."""
    with handler.lock or contextlib.nullcontext():
        previous, handler.stream = handler.stream, stream
    return previous


@contextlib.contextmanager
def captured(environment: Mapping[str, str], package: str, feed: Any) -> Iterator[None]:
    """What an invocation of a handler of ``package`` writes (its Powertools records, EMF metrics,
    stdout, stderr, Python's root logger) goes to ``feed`` (a callable taking the text) at the end,
    not to the terminal nor to the stream a Logger was made with; its Powertools loggers at
    ``environment``'s ``POWERTOOLS_LOG_LEVEL`` (Powertools' default INFO when unset) meanwhile."""
    with INVOKING, _captured(environment, package, feed):
        yield


@contextlib.contextmanager
def _captured(environment: Mapping[str, str], package: str, feed: Any) -> Iterator[None]:
    buffer = io.StringIO()
    level = (environment.get("POWERTOOLS_LOG_LEVEL") or "INFO").upper()
    loggers = package_loggers(package)
    levels = [(logger, logger.level) for logger in loggers]
    handlers = {
        id(h): h for logger in loggers for h in logger.handlers if isinstance(h, logging.StreamHandler)
    }
    # A Powertools logger's records also reach the root logger: written once, by its own handler.
    written = {logger.name for logger in loggers if logger.handlers}
    root = logging.StreamHandler(buffer)
    root.setFormatter(logging.Formatter(ROOT_FORMAT))
    root.addFilter(lambda record: not _under(record.name, written))
    streams: list[tuple[logging.StreamHandler[Any], Any]] = []
    try:
        for logger in loggers:
            logger.setLevel(level)
        streams.extend((handler, _swap(handler, buffer)) for handler in handlers.values())
        logging.getLogger().addHandler(root)
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            yield
    finally:
        logging.getLogger().removeHandler(root)
        for handler, previous in reversed(streams):
            _swap(handler, previous)
        for logger, was in reversed(levels):
            logger.setLevel(was)
        feed(buffer.getvalue())
