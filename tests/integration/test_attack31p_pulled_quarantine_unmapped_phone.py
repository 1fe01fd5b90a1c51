"""attack31p: a Stripe customer quarantined by a pull, her phone only in ``shipping.phone``, outlives her
erasure by that phone, on every store; and after it, her next malformed copy is quarantined again, not
dropped.

A customer made by Stripe Checkout with shipping collected often has ``phone`` and ``email`` null and
her number in ``shipping.phone`` (Stripe's customer object: ``shipping {address, name, phone}``). The
Stripe connector maps ``email`` and ``phone`` only (connectors/stripe/_declaration.py
``CUSTOMER_FIELDS``), so such a customer has no usable identifier and the pull quarantines it, its raw
object kept with her name, shipping address and number (core/sync.py ``quarantine_entries``). The
entry's ``subjects``, by which an erasure finds it (core/privacy_request.py ``quarantined_of``), are the
keyed hashes of ``identifier_keys(draft)``: the draft's mapped values and record id only. attack30
made ``resolve``'s quarantine read every value of a record, whatever its column (profilesync/
erased_quarantine.py); a pull's entries still do not. So:

* her erasure by phone (she is a CRM contact with that number) answers ``erased`` and leaves the
  quarantined Stripe customer, her number, name and address in it;
* a pull after her erasure meets the same customer malformed and quarantines it again with its
  content, where one of her records is to be dropped (docs/privacy.md, "Suppression": "a malformed
  record of the person is dropped too, not quarantined with its content").

The object is Stripe's own customer fixture (specs/stripe-fixtures3.json.gz, Stripe's OpenAPI
fixtures), with the name and shipping Checkout fills in.

Fix idea: compute a pulled quarantine entry's subjects (and the pull's drop check) over every value
of its raw object, as profilesync/erased_quarantine.py ``_keys`` reads a resolve line's.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.sdk._mapping import record_to_draft
from connectors.stripe._declaration import DECLARATION
from core.normalise import NormaliseOptions, normalise_record
from core.schema import Identifier, Quarantined
from core.suppression import SuppressionCheck
from core.sync import quarantine_entries
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import SALT, Stores, stores

__all__ = ["stores"]  # the fixture (every store of test_erasure_attacks), imported for pytest

HER_PHONE = "+442079460018"
AT = datetime(2026, 3, 1, tzinfo=UTC)
GB = NormaliseOptions(default_region="GB")
FIXTURES = Path(__file__).parents[2] / "specs" / "stripe-fixtures3.json.gz"


def _her_stripe_customer() -> dict[str, Any]:
    """Stripe's fixture customer as Checkout leaves it: no email or phone, her shipping details."""
    with gzip.open(FIXTURES, "rt", encoding="utf-8") as fixtures:
        customer: dict[str, Any] = json.load(fixtures)["resources"]["customer"]
    assert (customer["email"], customer["phone"]) == (None, None)
    address = {"city": "Whitby", "country": "GB", "line1": "12 Quay Street", "line2": None}
    address |= {"postal_code": "YO21 3PT", "state": None}
    shipping = {"address": address, "name": "Ann Quillon", "phone": "+44 20 7946 0018"}
    return {**customer, "id": "cus_Ann31p", "name": "Ann Quillon", "shipping": shipping, "address": address}


def _pulled(stores: Stores) -> int:
    """The pull's quarantine entries for her customer, written; how many."""
    stream = next(s for s in DECLARATION.streams if s.object_type == "customer")
    draft = record_to_draft("stripe", stream, _her_stripe_customer())
    outcome = normalise_record(draft, GB)
    assert isinstance(outcome, Quarantined), outcome
    entries = quarantine_entries(
        "stripe", [(outcome, draft)], AT, SuppressionCheck(stores.suppression, SALT), GB
    )
    stores.sync_state.put_quarantined(entries)
    return len(entries)


def _erase_her(stores: Stores) -> str:
    from core.privacy import erase_person

    report = erase_person(
        Identifier(kind="phone", value=HER_PHONE),
        profiles=stores.profiles,
        erasure=stores.erasure,
        tools={},
        salt=SALT,
        request_id="req-31p-stripe",
        sync_state=stores.sync_state,
        suppression=stores.suppression,
        quarantine_of=("stripe",),
        region="GB",
    )
    return report.outcome


REASON = (
    "core/sync.py:354 gives a pulled quarantine entry the subjects of identifier_keys(draft) only "
    "(core/quarantine.py:111: the mapped emails and phones), not of its raw object's other values "
    "(Stripe's shipping.phone), so core/privacy_request.py:203 quarantined_of never finds it and the "
    "pull's drop check misses it; fix idea: read every raw value, as erased_quarantine._keys does"
)


def test_her_quarantined_stripe_customer_goes_with_her_erasure(stores: Stores) -> None:
    # GIVEN her CRM contact with her phone, and her Stripe customer quarantined by a pull
    stores.ingest([make_record("crm", "ann", phone=HER_PHONE, traits={"first_name": "Ann"})])
    assert _pulled(stores) == 1
    assert "+44 20 7946 0018" in json.dumps([i.raw for i in stores.erasure.quarantined_items("stripe")])
    # WHEN she is erased by her phone
    assert _erase_her(stores) == "erased"
    # THEN the quarantined Stripe customer is gone
    assert list(stores.erasure.quarantined_items("stripe")) == []


def test_after_her_erasure_her_malformed_stripe_customer_is_dropped(stores: Stores) -> None:
    # GIVEN she was erased by her phone (nobody held it: suppressed all the same)
    assert _erase_her(stores) == "not_found"
    # WHEN a pull meets her Stripe customer THEN it is dropped, not quarantined with her details
    assert _pulled(stores) == 0


def test_control_her_number_in_the_mapped_phone_is_hers(stores: Stores) -> None:
    """Passes on main: with her number in ``phone`` (and a bad email, so still quarantined) the entry is
    found and deleted. Catches ``quarantined_of`` no longer matching subjects."""
    stores.ingest([make_record("crm", "ann", phone=HER_PHONE, traits={"first_name": "Ann"})])
    stream = next(s for s in DECLARATION.streams if s.object_type == "customer")
    raw = {**_her_stripe_customer(), "phone": "+44 20 7946 0018", "email": "ann.quillon@", "created": "soon"}
    draft = record_to_draft("stripe", stream, raw)
    outcome = normalise_record(draft, GB)
    assert isinstance(outcome, Quarantined), outcome
    entries = quarantine_entries(
        "stripe", [(outcome, draft)], AT, SuppressionCheck(stores.suppression, SALT), GB
    )
    stores.sync_state.put_quarantined(entries)
    assert _erase_her(stores) == "erased"
    assert list(stores.erasure.quarantined_items("stripe")) == []
