"""A growing customer past the packing threshold, one order a batch, on the three stores: the add-only
path (core.ingest_grow) reads her profile item through the stores' ``get_customer_head``, which must
take a packed item as every other reader does (core.storage.profile_packing). With the limits lowered
(``small_items``: packed past 2 KB, 8 KB an item) forty orders stand for the thousands of a
wholesale buyer.

Red first: with ``get_customer_head`` reading ``data`` as text (grow23's readers before the merge
with pack23), the SQLite store handed the planner the packed bytes as the profile's JSON and the
DynamoDB store failed on the item's missing ``S`` value as soon as her item was packed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.schema import SourceRecord
from tests.integration.store_port.test_growing_customer_on_every_store import (
    _check_batched_equals_one_batch,
    _contact,
    _order,
    grown_batches,
)
from tests.integration.store_port.test_packed_profile_on_every_store import small_items

__all__ = ["grown_batches", "small_items"]  # fixtures, used by name


def _one_order_a_batch(orders: int) -> list[list[SourceRecord]]:
    records = [_contact(0, "Ann"), *(_order(n, n, f"{10 + n}.50", "GBP", "paid") for n in range(orders))]
    return [[record] for record in records]


@pytest.mark.usefixtures("small_items")
@pytest.mark.parametrize("store", ["memory", "sqlite", "dynamodb"])
def test_a_packed_growing_customer_is_planned_from_her_packed_item(
    store: str, tmp_path: Path, grown_batches: list[int]
) -> None:
    # GIVEN her contact, then forty orders, each in a batch of its own (her item packs after a dozen)
    batches = _one_order_a_batch(40)
    # WHEN they are ingested one batch at a time, THEN her profile is the one batch of everything gives
    _check_batched_equals_one_batch(store, tmp_path / store, batches)
    # AND most batches were planned from her profile item, the packed ones among them
    assert len(grown_batches) >= 30
