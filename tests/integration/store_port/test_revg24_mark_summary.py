"""revG24: the add-only mark (core.grow_mark) promises that no stored amount of the customer is
coarser than its currency's minor units, but it reads each snapshot's ``orders`` only: the totals
of an ``OrderSummary`` (a record's older orders summed up) are amounts of the lifetime value too.
A contact carrying a summary of ``5`` GBP was marked, and the add-only path took 2.00 out of 7.00
leaving 5.00 where the rebuild has 5 (equal numbers, another JSON and content hash)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core.merge import build_profile, profile_hash
from core.schema import OrderSummary
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_grow24_add_only_mark import CONTACT, T0, _ingest, _order

SUMMED = CONTACT.model_copy(
    update={
        "order_summary": OrderSummary(
            orders=1,
            paid={"GBP": 1},
            totals={"GBP": Decimal("5")},
            first_paid_at=T0 - timedelta(days=30),
            last_paid_at=T0 + timedelta(days=30),
        )
    }
)


def test_a_summary_coarser_than_its_minor_units_gives_the_rebuild_byte_for_byte(kit: StoreKit) -> None:
    # GIVEN a contact whose older orders are summed up as 5 GBP (not normalised), and an order of 2.00
    # WHEN the order is cancelled
    _ingest(kit, [[SUMMED], [_order(1, 1, "2.00")], [_order(1, 2, "2.00", status="cancelled")]])
    # THEN the profile is the rebuild's, 5, as JSON and by its hash
    (profile,) = list(kit.profiles.iter_profiles())
    state = kit.profiles.get_customers([profile.customer_id])[profile.customer_id]
    rebuilt = build_profile(profile.customer_id, state.snapshots.values(), version=profile.version)
    assert str(rebuilt.computed.lifetime_value["GBP"]) == "5"
    assert profile.model_dump_json() == rebuilt.model_dump_json()
    assert state.profile_hash == profile_hash(rebuilt)
