"""attack12's household case on the three stores (the e2e proof is in
tests/e2e/test_attack12_erased_spellings.py): her record, stored before her erasure under a
household member's customer by their shared phone, her address refused into its dropped values
(``Zéphyrine Quillfeather <address>``), goes with her erasure by her address; the household
member's customer stays.

Red before core.privacy_refused (a strict xfail for three rounds): the erasure found records by their
identifiers and record ids only, never by their dropped values. Now her erasure reads the refused
values of the other customers' records (keyed like a quarantined record's ``subjects``,
core.quarantine) and retires hers from that customer as a deletion at the vendor is (core.retirement);
the odd orders are in test_household_refused_orders_on_every_store.py.
"""

from __future__ import annotations

from core.privacy import identifier_for
from core.schema import DroppedValue, SourceRecord
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_privacy22_on_every_store import _erase, _erasure, _stored

HER = "zephyrine.q@example.org"
HOUSEHOLD = "+44 20 7946 0555"


def _her_record() -> SourceRecord:
    record = make_record("crm", "2", phone=HOUSEHOLD, traits={"first_name": "Zéphyrine"}, day=1)
    refused = DroppedValue(field="email", value=f"Zéphyrine Quillfeather <{HER}>", reason="not an email")
    return record.model_copy(update={"dropped": (refused,)})


def test_her_record_on_her_households_phone_goes_with_her_erasure(kit: StoreKit) -> None:
    # GIVEN the household member's record and hers, joined by the shared phone, her address refused
    olu = make_record(
        "crm", "1", email="olu.adeyemi@example.com", phone=HOUSEHOLD, traits={"first_name": "Olu"}
    )
    _stored(kit, olu, _her_record())
    (before,) = list(kit.profiles.iter_profiles())
    customer = kit.profiles.get_customers([before.customer_id])[before.customer_id]
    assert set(customer.snapshots) == {olu.key, _her_record().key}
    # WHEN she is erased by her address
    _erase(kit, _erasure(kit), identifier_for(email=HER), "req-household")
    # THEN the household member's customer is kept, without her record
    (after,) = list(kit.profiles.iter_profiles())
    kept = kit.profiles.get_customers([after.customer_id])[after.customer_id]
    assert olu.key in kept.snapshots
    assert _her_record().key not in kept.snapshots
