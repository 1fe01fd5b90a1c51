"""attack5: a record deleted at its vendor (retired) from a customer that lives on with the person's
other records, then re-created at the vendor under the same id with values the customer does not
hold. The record founded that customer, so a new customer for it was planned under the same id
(``customer_id_for`` of its key), every commit lost to the live customer's profile item, and ingest
gave up after 12 attempts: the pull failed on that page, and on every pull after it (found by
test_attack5_odd_orders.py). Now it founds a customer under the first unused id of its series, as a
record split off does. On the in-memory, SQLite and DynamoDB (moto) stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import MappingProxyType

import pytest

from core.identity import IdentityPolicy, customer_id_for
from core.pipeline import IngestSettings, ingest
from core.retirement import SourceDeletion, retire_records
from core.testing.records import T0, make_record
from tests.integration.test_erasure_attacks import STORES, Stores

POLICY = IdentityPolicy(max_records_per_identifier=MappingProxyType({"email": 8, "phone": 5}))
SETTINGS = IngestSettings(policy=POLICY, sleep=lambda _: None)
FOUNDER = "hubspot:contact:b0"


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


def _retire(stores: Stores, day: int) -> None:
    deletion = SourceDeletion(
        source="hubspot", object_type="contact", source_id="b0", deleted_at=T0 + timedelta(days=day)
    )
    assert retire_records([deletion], stores.profiles, stores.erasure, SETTINGS).retired == 1


def _owner(stores: Stores, key: str) -> str | None:
    return stores.owner(f"source#{key}")


def test_a_record_that_founded_a_customer_retired_and_re_created_with_new_values(stores: Stores) -> None:
    # GIVEN Bob's HubSpot contact (which founded his customer) and his shop record on one address;
    # HubSpot deletes the contact: the customer lives on with the shop record
    ingest(
        [
            make_record("hubspot", "b0", email="bob.work@example.com", day=1),
            make_record("shop", "b1", email="bob.work@example.com", day=2),
        ],
        stores.profiles,
        SETTINGS,
    )
    founded = customer_id_for(FOUNDER)
    _retire(stores, day=3)
    assert _owner(stores, "shop:contact:b1") == founded
    # WHEN the contact is re-created at HubSpot under its id, with another address
    result = ingest(
        [make_record("hubspot", "b0", email="bob.home@example.com", day=4)], stores.profiles, SETTINGS
    )
    # THEN it is a customer of its own (nothing joins it to the shop record), under a new id
    assert (result.written, result.new_customers) == (1, 1)
    owner = _owner(stores, FOUNDER)
    assert owner is not None
    assert owner != founded
    assert _owner(stores, "shop:contact:b1") == founded
    assert stores.owner("email#bob.home@example.com") == owner


def test_a_record_whose_customer_was_merged_away_retired_and_re_created(stores: Stores) -> None:
    # GIVEN Bob's contact founded a customer that a later record merged into another (its id is a
    # merge's tombstone now), then HubSpot deleted the contact
    ingest([make_record("hubspot", "b0", email="bob.work@example.com", day=1)], stores.profiles, SETTINGS)
    ingest([make_record("crm", "a9", phone="+14155550122", day=2)], stores.profiles, SETTINGS)
    ingest(
        [make_record("crm", "a9", email="bob.work@example.com", phone="+14155550122", day=5)],
        stores.profiles,
        SETTINGS,
    )
    _retire(stores, day=6)
    # WHEN it is re-created with a new address, twice (the second a later change)
    first = ingest(
        [make_record("hubspot", "b0", email="bob.home@example.com", day=7)], stores.profiles, SETTINGS
    )
    again = ingest(
        [make_record("hubspot", "b0", email="bob.new@example.com", day=8)], stores.profiles, SETTINGS
    )
    # THEN each version is written, the second to the customer the first founded
    assert (first.new_customers, again.written, again.new_customers) == (1, 1, 0)
    assert stores.owner("email#bob.new@example.com") == _owner(stores, FOUNDER)
    assert _owner(stores, FOUNDER) != _owner(stores, "crm:contact:a9")
