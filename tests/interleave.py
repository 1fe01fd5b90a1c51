"""Another writer run between two store calls of the one under test: the interleaving tests' hook.

``after_call(store, k, act)`` wraps the store's methods (by name, on the instance): after the
``k``-th call made from inside the block returns, ``act`` runs once (its own store calls are not
counted, nor interrupted), so a test can sweep ``k`` over every point of a writer's reads and writes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
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
