"""A child object moved to another owner (an order re-assigned to another customer in the shop admin).

The order's own source key, still owned by the first customer, used to join the two customers into
one plan: they were merged, then split again, and the second customer came out under a new id
although nothing of hers changed (tools holding her old id, pushed as ``profilesync_customer_id``,
then pointed at a tombstone). Now the order leaves the first customer before it is planned
(core.child_moves), and joins the second by its owner link; neither id changes.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.invariants import store_problems

NO_SLEEP = IngestSettings(sleep=lambda _: None)


def _record(draft: RecordDraft) -> SourceRecord:
    result = normalise_record(draft)
    assert isinstance(result, SourceRecord), result
    return result


def _customer(n: int) -> SourceRecord:
    return _record(
        RecordDraft(
            source="shop",
            object_type="customer",
            source_id=str(n),
            updated_at="2026-03-01T00:00:00Z",
            emails=[f"c{n}@example.com"],
        )
    )


def _order(owner: str, updated: str) -> SourceRecord:
    return _record(
        RecordDraft(
            source="shop",
            object_type="order",
            source_id="o1",
            updated_at=updated,
            owner_type="customer",
            owner_id=owner,
            orders=[{"id": "o1", "total": "10.00", "currency": "GBP", "created_at": "2026-02-01T00:00:00Z"}],
        )
    )


def _ids(store: InMemoryProfileStore) -> dict[str, str]:
    return {
        s.key: p.customer_id for p in store.iter_profiles() for s in p.sources if s.object_type == "customer"
    }


def test_an_order_moved_to_another_customer_ends_with_its_new_owner() -> None:
    # GIVEN two customers and an order of the first
    store = InMemoryProfileStore()
    ingest([_customer(1), _customer(2), _order("1", "2026-03-02T00:00:00Z")], store, NO_SLEEP)
    # WHEN the order is re-assigned to the second
    ingest([_order("2", "2026-03-03T00:00:00Z")], store, NO_SLEEP)
    # THEN it is in the second customer's profile only, and each customer is one profile
    holding = {p.customer_id: sorted(s.key for s in p.sources) for p in store.iter_profiles()}
    assert sorted(holding.values()) == [["shop:customer:1"], ["shop:customer:2", "shop:order:o1"]]


def test_an_order_moved_to_another_customer_changes_neither_customers_id() -> None:
    # GIVEN two customers and an order of the first
    store = InMemoryProfileStore()
    ingest([_customer(1), _customer(2), _order("1", "2026-03-02T00:00:00Z")], store, NO_SLEEP)
    before = _ids(store)
    # WHEN the order is re-assigned to the second
    ingest([_order("2", "2026-03-03T00:00:00Z")], store, NO_SLEEP)
    # THEN both customers keep the ids they had
    assert _ids(store) == before


def test_the_order_s_value_moves_with_it_and_it_can_move_back_without_changing_any_id() -> None:
    # GIVEN three customers and an order of the first
    store = InMemoryProfileStore()
    ingest([_customer(1), _customer(2), _customer(3), _order("1", "2026-03-02T00:00:00Z")], store, NO_SLEEP)
    before = _ids(store)
    # WHEN it is re-assigned to the second, then the third, then back to the first
    for day, owner in (("03", "2"), ("04", "3"), ("05", "1")):
        result = ingest([_order(owner, f"2026-03-{day}T00:00:00Z")], store, NO_SLEEP)
        # THEN each move writes the order once, merges and splits nobody, and only its new owner
        # counts its value
        assert (result.written, result.merged_customers, result.split_customers) == (1, 0, 0)
        values = {
            s.id: p.computed.order_count
            for p in store.iter_profiles()
            for s in p.sources
            if s.object_type == "customer"
        }
        assert values == {"1": int(owner == "1"), "2": int(owner == "2"), "3": int(owner == "3")}
        assert _ids(store) == before
    # AND an older version naming the old owner, arriving late, is stale and moves nothing
    late = ingest([_order("3", "2026-03-04T12:00:00Z")], store, NO_SLEEP)
    assert (late.stale, _ids(store)) == (1, before)


def test_an_order_moved_in_the_batch_that_brings_its_new_customer() -> None:
    # GIVEN a customer and her order
    store = InMemoryProfileStore()
    ingest([_customer(1), _order("1", "2026-03-02T00:00:00Z")], store, NO_SLEEP)
    first = _ids(store)["shop:customer:1"]
    # WHEN a new customer arrives together with the order re-assigned to her
    ingest([_customer(2), _order("2", "2026-03-03T00:00:00Z")], store, NO_SLEEP)
    # THEN the first keeps her id and no order; the new one holds the order under the id she founds
    holding = {p.customer_id: sorted(s.key for s in p.sources) for p in store.iter_profiles()}
    assert holding[first] == ["shop:customer:1"]
    assert sorted(holding.values()) == [["shop:customer:1"], ["shop:customer:2", "shop:order:o1"]]


def test_an_order_whose_old_customer_holds_nothing_else_joins_the_new_one_as_before() -> None:
    # GIVEN an order that arrived alone (its customer quarantined at the pull), then another customer
    store = InMemoryProfileStore()
    ingest([_order("1", "2026-03-02T00:00:00Z"), _customer(2)], store, NO_SLEEP)
    assert len(list(store.iter_profiles())) == 2
    # WHEN the order is re-assigned to that customer
    ingest([_order("2", "2026-03-03T00:00:00Z")], store, NO_SLEEP)
    # THEN the two are one profile (the order's own profile merges into hers)
    [profile] = store.iter_profiles()
    assert sorted(s.key for s in profile.sources) == ["shop:customer:2", "shop:order:o1"]


_moves = st.lists(st.tuples(st.integers(0, 4), st.integers(1, 4)), min_size=1, max_size=14)


@settings(max_examples=40, deadline=None)
@given(moves=_moves, batch=st.integers(1, 6), seed=st.integers(0, 2**16), replay=st.booleans())
def test_orders_moving_between_customers_in_any_batches_end_with_their_last_owner(
    moves: list[tuple[int, int]], batch: int, seed: int, replay: bool
) -> None:
    # GIVEN four customers, each the founder of her own profile, and orders re-assigned among them:
    # each move a newer version of the order naming its new owner
    store = InMemoryProfileStore()
    ingest([_customer(n) for n in range(1, 5)], store, NO_SLEEP)
    ids = _ids(store)
    versions = [
        _numbered_order(order, str(owner), f"2026-03-02T00:{step:02d}:00Z")
        for step, (order, owner) in enumerate(moves)
    ]
    # WHEN they arrive in batches, shuffled (older versions after newer ones), some twice
    arriving = versions + (versions[: len(versions) // 2] if replay else [])
    random.Random(seed).shuffle(arriving)
    for start in range(0, len(arriving), batch):
        ingest(arriving[start : start + batch], store, NO_SLEEP)
    # THEN every order is with the owner of its latest version, and only there
    last_owner = dict(moves)  # the last move of each order wins
    holding = {
        s.id: {o.id for o in p.sources if o.object_type == "order"}
        for p in store.iter_profiles()
        for s in p.sources
        if s.object_type == "customer"
    }
    assert holding == {str(n): {f"o{k}" for k, o in last_owner.items() if o == n} for n in range(1, 5)}
    # AND no customer changed id, and the store is consistent
    assert _ids(store) == ids
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []


def _numbered_order(number: int, owner: str, updated: str) -> SourceRecord:
    return _record(
        RecordDraft(
            source="shop",
            object_type="order",
            source_id=f"o{number}",
            updated_at=updated,
            owner_type="customer",
            owner_id=owner,
            orders=[
                {
                    "id": f"o{number}",
                    "total": "10.00",
                    "currency": "GBP",
                    "created_at": "2026-02-01T00:00:00Z",
                }
            ],
        )
    )
