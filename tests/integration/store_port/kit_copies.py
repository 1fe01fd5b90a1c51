"""A store kit (tests/integration/store_port/conftest.py) brought to one state once, then put back
in it for each case of a sweep: ``kit_given_once(name, given)`` runs ``given`` once on a new kit of
``KITS[name]`` and yields ``fresh``; each ``fresh()`` puts the kit's items back as ``given`` left
them (tests/integration/store_copies.store_copy: SQLite's backup API, DynamoDB's items written
again) and returns the kit and what ``given`` returned. The in-memory kit keeps no items to copy
(and builds in milliseconds): each ``fresh()`` runs ``given`` on a new one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TypeVar

from tests.integration.store_copies import store_copy
from tests.integration.store_port.conftest import KITS, StoreKit

T = TypeVar("T")


@contextmanager
def opened_kit(name: str) -> Iterator[StoreKit]:
    """A new kit of ``KITS[name]`` (outside a fixture: a sweep may open several)."""
    with TemporaryDirectory() as folder:
        made = KITS[name](Path(folder))
        try:
            yield next(made)
        finally:
            made.close()


@contextmanager
def kit_given_once(name: str, given: Callable[[StoreKit], T]) -> Iterator[Callable[[], tuple[StoreKit, T]]]:
    """``given`` run once on ``name``'s kit; ``fresh()`` puts its items back (above)."""
    if name == "memory":
        with ExitStack() as stack:

            def rebuilt() -> tuple[StoreKit, T]:
                kit = stack.enter_context(opened_kit(name))
                return kit, given(kit)

            yield rebuilt
        return
    with opened_kit(name) as kit:
        made = given(kit)
        restore = store_copy(name, kit.profiles)

        def fresh() -> tuple[StoreKit, T]:
            restore()
            return kit, made

        yield fresh
