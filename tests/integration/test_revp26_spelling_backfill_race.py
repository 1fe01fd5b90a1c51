"""revP26: the spelling-marker backfill (``profilesync privacy index-refused``) does not write her
address back after her erasure.

core.privacy_spellings.backfill reads every live profile, then writes a marker
``IDENT#email#<folded address>`` / ``HOLDER#<customer>`` for each customer holding an address in its
spelling of before the fold upgrade: the folded address is in the item's key, in clear. Her erasure
between that read and the write found no marker to delete; the backfill then wrote one, her address
in the table after her erasure answered. (The refused-index backfill beside it re-reads after its
write for the same reason: core.privacy_refused_stale.put_while_stored.) Three stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from core.privacy import identifier_for
from core.privacy_spellings import backfill
from core.privacy_store import DeleteItem, ItemKey
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import STORES, Stores
from tests.integration.test_priv26_folded_spellings import FOLDED, OLD


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


class _ErasedAfterTheRead:
    """``profiles`` whose ``iter_profiles`` runs ``between`` once every profile was read."""

    def __init__(self, profiles: Any, between: Any) -> None:
        self._profiles = profiles
        self._between = between

    def __getattr__(self, name: str) -> Any:
        return getattr(self._profiles, name)

    def iter_profiles(self) -> Iterator[Any]:
        yield from list(self._profiles.iter_profiles())
        self._between()


def test_her_erasure_between_the_backfill_read_and_its_write_leaves_no_marker(stores: Stores) -> None:
    # GIVEN her old-key customer stored before the markers (its marker taken away) and a stranger
    stores.ingest([make_record("shop", "1", email=OLD), make_record("crm", "3", email="x.y@example.net")])
    old_owner = stores.owner(f"email#{OLD}")
    assert old_owner is not None
    stores.erasure.apply([DeleteItem(ItemKey(f"IDENT#email#{FOLDED}", f"HOLDER#{old_owner}"))])
    assert stores.erasure.holders([f"email#{FOLDED}"]).get(f"email#{FOLDED}", set()) == set()

    def erase_her() -> None:
        assert (
            getattr(stores.erase(identifier_for(source="shop:contact:1"), "req-1"), "outcome", None)
            == "erased"
        )

    # WHEN the backfill reads the profiles, she is erased, and it writes its markers
    backfill(_ErasedAfterTheRead(stores.profiles, erase_her), stores.erasure)
    # THEN no marker holds her folded address
    assert stores.erasure.holders([f"email#{FOLDED}"]) == {}
