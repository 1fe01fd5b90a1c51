"""revP24: the index of refused values is written in the region its erasure reads phones in.

A refused phone value written as a national number (``Zephyrine 020 7946 0177 (mobile)``) names a
number only in its region. Before the index, her erasure read every record with refused values in
the request's region (``erase_person(region=)``: ``--region GB``) and found it. priv24's entries are
computed by ``SuppressionCheck.split`` in the check's own region, "US" unless told (the merge
function's wiring, ``profilesync sync``), so the GB number gave no entry and, once the index is
complete, her erasure read nothing that named her: her record stayed under the household's customer.
Fixed: every entry reads refused phones in one region (core.privacy_refused_index.REGION), and an
erasure by a phone in another region passes over every record as before.

Also: her record retired from the household leaves no entry under another value it holds (a
mutation dropping that ``forget_records`` passed every priv24 test).
"""

from __future__ import annotations

import pytest

from core.privacy import erase_person, identifier_for
from core.privacy_refused_index import backfill
from core.schema import DroppedValue
from core.storage.refused_index import refused_index
from core.suppression import keyed_hash
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_household_refused_orders_on_every_store import HOUSEHOLD, OLU
from tests.integration.store_port.test_privacy22_on_every_store import SALT, _erasure, _stored

HERS = "+44 20 7946 0177"
HOUSEHOLD_INBOX = "olu.adeyemi@example.com"  # OLU's: the family's one address


@pytest.mark.parametrize("indexed", [False, True], ids=["before-the-index", "index-complete"])
def test_her_refused_national_number_is_found_in_the_region_of_her_erasure(
    kit: StoreKit, indexed: bool
) -> None:
    # GIVEN (with the index complete, or a store of before it) her record under the household's
    # customer by their shared address, her own number refused in it as a GB national number
    if indexed:
        index = refused_index(kit.profiles)
        assert index is not None
        backfill(kit.profiles, index, "US", lambda k: keyed_hash(SALT, k))
    record = make_record("crm", "2", email=HOUSEHOLD_INBOX, traits={"first_name": "Zephyrine"})
    refused = DroppedValue(field="phone", value="Zephyrine 020 7946 0177 (mobile)", reason="not a phone")
    _stored(kit, OLU, record.model_copy(update={"dropped": (refused,)}))
    # WHEN she is erased by her number, phones read in GB
    erase_person(
        identifier_for(phone=HERS, region="GB"),
        profiles=kit.profiles,
        erasure=_erasure(kit),
        tools={},
        salt=SALT,
        request_id="req-gb",
        sync_state=kit.sync_state,
        suppression=kit.suppression,
        region="GB",
        sleep=lambda _: None,
    )
    # THEN her record left the household's customer, as it did before the index
    held = {ref.id for p in kit.profiles.iter_profiles() for ref in p.sources}
    assert held == {OLU.source_id}


def test_her_record_retired_from_the_household_leaves_no_entry_under_another_value(kit: StoreKit) -> None:
    # GIVEN (index complete) her record under the household's customer by their shared phone, her
    # address refused in it
    # and, refused too, her friend Kim's number: it is indexed under her address and under Kim's
    # (a mutation dropping the erasure's forget_records of the records it retires passed priv24's tests)
    index = refused_index(kit.profiles)
    assert index is not None
    backfill(kit.profiles, index, "US", lambda k: keyed_hash(SALT, k))
    her = "zq@example.org"
    record = make_record("crm", "2", phone=HOUSEHOLD)
    refused = (
        DroppedValue(field="email", value=f"Zephyrine <{her}>", reason="not an email"),
        DroppedValue(field="phone", value="Kim +1 202 555 0177 (mobile)", reason="not a phone"),
    )
    _stored(kit, OLU, record.model_copy(update={"dropped": refused}))
    kim = keyed_hash(SALT, "phone#+12025550177")
    assert index.records([kim]) == {kim: {"crm:contact:2"}}
    # WHEN she is erased by her address
    erase_person(
        identifier_for(email=her),
        profiles=kit.profiles,
        erasure=_erasure(kit),
        tools={},
        salt=SALT,
        request_id="req-kim",
        sync_state=kit.sync_state,
        suppression=kit.suppression,
        sleep=lambda _: None,
    )
    # THEN her record is retired and no entry names it, under Kim's number either
    assert {ref.id for p in kit.profiles.iter_profiles() for ref in p.sources} == {OLU.source_id}
    assert index.records([kim]) == {}
