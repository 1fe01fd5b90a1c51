"""An order re-assigned to another customer, on every store (core.child_moves).

The order leaves its old customer in one conditional changeset, then joins its new owner; a crash
between the two leaves it in no profile until its record comes again, and then it lands where it
belongs. Neither customer's id changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from core.pipeline import IngestSettings, ingest
from core.ports import Changeset
from core.testing.invariants import store_problems
from tests.integration.store_port.conftest import StoreKit
from tests.unit.test_child_records_moved import _customer, _order

NO_SLEEP = IngestSettings(sleep=lambda _: None)


def holdings(store: Any) -> dict[str, list[str]]:
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
    return {p.customer_id: sorted(s.key for s in p.sources) for p in store.iter_profiles()}


class CrashAfterDetach:
    """The store, failing every commit after the first detach changeset went through (a Lambda
    killed between the two steps of a move)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.detached = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def commit(self, changesets: Sequence[Changeset]) -> list[Changeset]:
        if self.detached:
            raise RuntimeError("killed")
        failed: list[Changeset] = self.store.commit(changesets)
        self.detached = any(c.label.startswith("detach:") for c in changesets)
        return failed


def test_an_order_moves_between_customers_keeping_both_ids(kit: StoreKit) -> None:
    store = kit.profiles
    # GIVEN two customers and an order of the first
    ingest([_customer(1), _customer(2), _order("1", "2026-03-02T00:00:00Z")], store, NO_SLEEP)
    before = holdings(store)
    # WHEN the order is re-assigned to the second
    ingest([_order("2", "2026-03-03T00:00:00Z")], store, NO_SLEEP)
    # THEN the same two customer ids hold it on its new owner's side
    after = holdings(store)
    assert set(after) == set(before)
    assert sorted(after.values()) == [["shop:customer:1"], ["shop:customer:2", "shop:order:o1"]]


@pytest.mark.parametrize("kit", ["sqlite", "dynamodb"], indirect=True)
def test_a_crash_between_leaving_and_joining_loses_the_order_until_its_record_comes_again(
    kit: StoreKit,
) -> None:
    store = kit.profiles
    # GIVEN two customers and an order of the first
    ingest([_customer(1), _customer(2), _order("1", "2026-03-02T00:00:00Z")], store, NO_SLEEP)
    ids = set(holdings(store))
    # WHEN the move is killed after the order left the first customer
    with pytest.raises(RuntimeError, match="killed"):
        ingest([_order("2", "2026-03-03T00:00:00Z")], CrashAfterDetach(store), NO_SLEEP)
    # THEN the store is consistent, the order in neither profile
    assert sorted(holdings(store).values()) == [["shop:customer:1"], ["shop:customer:2"]]
    # AND the retried record puts it with its new owner, under the same ids
    ingest([_order("2", "2026-03-03T00:00:00Z")], store, NO_SLEEP)
    after = holdings(store)
    assert set(after) == ids
    assert sorted(after.values()) == [["shop:customer:1"], ["shop:customer:2", "shop:order:o1"]]
