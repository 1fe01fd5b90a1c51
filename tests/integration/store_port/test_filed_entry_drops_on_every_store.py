"""Dropping an overloaded write-ahead entry (core.link_filed ``fl:``) while another writer re-creates
it, on the three stores.

An overloaded entry lists no keys and takes no more; it is dropped whole by the next filing of its
record (``drop_overloaded_entries``, before the write-ahead) and by her erasure
(core.link_nodes.forget_records). Both read the entry, then drop it. A second writer that dropped it
and wrote a fresh write-ahead between the two must keep its entry: the drop only takes the entry as
read (still overloaded), and an erasure that finds it changed reads it again and forgets what it
lists now.

Red before privacy18: the drop had no condition (``LinkIndex.drop_blocks``); the second writer's
fresh entry was lost, and after the erasure the record stayed filed under the key only that entry
listed.
"""

from __future__ import annotations

from core.link_filed import FILED_LIMIT, drop_overloaded_entries, filed_key
from core.link_index import BlockChange, BlockState
from core.link_nodes import forget_records
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit
from tests.interleave import after_call

ANN = make_record("crm", "1", email="ann@example.com")
ENTRY = filed_key(ANN.key)
#: A key only the second writer's filing lists for her (its write-ahead and its filing).
QUILLON = "sb:QUILLON:1980"


def _overloaded(kit: StoreKit) -> None:
    """Her entry overloaded: more keys at once than a limit of 3 takes."""
    kit.profiles.update_blocks([BlockChange(ENTRY, frozenset(f"sb:K{n}" for n in range(4)), limit=3)])
    assert kit.profiles.get_blocks([ENTRY])[ENTRY].overloaded


def _second_filing(kit: StoreKit) -> None:
    """Another writer's filing of her: drops the overloaded entry, writes ahead, files her."""
    drop_overloaded_entries(kit.profiles, [ANN.key])
    kit.profiles.update_blocks(
        [BlockChange(ENTRY, frozenset({QUILLON}), limit=FILED_LIMIT, orders={QUILLON: "tag-b"})]
    )
    kit.profiles.update_blocks([BlockChange(QUILLON, frozenset({ANN.key}))])


def _state(kit: StoreKit, key: str) -> BlockState | None:
    return kit.profiles.get_blocks([key]).get(key)


def test_a_filing_keeps_the_entry_another_filing_wrote_after_its_read(kit: StoreKit) -> None:
    """GIVEN her entry overloaded WHEN writer A reads it before its write-ahead, and writer B drops it
    and writes its own write-ahead before A drops it THEN B's entry (listing Quillon) stays."""
    _overloaded(kit)
    with after_call(kit.profiles, 1, lambda: _second_filing(kit), names=("get_blocks",)) as made:
        drop_overloaded_entries(kit.profiles, [ANN.key])
    assert made[:1] == ["get_blocks"]
    entry = _state(kit, ENTRY)
    assert entry is not None
    assert not entry.overloaded
    assert entry.members == {QUILLON}


def test_a_filing_drops_an_entry_overloaded_again_after_its_read(kit: StoreKit) -> None:
    """GIVEN her entry overloaded WHEN writer B drops it and it is overloaded again before writer A's
    drop THEN A drops it all the same (overloaded, it lists nothing to keep): no filing is left
    writing ahead into an overloaded entry."""
    _overloaded(kit)

    def again() -> None:
        drop_overloaded_entries(kit.profiles, [ANN.key])
        _overloaded(kit)

    with after_call(kit.profiles, 1, again, names=("get_blocks",)):
        drop_overloaded_entries(kit.profiles, [ANN.key])
    assert _state(kit, ENTRY) is None


def test_an_erasure_forgets_what_a_filing_listed_after_its_read(kit: StoreKit) -> None:
    """GIVEN her entry overloaded WHEN her erasure reads the index, and another writer's filing drops
    the entry, writes ahead and files her under Quillon before the erasure drops it
    THEN after the erasure neither the entry nor Quillon names her (red before: the entry was dropped
    whatever it held, and Quillon kept her record id)."""
    _overloaded(kit)
    with after_call(kit.profiles, 1, lambda: _second_filing(kit), names=("get_blocks",)):
        forget_records(kit.profiles, [ANN])
    assert _state(kit, ENTRY) is None
    assert _state(kit, QUILLON) is None
