"""A store kit (tests/integration/store_port/conftest.py) brought to one state once, then put back
in it for each case of a sweep: ``kit_given_once(name, given)`` runs ``given`` once on a new kit of
``KITS[name]`` and yields ``fresh``; each ``fresh()`` puts the kit's items back as ``given`` left
them (tests/integration/store_copies.store_copy: SQLite's backup API; on moto, a deep copy of its
own items put back, nothing written again) and returns the kit, new ``IngestSettings``
(``ingest_settings()``) and what ``given`` returned. The in-memory kit keeps no items to copy (and
builds in milliseconds): each ``fresh()`` runs ``given`` on a new one.

The settings are new for each case because they hold the linkage's caches (decided pairs, candidate
nodes): a case run with the settings ``given`` or an earlier case filled would start with what a
new process does not know. ``given`` makes its own settings, and what it returns must not hold them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TypeVar

from core.ingest_settings import IngestSettings
from tests.integration.identity_attack_records import ingest_settings
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
def kit_given_once(
    name: str, given: Callable[[StoreKit], T]
) -> Iterator[Callable[[], tuple[StoreKit, IngestSettings, T]]]:
    """``given`` run once on ``name``'s kit; ``fresh()`` puts its items back (above)."""
    if name == "memory":
        with ExitStack() as stack:

            def rebuilt() -> tuple[StoreKit, IngestSettings, T]:
                kit = stack.enter_context(opened_kit(name))
                made = given(kit)
                return kit, ingest_settings(), made

            yield rebuilt
        return
    with opened_kit(name) as kit:
        made = given(kit)
        restore = store_copy(name, kit.profiles)

        def fresh() -> tuple[StoreKit, IngestSettings, T]:
            restore()
            return kit, ingest_settings(), made

        yield fresh
