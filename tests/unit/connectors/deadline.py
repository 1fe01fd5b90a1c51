"""A guard for a pull that might never end: ``within(seconds)`` raises ``OverranError`` in the test (not a
hung worker) when the block it guards is still running after ``seconds``. Only a guard: a pull that
ends has nothing timed about it."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class OverranError(AssertionError):
    """The guarded block was still running at its deadline (a walk that makes no progress)."""


@contextmanager
def within(seconds: int) -> Iterator[None]:
    def overran(_signal: int, _frame: FrameType | None) -> None:
        raise OverranError(f"still running after {seconds} s: the walk made no progress")

    previous = signal.signal(signal.SIGALRM, overran)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
