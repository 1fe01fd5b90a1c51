"""Stripe's partial refunds: the part kept is what the buyer paid.

A Stripe charge is ``refunded: true`` only when all of it went back; a partial refund leaves
``refunded: false`` and sets ``amount_refunded`` (https://docs.stripe.com/api/charges/object). The
charge counted at its full amount, so a 100.00 charge with 90.00 refunded added 100.00 to lifetime value.
"""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from typing import Any

from connectors.stripe import PLUGIN, charge_order, make_sandbox
from connectors.stripe._sandbox import FIXTURES
from core.connector import RawPage
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore


def _example(resource: str) -> dict[str, Any]:
    example: dict[str, Any] = json.loads(gzip.decompress(FIXTURES.read_bytes()))["resources"][resource]
    return example


def _captured(charge: dict[str, Any]) -> dict[str, Any]:
    """The charge captured whole (Stripe's example is an authorisation only: nothing taken)."""
    return {**charge, "captured": True, "amount_captured": charge["amount"]}


def test_a_partially_refunded_charge_counts_what_was_kept() -> None:
    # GIVEN Stripe's example charge for 100.00 USD with 90.00 of it refunded (refunded stays false)
    charge = _captured({**_example("charge"), "amount": 10000, "amount_refunded": 9000, "refunded": False})
    # WHEN it becomes an order
    order = charge_order(charge)
    # THEN the order is paid, for the 10.00 kept
    assert order["status"] == "paid"
    assert order["total"] == Decimal("10.00")


def test_a_fully_refunded_charge_is_a_refund_and_an_unrefunded_one_counts_whole() -> None:
    charge = _captured(_example("charge"))
    assert charge_order({**charge, "amount_refunded": 100, "refunded": True})["status"] == "refunded"
    whole = charge_order(_captured({**charge, "amount": 2500, "amount_refunded": 0}))
    assert (whole["status"], whole["total"]) == ("paid", Decimal("25.00"))


def test_partial_refunds_reach_lifetime_value_net() -> None:
    # GIVEN a customer and two charges of 100.00, one with 30.00 refunded
    customer = {**_example("customer"), "email": "jenny.rosen@example.com"}
    charges = [
        _captured(
            {
                **_example("charge"),
                "id": f"ch_{n}",
                "customer": customer["id"],
                "amount": 10000,
                "amount_refunded": r,
            }
        )
        for n, r in ((1, 0), (2, 3000))
    ]
    connector = PLUGIN.build(make_sandbox(people=0).settings())
    drafts = [
        *connector.to_records(RawPage([customer], None, "customer")),
        *connector.to_records(RawPage(charges, None, "charge")),
    ]
    records = [normalise_record(d) for d in drafts]
    store = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord)], store, IngestSettings(sleep=lambda _: None))
    # THEN lifetime value is what she kept paying: 170.00
    [profile] = store.iter_profiles()
    assert profile.computed.lifetime_value == {"USD": Decimal("170.00")}
