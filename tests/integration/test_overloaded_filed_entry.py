"""A record's ``fl:`` write-ahead entry (core.link_filed) overloaded, then a filing of a new version
killed before its commit, then her erasure, on the in-memory, SQLite and DynamoDB (moto) stores.

Found by review revA17: an overloaded entry takes no more keys, so the killed filing's write-ahead was
lost; her erasure used the stored version's keys, dropped the entry whole, answered erased, and the
Quillon Road version's keys (``hs:23:quillon rd`` among them) kept her record with her name, birth
date and postcode. A filing that reads its record's entry overloaded drops it before its write-ahead,
so that the write-ahead is listed again.
"""

from __future__ import annotations

import pytest

from core.link_filed import FILED_LIMIT, filed_key, left_key
from core.link_index import BlockChange
from tests.integration.test_erasure_attacks import STORES
from tests.integration.test_reva16_filing_races import (
    ALL,
    ELI,
    _ingest,
    _run_a_with,
    eli,
    erase_her,
    nothing_of_hers,
)


def _overload(stores: object) -> None:
    """Her entry past its limit, as many versions' unsettled keys would leave it."""
    keys = frozenset(left_key(f"hs:{n}:old rd") for n in range(FILED_LIMIT + 1))
    change = BlockChange(filed_key(ELI), keys, limit=FILED_LIMIT, orders=dict.fromkeys(keys, "0" * 16))
    stores.profiles.update_blocks([change])  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ALL)
def test_a_killed_filing_under_an_overloaded_entry_is_erased(name: str) -> None:
    """GIVEN Eli stored on Tanner Row, her ``fl:`` entry overloaded WHEN her Quillon Road version is
    filed and killed right after its write-ahead and filing (before its commit), and she is erased
    THEN the erasure answers erased and the index holds neither her record nor Quillon Road."""
    with STORES[name]() as stores:
        _ingest(stores, eli(1, "9 Tanner Row"))()
        _overload(stores)
        assert stores.profiles.get_blocks([filed_key(ELI)])[filed_key(ELI)].overloaded
        made = _run_a_with(stores, eli(3, "23 Quillon Road"), lambda: None, kill_after=1)
        assert "KILLED" in made
        assert erase_her(stores) == "erased"
        assert filed_key(ELI) not in stores.profiles.get_blocks([filed_key(ELI)])
        assert nothing_of_hers(stores)


@pytest.mark.parametrize("name", ["memory", "sqlite"])
def test_an_overloaded_entry_is_written_fresh_by_the_next_filing(name: str) -> None:
    """GIVEN Eli's entry overloaded WHEN her next version is filed and committed THEN her entry is no
    longer overloaded (the next killed filing is listed), and erasing her leaves nothing."""
    with STORES[name]() as stores:
        _ingest(stores, eli(1, "9 Tanner Row"))()
        _overload(stores)
        _ingest(stores, eli(3, "23 Quillon Road"))()
        entry = stores.profiles.get_blocks([filed_key(ELI)]).get(filed_key(ELI))
        assert entry is None or not entry.overloaded
        assert erase_her(stores) == "erased"
        assert nothing_of_hers(stores)
