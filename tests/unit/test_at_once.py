"""``tests.threads.at_once``, the race tests' runner: what a writer raises reaches the test."""

from __future__ import annotations

import threading

from tests.threads import at_once


def test_what_each_writer_raises_comes_back_and_the_others_run_to_the_end() -> None:
    done: list[str] = []

    def fails() -> None:
        raise ValueError("lost")

    errors = at_once(fails, lambda: done.append("ran"), fails)
    assert sorted(type(e).__name__ for e in errors) == ["ValueError", "ValueError"]
    assert done == ["ran"]


def test_a_writer_still_running_after_the_timeout_is_reported() -> None:
    release = threading.Event()
    errors = at_once(lambda: release.wait(10), timeout=0.05)
    release.set()
    assert [type(e) for e in errors] == [TimeoutError]


def test_a_writer_runs_in_a_daemon_thread_so_a_hung_one_never_keeps_the_run_from_exiting() -> None:
    daemon: list[bool] = []
    assert at_once(lambda: daemon.append(threading.current_thread().daemon)) == []
    assert daemon == [True]
