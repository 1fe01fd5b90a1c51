"""fix19c on every store: the Stripe charge of a WooCommerce order, arriving in a later batch than
the order (the add-only path's case), is the same purchase: one order, and the stored profile is the
fold of its snapshots."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import patch

import pytest

from core import ingest_plan
from core.batch_ingest import ingest_batch
from core.merge import build_profile, profile_hash
from tests.integration.store_port.conftest import KITS
from tests.integration.store_port.test_growing_customer_on_every_store import _counting_grown
from tests.integration.store_port.test_revg23_grow_orders import NO_SLEEP
from tests.integration.test_attack19_one_purchase_in_two_tools import _charge, _woo
from tests.integration.test_fix19c_one_purchase import _records


@pytest.mark.parametrize("store", sorted(KITS))
def test_the_charge_a_batch_after_its_order_is_the_same_purchase(store: str, tmp_path: Path) -> None:
    # GIVEN the WooCommerce customer and order and the Stripe customer in one batch
    customer, order = _woo()
    records = _records(order, [_charge(order, "ch_3Kovac", str(order["transaction_id"]))], customer)
    charge = [r for r in records if r.key == "stripe:charge:ch_3Kovac"]
    for kit in KITS[store](tmp_path / store):
        ingest_batch([r for r in records if r not in charge], kit.profiles, NO_SLEEP)
        # WHEN the charge comes in the next batch
        ingest_batch(charge, kit.profiles, NO_SLEEP)
        # THEN one order of 34.80 EUR (before fix19c: 2, 69.60), the fold of the stored snapshots
        (profile,) = list(kit.profiles.iter_profiles())
        assert profile.computed.order_count == 1
        assert {c: str(v) for c, v in profile.computed.lifetime_value.items()} == {"EUR": "34.80"}
        state = kit.profiles.get_customers([profile.customer_id])[profile.customer_id]
        rebuilt = build_profile(profile.customer_id, state.snapshots.values(), version=profile.version)
        assert profile == rebuilt
        assert state.profile_hash == profile_hash(profile)


def test_a_stripe_customers_next_charge_is_planned_add_only(tmp_path: Path) -> None:
    # GIVEN a Stripe customer with one charge stored, and her next charge (another PaymentIntent)
    customer, order = _woo()
    records = _records(
        order, [_charge(order, "ch_3One", "pi_3One"), _charge(order, "ch_3Two", "pi_3Two")], customer
    )
    stripe_only = [r for r in records if r.source == "stripe"]
    second = [r for r in stripe_only if r.key == "stripe:charge:ch_3Two"]
    grown: list[int] = []
    for kit in KITS["memory"](tmp_path / "memory"):
        ingest_batch([r for r in stripe_only if r not in second], kit.profiles, NO_SLEEP)
        # WHEN the second charge arrives alone
        with patch.object(ingest_plan, "grow_plan", _counting_grown(ingest_plan.grow_plan, grown)):
            ingest_batch(second, kit.profiles, NO_SLEEP)
        (profile,) = list(kit.profiles.iter_profiles())
        assert profile.computed.order_count == 2
    # THEN it was planned from the profile item, as a charge without references was before fix19c
    assert grown
