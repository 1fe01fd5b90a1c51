"""Another writer run between two store calls of the one under test: the interleaving tests' hook.

``after_call(store, k, act)`` wraps the store's methods (by name, on the instance): after the
``k``-th call made from inside the block returns, ``act`` runs once (its own store calls are not
counted, nor interrupted), so a test can sweep ``k`` over every point of a writer's reads and writes.
``Turns`` runs writers in threads, one store call at a time in a given order of turns: writers that
stop in the middle of each other (a read, the other's read, a commit, the other's commit).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

_ABSENT = object()

#: The ProfileStore and LinkIndex calls a writer makes.
STORE_CALLS: tuple[str, ...] = (
    "get_customers",
    "get_owners",
    "commit",
    "get_reviews",
    "requeue_review",
    "get_blocks",
    "update_blocks",
)


@contextmanager
def after_call(
    store: Any, k: int | None, act: Callable[[], None], names: Sequence[str] = STORE_CALLS
) -> Iterator[list[str]]:
    """Run ``act`` once, after the ``k``-th call of ``names`` on ``store`` made inside (None: never);
    yields the names of the calls made, in order."""
    made: list[str] = []
    busy = [False]

    def wrap(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            found = real(*args, **kwargs)
            if not busy[0]:
                made.append(name)
                if len(made) == k:
                    busy[0] = True
                    try:
                        act()
                    finally:
                        busy[0] = False
            return found

        return call

    # What the instance itself held under each name (a hook this one is nested in, a test's patch):
    # put back on the way out; a name it did not hold is removed, so the class's method shows again.
    held = {name: vars(store).get(name, _ABSENT) for name in names}
    for name in names:
        setattr(store, name, wrap(name, getattr(store, name)))
    try:
        yield made
    finally:
        for name, before in held.items():
            if before is _ABSENT:
                delattr(store, name)
            else:
                setattr(store, name, before)


class Turns:
    """Writers in threads taking turns by store call: ``order`` names, call by call, whose turn it
    is (a name whose writer is done is passed over; past the end, the writers run freely, one call
    at a time). ``log``: the calls made, (writer, call name), in order."""

    def __init__(self, order: Sequence[str]) -> None:
        self.order, self.at = list(order), 0
        self.done: set[str] = set()
        self.log: list[tuple[str, str]] = []
        self._cv = threading.Condition()
        self._local = threading.local()

    def _wait_turn(self) -> None:
        me = self._local.name
        with self._cv:
            while True:
                while self.at < len(self.order) and self.order[self.at] in self.done:
                    self.at += 1
                if self.at >= len(self.order) or self.order[self.at] == me:
                    return
                if not self._cv.wait(timeout=60):
                    raise RuntimeError(f"{me} waited too long for turn {self.at}")

    def _took(self, name: str) -> None:
        with self._cv:
            self.log.append((self._local.name, name))
            self.at += 1
            self._cv.notify_all()

    def wrap(self, store: Any, names: Sequence[str] = STORE_CALLS) -> None:
        """Make ``store``'s calls (by name, on the instance) wait for their writer's turn."""
        lock = threading.Lock()  # past the end of ``order``: still one call at a time

        def wrapped(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
            def call(*args: Any, **kwargs: Any) -> Any:
                if getattr(self._local, "inside", True):  # not a writer's, or a call from a call
                    return real(*args, **kwargs)
                self._wait_turn()
                self._local.inside = True
                try:
                    with lock:
                        return real(*args, **kwargs)
                finally:
                    self._local.inside = False
                    self._took(name)

            return call

        for name in names:
            setattr(store, name, wrapped(name, getattr(store, name)))

    def run(self, writers: Mapping[str, Callable[[], None]]) -> dict[str, BaseException]:
        """Run ``writers`` (by name) to the end; what each raised."""
        raised: dict[str, BaseException] = {}

        def body(name: str, writer: Callable[[], None]) -> None:
            self._local.name, self._local.inside = name, False
            try:
                self._wait_turn()
                writer()
            except BaseException as e:  # reported to the test
                raised[name] = e
            finally:
                with self._cv:
                    self.done.add(name)
                    self._cv.notify_all()

        threads = [threading.Thread(target=body, args=item) for item in writers.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        return raised
