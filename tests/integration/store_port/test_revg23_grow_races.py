"""revG23: an add-only batch whose customer changes between its read of the profile item and its
commit (another writer's batch) is planned again, never written over the other's: on three stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.batch_ingest import ingest_batch
from core.merge import build_profile, profile_hash
from tests.integration.store_port.conftest import KITS
from tests.integration.store_port.test_revg23_grow_orders import (
    NO_SLEEP,
    _contact_listing,
    _kit,
    _line,
    _order,
    _stored,
)


def _racing(profiles: Any) -> Any:
    """``profiles.get_customer_head``, after whose first read another writer's add-only batch lands."""
    head = profiles.get_customer_head
    raced: list[int] = []

    def racing_head(customer_id: str) -> Any:
        got = head(customer_id)
        if not raced:  # another writer's add-only batch lands right after this read
            raced.append(1)
            ingest_batch([_order(2, 2, [_line("o2", "20.00", 2)])], profiles, NO_SLEEP)
        return got

    return racing_head


@pytest.mark.parametrize("store", sorted(KITS))
def test_a_writer_between_the_head_read_and_the_commit_is_kept(store: str, tmp_path: Path) -> None:
    for kit in _kit(store, tmp_path / store):
        profiles = kit.profiles
        ingest_batch([_contact_listing("o9")], profiles, NO_SLEEP)
        ingest_batch([_order(1, 1, [_line("o1", "10.00", 1)])], profiles, NO_SLEEP)
        profiles.get_customer_head = _racing(profiles)
        # WHEN this batch, planned from the stale head, commits
        ingest_batch([_order(3, 3, [_line("o3", "30.00", 3)])], profiles, NO_SLEEP)
        profile, state = _stored(profiles)
        # THEN both orders are in: 7.00 (the contact's o9) + 10 + 20 + 30
        assert str(profile.computed.lifetime_value["GBP"]) == "67.00"
        assert {"shop:order:o2", "shop:order:o3"} <= set(state.snapshots)
        rebuilt = build_profile(profile.customer_id, state.snapshots.values(), version=profile.version)
        assert profile == rebuilt
        assert state.profile_hash == profile_hash(profile)
