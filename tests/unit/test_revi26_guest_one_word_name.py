"""revI26: a guest order's one-word billing name does not tell its buyer, as a contact's does not.

core.identity_holders.limit_holder holds a people-level record naming a first name alone as itself
("not enough to say two records are one person"), but held a guest child of a one-word name as that
name: twelve strangers' guest orders keyed in by staff on the shop's address with a placeholder
first name ("Guest") and their own phones were one holder, and one profile of twelve buyers.
"""

from __future__ import annotations

from core.identity_holders import limit_holder
from tests.unit.test_guest_holders import SHOP, _guest_order, _ingest


def test_twelve_strangers_under_a_placeholder_first_name_stay_apart() -> None:
    strangers = [_guest_order(i, SHOP, {"first_name": "Guest"}, f"+447911123{i:03d}") for i in range(12)]
    # THEN each holds as its phone, as a guest order naming nobody does (on main: "named guest", one
    # holder, and one profile holding all twelve orders)
    assert len({limit_holder(r) for r in strangers}) == 12
    assert sorted(len(p.sources) for p in _ingest([strangers])) == [1] * 12


def test_a_repeat_guest_buyer_under_a_one_word_name_and_her_phone_stays_one_profile() -> None:
    # GUARD: the same buyer (one phone) is still one holder and one profile
    hers = [_guest_order(i, SHOP, {"first_name": "Guest"}, "+447911123000") for i in range(12)]
    assert len({limit_holder(r) for r in hers}) == 1
    assert [len(p.sources) for p in _ingest([hers])] == [12]
