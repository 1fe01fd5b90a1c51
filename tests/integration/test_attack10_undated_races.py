"""attack10: two writers on a Stripe customer stored undated (core.undated), the second run after each
store call of the first (its owner reads, the read of the stored snapshot the undated check makes,
its commits), on the in-memory store (every point), SQLite and DynamoDB (moto; the first points).

The writers: a dated version of other content older than the stored bound (it replaces the undated
one), an undated version of other content, the same content dated later (a touch), a deletion at the
vendor older than the bound (it retires the undated one), and her erasure. Whatever the point, the
store ends as one of the two orders of the writers run one after the other would leave it (what a
reader sees of her record: its city and stored time, a tombstone, or nothing; how many profiles
hold records), and once she is erased nothing of hers is left. Her customer holds a CRM record too
(a deletion rewrites it); when the Stripe record is her only one, a deletion removes the customer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from core.pipeline import IngestSettings, ingest
from core.retirement import SourceDeletion, retire_records
from core.storage.memory_privacy import InMemoryErasureStore
from core.suppression import SuppressionCheck
from core.testing.records import T0, make_record
from tests.integration.store_port.conftest import StoreKit
from tests.integration.test_attack10_repair_programs import READS_AND_WRITES, _erase
from tests.integration.test_attack10_undated_programs import EMAIL, SALT, _ann, _stored
from tests.integration.test_frozen_merge_repair_interleavings import _interleaved, _kit

WRITERS = ("dated", "undated", "touch", "delete", "erase")


def _act(kit: StoreKit, writer: str) -> None:
    assert kit.suppression is not None
    base = IngestSettings(sleep=lambda _: None)
    checked = replace(base, suppression=SuppressionCheck(kit.suppression, SALT))
    if writer == "dated":
        ingest([_ann(10, "Bergen", False)], kit.profiles, checked)
    elif writer == "undated":
        ingest([_ann(35, "Tromsø", True)], kit.profiles, checked)
    elif writer == "touch":
        ingest([_ann(50, "Oslo", False)], kit.profiles, checked)
    elif writer == "delete":
        erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
        gone = SourceDeletion(
            source="stripe", object_type="contact", source_id="cus_1", deleted_at=T0 + timedelta(days=20)
        )
        retire_records([gone], kit.profiles, erasure, checked)
    else:
        _erase(kit, base, EMAIL, salt=SALT)


def _outcome(name: str, run: Callable[[StoreKit], None], alone: bool) -> Any:
    with _kit(name) as kit:
        first = [_ann(40, "Oslo", True)] + ([] if alone else [make_record("crm", "7", email=EMAIL)])
        ingest(first, kit.profiles, IngestSettings(sleep=lambda _: None))
        run(kit)
        left = [p for p in kit.profiles.iter_profiles() if p.sources]
        return _stored(kit), len(left)


def _orders(name: str, first: str, second: str, alone: bool) -> set[Any]:
    """What the two writers leave one after the other, in either order."""

    def one_after_other(a: str, b: str) -> Callable[[StoreKit], None]:
        return lambda kit: (_act(kit, a), _act(kit, b))[0]

    return {
        _outcome(name, one_after_other(first, second), alone),
        _outcome(name, one_after_other(second, first), alone),
    }


def _race(name: str, first: str, second: str, after: int, orders: set[Any], alone: bool = False) -> None:
    def interleaved(kit: StoreKit) -> None:
        with _interleaved(kit, [(second, after)], lambda w: _act(kit, w), READS_AND_WRITES):
            _act(kit, first)

    got = _outcome(name, interleaved, alone)
    assert got in orders, (first, second, after, got, orders)
    if "erase" in (first, second):
        assert got[1] == 0


PAIRS = [(a, b) for a in WRITERS for b in WRITERS if a != b]
POINTS = {"memory": 16, "sqlite": 6, "dynamodb": 4}
"""After how many of the first writer's store calls the second runs: every one (16 is past the
longest) on memory, the first ones on the slower stores."""


def _races(name: str, first: str, second: str, alone: bool = False) -> None:
    orders = _orders(name, first, second, alone)  # the same for every point: made once
    for after in range(POINTS[name]):
        _race(name, first, second, after, orders, alone)


@pytest.mark.parametrize(("first", "second"), PAIRS)
@pytest.mark.parametrize("name", ["memory", "sqlite"])
def test_two_writers_on_an_undated_version_end_as_one_of_their_orders(
    name: str, first: str, second: str
) -> None:
    _races(name, first, second)


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_two_writers_on_her_only_record_stored_undated_end_as_one_of_their_orders(
    first: str, second: str
) -> None:
    """Red before privacy17 for a deletion then a touch: the deletion of her only record removed her
    customer through the erasure's steps, whose delete of the ``source#`` item was guarded by its
    owner only, so a touch committed after the deletion read the stored time was lost with it."""
    _races("memory", first, second, alone=True)


@pytest.mark.parametrize("name", ["sqlite", "dynamodb"])
def test_a_touch_during_the_removal_of_her_only_record_is_kept_on_every_store(name: str) -> None:
    """The same race (a deletion of her only record, a touch after each of its first store calls)
    on the SQLite and DynamoDB erasure stores (red before privacy17 on both)."""
    _races(name, "delete", "touch", alone=True)


@pytest.mark.slow
@pytest.mark.parametrize(("first", "second"), [("delete", "dated"), ("delete", "touch"), ("touch", "delete")])
def test_two_writers_on_an_undated_version_end_as_one_of_their_orders_on_dynamodb(
    first: str, second: str
) -> None:
    _races("dynamodb", first, second)
