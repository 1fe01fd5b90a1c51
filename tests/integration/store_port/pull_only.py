"""What the refresh sweep's tests on every store share: the push and erase half of the connector
interface for a test connector that only pulls, and the erasure store a pull of ``kit`` applies its
retirements through."""

from __future__ import annotations

from collections.abc import Sequence

from core.connector import EraseOutcome, Payload, PushOutcome
from core.privacy_store import ErasureStore
from core.schema import Identifier, Profile
from core.storage.memory_privacy import InMemoryErasureStore
from tests.integration.store_port.conftest import StoreKit


class PullOnly:
    """A connector's ``from_profile``, ``push`` and ``erase``, for one that pushes and erases nothing."""

    def from_profile(self, profile: Profile) -> Payload | None:
        return None

    def push(self, payloads: Sequence[Payload]) -> list[PushOutcome]:
        return []

    def erase(self, identifiers: Sequence[Identifier]) -> list[EraseOutcome]:
        return []


def erasure_of(kit: StoreKit) -> ErasureStore:
    """The kit's erasure store, or (the in-memory kit has none) one over its profile and state stores."""
    return kit.erasure if kit.erasure is not None else InMemoryErasureStore(kit.profiles, kit.sync_state)
