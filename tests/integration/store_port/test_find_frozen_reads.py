"""``profilesync repair`` looks for frozen customers without reading every customer.

``find_frozen`` (core.merge_undo) lists the customers a merge in flight froze (a ``merging_into``
mark on the PROFILE item). It read every customer of the store, profile and snapshots, to find the
few with the mark; each store now lists the marked ones itself (``frozen_customers``: a scan of the
marks in memory, a WHERE on the ``attrs`` JSON in SQLite, a Scan with a filter and a projection in
DynamoDB), and only those and the customers they go into are read. On the three stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from core.merge_steps import freeze_merge
from core.merge_undo import find_frozen
from core.ports import ListsFrozen
from tests.integration.identity_attack_records import flat, ingest_settings, resolve_lines
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_frozen_merge_repair import _broken

OTHERS = [flat("shop", f"o{i}", first_name=f"Other{i}", email=f"other{i}@example.com") for i in range(40)]


def _reads(store: Any) -> list[str]:
    """The customer ids ``store.get_customers`` is asked for from now on (and no ``iter_profiles``)."""
    asked: list[str] = []
    real = store.get_customers

    def get_customers(customer_ids: Sequence[str]) -> Any:
        asked.extend(customer_ids)
        return real(customer_ids)

    def iter_profiles() -> Any:
        raise AssertionError("find_frozen read every profile")

    store.get_customers = get_customers
    store.iter_profiles = iter_profiles
    return asked


def test_find_frozen_reads_the_frozen_customers_and_their_survivors_only(kit: StoreKit) -> None:
    # GIVEN a customer an old version froze into another, among forty other customers
    settings, _ = _broken(kit)
    resolve_lines(OTHERS, kit.profiles, settings=settings)
    store = kit.profiles
    # WHEN the repair looks for frozen customers
    asked = _reads(store)
    (found,) = find_frozen(store, settings)
    del store.get_customers, store.iter_profiles
    # THEN it finds the one, as before, having read only it and its survivor
    assert (found.records, found.action) == (8, "undo")
    assert set(asked) == {found.absorbed, found.survivor}


def test_each_store_lists_the_marked_customers_and_drops_them_once_merged_or_cleared(kit: StoreKit) -> None:
    # GIVEN forty customers (the DynamoDB scan reads them in pages of 7 items)
    settings = ingest_settings()
    resolve_lines(OTHERS, kit.profiles, settings=settings)
    store = kit.profiles
    assert isinstance(store, ListsFrozen)
    ids = sorted(p.customer_id for p in store.iter_profiles())
    assert store.frozen_customers() == []
    # WHEN two of them are frozen into two others (the first steps of two merges)
    read = store.get_customers(ids[:4])
    assert freeze_merge(store, read[ids[3]], read[ids[0]])
    assert freeze_merge(store, read[ids[1]], read[ids[2]])
    # THEN the store lists each with the customer it goes into, in customer id order
    pages: dict[str, Any] = {"items_per_page": 7} if kit.name == "dynamodb" else {}
    assert store.frozen_customers(**pages) == [(ids[1], ids[2]), (ids[3], ids[0])]
    # and neither once the merges are finished (a tombstone) or taken back (a new profile)
    from core.merge_steps import complete_merge

    complete_merge(store, ids[3], ids[0], settings, in_flight=True)
    assert store.frozen_customers(**pages) == [(ids[1], ids[2])]
    complete_merge(store, ids[1], ids[2], settings, in_flight=True)
    assert store.frozen_customers(**pages) == []
    assert len(find_frozen(store, settings)) == 0


@pytest.mark.parametrize("frozen_into", ["gone", "frozen"])
def test_a_frozen_customer_whose_survivor_is_gone_or_frozen_is_listed_unrepairable(
    kit: StoreKit, frozen_into: str
) -> None:
    settings = ingest_settings()
    resolve_lines(OTHERS[:4], kit.profiles, settings=settings)
    store = kit.profiles
    a, b, c, _ = sorted(p.customer_id for p in store.iter_profiles())
    read = store.get_customers([a, b, c])
    assert freeze_merge(store, read[a], read[b])
    if frozen_into == "frozen":
        b_now = store.get_customers([b])[b]
        assert freeze_merge(store, b_now, read[c])
    else:
        from core.merge_steps import complete_merge

        complete_merge(store, b, c, settings)  # b merged away into c: a tombstone
    found = {f.absorbed: f for f in find_frozen(store, settings)}
    assert found[a].survivor == b
    assert found[a].action == "unrepairable"
