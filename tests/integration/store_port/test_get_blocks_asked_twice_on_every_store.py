"""``get_blocks`` given a key twice, and keys never written, on the three stores: each written key
once, as stored, where it was first asked, and nothing for the others (the in-memory store reads
each key with one look-up, core.storage.memory_links; a batch's reads name a key again where two of
its records share it). The order is compared as a list: a dict's ``==`` ignores it."""

from __future__ import annotations

from core.link_index import BlockChange, BlockState
from tests.integration.store_port.conftest import StoreKit


def test_a_key_asked_twice_is_read_once_and_absent_keys_are_left_out(kit: StoreKit) -> None:
    index = kit.profiles
    # GIVEN a blocking key with two members, an identifier key with one, and a key overloaded
    index.update_blocks(
        [
            BlockChange("sb:TANPSAN:1975", frozenset({"crm:contact:1", "shop:customer:9"})),
            BlockChange("id:email#ann@gmail.com", frozenset({"crm:contact:1"}), limit=64),
            BlockChange("pc:SW1A1AA:a", frozenset({"crm:contact:1", "crm:contact:2"}), limit=1),
        ]
    )
    asked = [
        "sb:TANPSAN:1975",
        "nn:never",
        "id:email#ann@gmail.com",
        "sb:TANPSAN:1975",
        "pc:SW1A1AA:a",
        "nn:never",
        "id:email#ann@gmail.com",
    ]
    # WHEN the keys are read with repeats and keys never written, whole and members only
    whole = index.get_blocks(asked)
    members_only = index.get_blocks(asked, members_only=True)
    # THEN each written key comes once, as stored, where first asked, and the others not at all
    expected = {
        "sb:TANPSAN:1975": BlockState("sb:TANPSAN:1975", frozenset({"crm:contact:1", "shop:customer:9"})),
        "id:email#ann@gmail.com": BlockState("id:email#ann@gmail.com", frozenset({"crm:contact:1"})),
        "pc:SW1A1AA:a": BlockState("pc:SW1A1AA:a", frozenset(), overloaded=True),
    }
    assert whole == expected
    assert list(whole) == list(members_only) == ["sb:TANPSAN:1975", "id:email#ann@gmail.com", "pc:SW1A1AA:a"]
    assert {k: (s.key, s.members, s.overloaded) for k, s in members_only.items()} == {
        k: (s.key, s.members, s.overloaded) for k, s in expected.items()
    }
