"""orph17: the erasure of a customer frozen into one an older version's erasure deleted, left with no
record (an "orphan"): what her frozen profile named is suppressed, and an erasure killed at any
point then sent again leaves nothing of her, on the in-memory, SQLite and DynamoDB (moto) stores
(core.privacy_orphans). Found by the revA17 review.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.suppression import keyed_hash
from tests.integration.store_port.test_frozen_merge_repair import SALT, _frozen
from tests.integration.test_attack10_frozen_orphan import _nothing_left, _orphaned
from tests.integration.test_attack10_repair_programs import _erase
from tests.integration.test_frozen_merge_repair_interleavings import _kit
from tests.integration.test_privacy17_orphans import _unsuppressed

STORES = ["memory", "sqlite", "dynamodb"]


def _held(kit: Any, orphan: str) -> list[str]:
    """The identifier keys and record ids (``source#crm:contact:1``) the orphan's profile holds."""
    profile = kit.profiles.get_customers([orphan])[orphan].profile
    return sorted({i.key for i in profile.identifiers} | {f"source#{s.key}" for s in profile.sources})


def _unsuppressed_of(kit: Any, keys: list[str]) -> list[str]:
    hashes = {keyed_hash(SALT, k): k for k in keys}
    done = kit.suppression.suppressed(sorted(hashes))
    return sorted(k for h, k in hashes.items() if h not in done)


@pytest.mark.parametrize("name", STORES)
def test_her_erasure_suppresses_the_record_ids_her_orphan_held(name: str) -> None:
    """GIVEN a customer frozen into one an older version's erasure deleted, left with no record, and
    nothing of hers suppressed (the older erasure's suppression lifted)
    WHEN this version erases her by her email
    THEN every identifier and record id her frozen profile held is suppressed, so the next pull of
    her records drops them (red before orph17: only the email asked for; her ``source#`` ids were
    lost with the tombstone)."""
    with _kit(name) as kit:
        settings, email, _, _ = _orphaned(kit, "dropped")
        [(orphan, _, _)] = _frozen(kit.profiles)
        _unsuppressed(kit, email)
        for key in _held(kit, orphan):
            kit.suppression.lift(keyed_hash(SALT, key))
        keys = _held(kit, orphan)
        assert any(k.startswith("source#") for k in keys)
        assert _unsuppressed_of(kit, keys) == keys
        assert _erase(kit, settings, email) == "erased"
        assert _unsuppressed_of(kit, keys) == []
        _nothing_left(kit)
