"""revI26 on every store: the Stripe charge added in a run of its own, then its WooCommerce order in
another, are one purchase (the add-only path keeps the mark it finds: core.grow_mark.mark_allows)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.batch_ingest import ingest_batch
from core.merge import build_profile
from tests.integration.store_port.conftest import KITS
from tests.integration.store_port.test_revg23_grow_orders import NO_SLEEP
from tests.integration.test_attack19_one_purchase_in_two_tools import _charge, _woo
from tests.integration.test_fix19c_one_purchase import _records


@pytest.mark.parametrize("store", sorted(KITS))
def test_the_charge_and_the_order_each_in_a_run_of_its_own_are_one_purchase(
    store: str, tmp_path: Path
) -> None:
    customer, order = _woo()
    records = _records(order, [_charge(order, "ch_3Kovac", str(order["transaction_id"]))], customer)
    people = [r for r in records if r.level == "person"]
    (charge,) = [r for r in records if r.source == "stripe" and r.orders]
    (shop_order,) = [r for r in records if r.source == "woocommerce" and r.orders]
    for kit in KITS[store](tmp_path / store):
        for batch in (people, [charge], [shop_order]):
            ingest_batch(batch, kit.profiles, NO_SLEEP)
        (profile,) = list(kit.profiles.iter_profiles())
        # THEN one order of 34.80 EUR (on main: 2 orders, the purchase added twice), the fold of the
        # stored snapshots
        assert profile.computed.order_count == 1
        state = kit.profiles.get_customers([profile.customer_id])[profile.customer_id]
        assert profile == build_profile(
            profile.customer_id, state.snapshots.values(), version=profile.version
        )
