"""privacy17: an erasure by email of a customer frozen into one an older version's erasure deleted,
when that older erasure suppressed nothing (a version before suppression, or an erasure whose
suppression was lifted since): no identifier item leads to her and nothing says a request naming
her email may concern a gone customer. The frozen customers are read for her all the same, on the
in-memory, SQLite and DynamoDB (moto) stores (core.privacy_orphans).
"""

from __future__ import annotations

from typing import Any

import pytest

from core.storage.memory_privacy import InMemoryErasureStore
from core.suppression import keyed_hash
from tests.integration.store_port.test_frozen_merge_repair import SALT, _frozen
from tests.integration.test_attack10_frozen_orphan import _nothing_left, _orphaned
from tests.integration.test_attack10_repair_programs import _erase
from tests.integration.test_frozen_merge_repair_interleavings import _kit


def _unsuppressed(kit: Any, email: str) -> None:
    """The older erasure's suppression of her email (and of everything it suppressed with it) lifted."""
    assert kit.suppression is not None
    kit.suppression.lift(keyed_hash(SALT, f"email#{email}"))
    assert not kit.suppression.suppressed([keyed_hash(SALT, f"email#{email}")])


@pytest.mark.parametrize("stop", ["handed", "dropped"])
@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_her_erasure_by_an_email_nothing_suppressed_or_names_finds_her_orphan(name: str, stop: str) -> None:
    """GIVEN a customer frozen into one an older version's erasure deleted, her email neither
    suppressed nor held by any identifier item
    WHEN this version erases her by her email
    THEN she is found (erased) and nothing of her is left (red before privacy17: ``not_found``, the
    frozen list read only for a value suppressed or naming a gone customer)."""
    with _kit(name) as kit:
        settings, email, _, _ = _orphaned(kit, stop)
        _unsuppressed(kit, email)
        assert kit.profiles.get_owners([f"email#{email}"]) == {}
        assert _erase(kit, settings, email) == "erased"
        _nothing_left(kit)
        assert _frozen(kit.profiles) == []


@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_her_erasure_of_an_orphan_left_with_no_record_leaves_no_item_of_it(name: str) -> None:
    """GIVEN a customer frozen into one an older version's erasure deleted, left with no record (the
    merge had dropped them from it), never repaired
    WHEN this version erases her by her email
    THEN she is found (erased) and no item of that customer is left: no tombstone naming the gone
    customer, no history naming her records (red before privacy17: the repair made its profile a
    tombstone naming the gone customer, and it and its history stayed)."""
    with _kit(name) as kit:
        settings, email, _, _ = _orphaned(kit, "dropped")
        [(orphan, _, _)] = _frozen(kit.profiles)
        assert _erase(kit, settings, email) == "erased"
        erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
        assert erasure.customer_items(orphan) == []
        assert kit.profiles.get_customers([orphan]) == {}
        _nothing_left(kit)
