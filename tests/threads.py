"""Writers run at once in threads, for the race tests: what each raised comes back to the test.

An exception in a thread is otherwise printed and lost (the test would pass); ``at_once`` collects
them, so a test asserts ``at_once(...) == []`` or looks at what a writer that lost raised.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def at_once(*calls: Callable[[], Any], timeout: float = 60.0, together: bool = True) -> list[BaseException]:
    """Run each of ``calls`` in a thread of its own and wait for all of them (``timeout`` seconds
    each); what they raised, in the order they raised it. ``together``: the threads start their
    calls at one barrier, so none is done before the last one starts (the race is as close as the
    interpreter makes it). The threads are daemons: one still hung at the end never keeps the test run
    from exiting."""
    barrier = threading.Barrier(len(calls)) if together and calls else None
    errors: list[BaseException] = []

    def run(call: Callable[[], Any]) -> None:
        try:
            if barrier is not None:
                barrier.wait()
            call()
        except BaseException as error:  # reported to the test by the list returned
            errors.append(error)

    threads = [threading.Thread(target=run, args=(call,), daemon=True) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    hung = sum(thread.is_alive() for thread in threads)
    if hung:
        errors.append(TimeoutError(f"{hung} of {len(threads)} writers still running after {timeout} s"))
    return errors
