"""revA19 item 1: a record whose new version was filed while an older version of it was stored.

Ann's CRM record is stored first with an older version (Robert, 1951: no match for her shop
record). Writer 1 ingests its new version (Ann, 1980) and writer 2 her shop record, in two threads
taking turns by store call (tests.interleave.Turns): writer 1 for its first ``a`` calls, writer 2
for its first ``b``, then writer 1 to its end and writer 2 to its end; every (a, b). Where writer 2
reads the keys only the new version has (its birth date's, her name's) after writer 1 filed them
but before writer 1 committed, it finds crm:1 there, stored, and scores its OLD stored fields: no
link. Its read back must still count crm:1 as not read (the key it was found under is not one its
stored fields give), so that when writer 2 commits after writer 1 its re-check
(core.link_recheck) finds the new version and joins them; a serial run gives one customer.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.identity_attack_records import flat, groups, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_erasure_attacks import STORES
from tests.integration.test_lean17_writer_between_batches import ANN_CRM, ANN_SHOP, PLACE
from tests.interleave import Turns

OLD_CRM = flat(
    "crm", "1", first_name="Robert", date_of_birth="1951-11-23", email="ann.t@example.com", **PLACE
)
NEW_CRM = dict(ANN_CRM, updated_at="2026-01-05T00:00:00Z")
ONE = {frozenset({"crm:1", "shop:2"})}


def _calls(store: str, line: Any) -> int:
    """How many store calls one writer of ``line`` makes after OLD_CRM is stored."""
    with STORES[store]() as stores:
        s = _settings(stores)
        resolve_lines([OLD_CRM], stores.profiles, settings=s)
        turns = Turns([])
        turns.wrap(stores.profiles)
        assert not turns.run({"w": lambda: resolve_lines([line], stores.profiles, settings=s)})
        return len(turns.log)


def _interleaved(store: str, a: int, b: int) -> set[frozenset[str]]:
    with STORES[store]() as stores:
        s = _settings(stores)
        resolve_lines([OLD_CRM], stores.profiles, settings=s)
        turns = Turns(["1"] * a + ["2"] * b + ["1"] * 100 + ["2"] * 100)
        turns.wrap(stores.profiles)
        raised = turns.run(
            {
                "1": lambda: resolve_lines([NEW_CRM], stores.profiles, settings=s),
                "2": lambda: resolve_lines([ANN_SHOP], stores.profiles, settings=s),
            }
        )
        assert not raised, raised
        return groups(stores.profiles)


def test_serially_the_new_version_joins_the_shop_record() -> None:
    with STORES["memory"]() as stores:
        resolve_lines([OLD_CRM, NEW_CRM, ANN_SHOP], stores.profiles, settings=_settings(stores), batch_size=1)
        assert groups(stores.profiles) == ONE


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_every_interleaving_of_the_new_version_and_a_match_ends_as_one_customer(store: str) -> None:
    n1, n2 = _calls(store, NEW_CRM), _calls(store, ANN_SHOP)
    assert min(n1, n2) > 4  # filings, reads and commits of each
    split = [(a, b) for a in range(n1 + 1) for b in range(n2 + 1) if _interleaved(store, a, b) != ONE]
    assert not split, f"{len(split)} of {(n1 + 1) * (n2 + 1)} interleavings split: {split}"


@pytest.mark.parametrize(("a", "b"), [(4, 5), (20, 0), (0, 20)])
def test_on_dynamodb_the_new_version_and_a_match_end_as_one_customer(a: int, b: int) -> None:
    # moto is slower: the interleaving that split (writer 2 reads between writer 1's read and
    # commit, and commits after it), and both serial orders
    assert _interleaved("dynamodb", a, b) == ONE
