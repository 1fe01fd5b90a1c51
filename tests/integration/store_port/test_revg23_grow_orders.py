"""revG23: the add-only path (core.ingest_grow) against orders another stored record also carries.

An order is counted once per source and id (core.computed_traits): when a contact lists an order
inline and the order's own record carries it too, the rebuild counts the copy of the record whose key
sorts first (the contact's). The add-only path must find such a copy before it adds or takes out an
amount from the stored totals, or the profile is no longer the fold of its snapshots.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest

from connectors.jsonl import draft_from_flat
from core import ingest_plan
from core.batch_ingest import ingest_batch
from core.merge import build_profile, profile_hash
from core.normalise import normalise_record
from core.pipeline import IngestSettings
from core.schema import SourceRecord
from tests.integration.store_port.conftest import KITS, StoreKit
from tests.integration.store_port.test_growing_customer_on_every_store import _counting_grown

NO_SLEEP = IngestSettings(sleep=lambda _: None)
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _stamp(hours: int) -> str:
    return (T0 + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def _normalised(flat: dict[str, Any]) -> SourceRecord:
    record = normalise_record(draft_from_flat(flat))
    assert isinstance(record, SourceRecord), record
    return record


def _line(order: str, total: str, hours: int) -> dict[str, str]:
    return {"id": order, "total": total, "currency": "GBP", "created_at": _stamp(hours)}


def _order(number: int, hours: int, orders: list[dict[str, str]]) -> SourceRecord:
    flat: dict[str, Any] = {
        "source": "shop",
        "id": f"o{number}",
        "object_type": "order",
        "owner_id": "c1",
        "updated_at": _stamp(hours),
        "orders": orders,
    }
    return _normalised(flat)


def _contact_listing(order: str) -> SourceRecord:
    """A shop contact that lists one of its orders inline (as the JSON-lines example in
    connectors/jsonl does)."""
    return _normalised(
        {
            "source": "shop",
            "id": "c1",
            "updated_at": _stamp(0),
            "email": "buyer@example.org",
            "orders": [_line(order, "7.00", 1)],
        }
    )


def _kit(name: str, folder: Path) -> Iterator[StoreKit]:
    folder.mkdir(parents=True, exist_ok=True)
    return KITS[name](folder)


def _stored(store: Any) -> tuple[Any, Any]:
    (profile,) = list(store.iter_profiles())
    state = store.get_customers([profile.customer_id])[profile.customer_id]
    return profile, state


def _grown(counted: list[int]) -> Any:
    return _counting_grown(ingest_plan.grow_plan, counted)


def _played(
    store: str, folder: Path, batches: list[list[SourceRecord]], grown: list[int] | None = None
) -> Iterator[tuple[Any, Any, Any]]:
    """Each kit of ``store`` after ``batches``: its one profile, that customer's state and the profile
    its snapshots rebuild; with ``grown``, every add-only plan is counted there."""
    for kit in _kit(store, folder):
        counting: AbstractContextManager[Any] = (
            patch.object(ingest_plan, "grow_plan", _grown(grown)) if grown is not None else nullcontext()
        )
        with counting:
            for batch in batches:
                ingest_batch(batch, kit.profiles, NO_SLEEP)
        profile, state = _stored(kit.profiles)
        yield (
            profile,
            state,
            build_profile(profile.customer_id, state.snapshots.values(), version=profile.version),
        )


@pytest.mark.parametrize("store", sorted(KITS))
def test_an_order_that_loses_its_amount_keeps_the_copy_its_contact_lists(store: str, tmp_path: Path) -> None:
    # GIVEN a contact listing order o3 (7.00) inline, a second order o1 (12.50), and o3's own
    # record carrying o3 at 12.50: the rebuild counts the contact's copy, 19.50 over 2 orders
    batches = [
        [_contact_listing("o3")],
        [_order(1, 2, [_line("o1", "12.50", 2)])],
        [_order(3, 3, [_line("o3", "12.50", 3)])],
        # WHEN o3's record comes back without its order (its total refused, say): an add-only batch
        [_order(3, 4, [])],
    ]
    grown: list[int] = []
    for profile, state, rebuilt in _played(store, tmp_path / store, batches, grown):
        # THEN the contact's copy of o3 still counts: the profile is the fold of its snapshots
        assert str(profile.computed.lifetime_value["GBP"]) == "19.50"
        assert profile.computed.order_count == 2
        assert profile == rebuilt
        assert state.profile_hash == profile_hash(profile)
    assert grown, "the add-only path was never taken: the test proves nothing of it"


@pytest.mark.parametrize("store", sorted(KITS))
def test_an_order_another_order_record_lists_is_counted_once(store: str, tmp_path: Path) -> None:
    # Red before grow24 (a strict xfail on the memory store): the add-only path took the batch and
    # added o2 again. Now the full plan marks the customer's PROFILE item with the record types that
    # carry another record's order (core.grow_mark), and a batch of such a type is planned in full.
    # GIVEN order record o1 listing o1 and o2 (one JSON line for a split shipment, say)
    batches = [
        [_contact_listing("o9")],
        [_order(1, 2, [_line("o1", "12.50", 2), _line("o2", "5.00", 2)])],
        # WHEN o2's own record arrives, an add-only batch
        [_order(2, 3, [_line("o2", "5.00", 2)])],
    ]
    for profile, state, rebuilt in _played(store, tmp_path / store, batches):
        # THEN o2 counts once, as in the rebuild
        assert str(profile.computed.lifetime_value["GBP"]) == "24.50"
        assert profile.computed == rebuilt.computed
        assert state.profile_hash == profile_hash(profile)


def _child(object_type: str, number: int, hours: int, total: str) -> SourceRecord:
    return _normalised(
        {
            "source": "shop",
            "id": f"o{number}",
            "object_type": object_type,
            "owner_id": "c1",
            "updated_at": _stamp(hours),
            "orders": [_line(f"o{number}", total, hours)],
        }
    )


@pytest.mark.parametrize("store", sorted(KITS))
def test_two_records_of_one_batch_carrying_one_order_count_it_once(store: str, tmp_path: Path) -> None:
    # GIVEN a contact and one order of 10.00 (the customer grows by add-only batches)
    batches = [
        [_contact_listing("o9")],
        [_order(1, 2, [_line("o1", "10.00", 2)])],
        # WHEN one batch brings order o3 and the charge of o3 (two object types, one order id)
        [_child("order", 3, 3, "12.50"), _child("charge", 3, 3, "12.50")],
    ]
    grown: list[int] = []
    for profile, state, rebuilt in _played(store, tmp_path / store, batches, grown):
        # THEN o3 counts once (7.00 + 10.00 + 12.50), as in the rebuild
        assert str(profile.computed.lifetime_value["GBP"]) == "29.50"
        assert profile == rebuilt
        assert state.profile_hash == profile_hash(profile)
    assert grown, "the add-only path was never taken: the test proves nothing of it"
