"""Blocking keys: plain strings a store can index, found for the variations people type."""

from __future__ import annotations

from core.linkage import block_item_key, blocking_keys, candidate_pairs, linkage_record
from core.linkage.blocking import retired_keys


def test_blocking_keys_are_prefixed_plain_strings() -> None:
    """GIVEN a full record WHEN its keys are computed THEN one per rule, '<prefix>:<value>', no repeats."""
    record = linkage_record(
        "crm:contact:1",
        {
            "first_name": "Ann",
            "last_name": "Thompson",
            "dob": "1975-03-02",
            "address": "12 High St",
            "postcode": "SW1A 1AA",
            "state": "LND",
        },
        ["ann.thompson@gmail.com"],
    )
    keys = blocking_keys(record)
    assert len(keys) == len(set(keys)) == 8
    assert "sb:TANPSAN:1975" in keys
    assert "pf:sw1a1aa:a" in keys
    assert "hs:12:high st" in keys
    assert "eu:annthompson" in keys


def test_a_record_with_nothing_to_block_on_has_no_keys() -> None:
    """GIVEN a record with an email under four characters and no other fields WHEN keyed THEN no keys."""
    assert blocking_keys(linkage_record("k", {}, ["ab@x.org"])) == ()


def test_names_in_either_order_share_a_key() -> None:
    """GIVEN first and last name swapped between two tools WHEN keyed THEN they share the names key."""
    a = linkage_record("a", {"first_name": "Ned", "last_name": "Clarke"})
    b = linkage_record("b", {"first_name": "Clarke", "last_name": "Ned"})
    assert set(blocking_keys(a)) & set(blocking_keys(b))
    assert candidate_pairs([a, b], 10).pairs == {(0, 1)}


def test_the_item_key_is_a_hash_with_no_personal_data() -> None:
    """GIVEN a blocking key WHEN turned into an item key THEN BLOCK# and 32 hex digits, stable."""
    item = block_item_key("pf:sw1a1aa:a")
    assert item.startswith("BLOCK#")
    assert len(item) == len("BLOCK#") + 32
    assert "sw1a" not in item
    assert item == block_item_key("pf:sw1a1aa:a") != block_item_key("pf:sw1a1ab:a")


def test_no_record_is_filed_under_a_retired_rule() -> None:
    """GIVEN records with a birth date and a postcode WHEN keyed THEN none of their keys is one of a
    retired rule (birth date + postcode, ``bp:``), whose keys ``retired_keys`` still gives for
    erasure."""
    record = linkage_record("k", {"first_name": "Ann", "dob": "1975-03-02", "postcode": "SW1A 1AA"})
    assert retired_keys(record) == ("bp:19750302:sw1a1aa",)
    assert not set(blocking_keys(record)) & set(retired_keys(record))
    assert not any(key.startswith("bp:") for key in blocking_keys(record))
