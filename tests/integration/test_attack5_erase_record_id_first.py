"""attack5: a person erased by a record id before any sync read that record (the DPO names
``hubspot:contact:123`` as the tool shows it; the request matches no customer). The tool is asked by
that id; if it has not deleted it yet (the erasure pending, or the pull running first), the next pull
reads the record. It must be dropped as the erased person's, as an address nobody held is: before,
only emails and phones nobody held were suppressed, and the record came back as a new customer.
Likewise a record id whose record was retired (deleted at the vendor, her customer gone with it):
its tombstone kept the id in clear after the erasure, and the id was not suppressed (found by
test_attack5_odd_orders.py). On the in-memory, SQLite and DynamoDB (moto) stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from types import MappingProxyType

import pytest

from core.identity import IdentityPolicy
from core.pipeline import IngestSettings
from core.privacy import lift_suppression
from core.retirement import SourceDeletion, retire_records
from core.schema import Identifier
from core.testing.records import T0, make_record
from tests.integration.test_erasure_attacks import BOOKKEEPING, SALT, STORES, Stores, email

NAMED = Identifier(kind="source", value="hubspot:contact:ann-1")
#: Two records may share an address (Ann's are one customer).
TOGETHER = IdentityPolicy(max_records_per_identifier=MappingProxyType({"email": 5, "phone": 5}))


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


def test_a_record_id_erased_before_its_record_was_pulled_stays_erased(stores: Stores) -> None:
    # GIVEN Ann erased by the id of her HubSpot contact, which no sync has read yet
    report = stores.erase(NAMED, "req-ann")
    assert (report.found, report.counts["suppressed"]) == (False, 1)
    # WHEN the contact is pulled, then again with a later change, beside Bob
    first = stores.ingest([make_record("hubspot", "ann-1", email="ann@example.com")])
    later = stores.ingest(
        [
            make_record("hubspot", "ann-1", email="ann@example.com", phone="+14155550111", day=3),
            make_record("hubspot", "bob-1", email="bob@example.com", day=3),
        ]
    )
    # THEN Ann's record is dropped both times and counted, nothing of hers is stored; Bob is
    assert (first.suppressed, later.suppressed, later.written) == (1, 1, 1)
    assert stores.owner(NAMED.key) is None
    assert stores.owner("email#ann@example.com") is None
    assert stores.owner("email#bob@example.com") is not None
    left = [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING) and "ann" in f"{r[0]} {r[1]} {r[2]}"]
    assert left == []


def test_the_record_id_erased_first_is_lifted_with_the_suppression(stores: Stores) -> None:
    # GIVEN Ann erased by a record id nobody held, WHEN she signs up again and the suppression is
    # lifted by that id, THEN her record is stored again
    stores.erase(NAMED, "req-ann")
    lifted = lift_suppression(
        NAMED,
        suppression=stores.suppression,
        erasure=stores.erasure,
        salt=SALT,
        request_id="lift-ann",
        requested_by="dpo",
    )
    assert lifted >= 1
    result = stores.ingest([make_record("hubspot", "ann-1", email="ann@example.com")])
    assert (result.suppressed, result.written) == (0, 1)
    assert stores.owner(email("ann@example.com").key) is not None


def test_a_record_id_erased_after_its_record_was_retired_leaves_no_tombstone(stores: Stores) -> None:
    # GIVEN Ann's only record pulled, then deleted at HubSpot (retired: her customer is gone, the
    # record's tombstone keeps its id in clear)
    stores.ingest([make_record("hubspot", "ann-1", email="ann@example.com")])
    deletion = SourceDeletion(
        source="hubspot", object_type="contact", source_id="ann-1", deleted_at=T0 + timedelta(days=2)
    )
    retire_records([deletion], stores.profiles, stores.erasure, IngestSettings(sleep=lambda _: None))
    assert NAMED.key in stores.profiles.get_owners_and_tombstones([NAMED.key])
    # WHEN she is erased by that record id
    report = stores.erase(NAMED, "req-ann")
    # THEN the tombstone is deleted and the id suppressed: a late copy of the record and the record
    # restored at HubSpot are both dropped
    assert (report.outcome, report.counts["suppressed"], report.counts["ident"]) == ("not_found", 1, 1)
    assert stores.profiles.get_owners_and_tombstones([NAMED.key]) == {}
    late = stores.ingest([make_record("hubspot", "ann-1", email="ann@example.com")])
    restored = stores.ingest([make_record("hubspot", "ann-1", email="ann@example.com", day=5)])
    assert (late.suppressed, restored.suppressed) == (1, 1)
    left = [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING) and "ann" in f"{r[0]} {r[1]} {r[2]}"]
    assert left == []


def test_a_record_id_retired_from_a_live_customer_names_that_customer(stores: Stores) -> None:
    """The tombstone names no customer; the index of names leads from the record to the histories
    naming it, and the live one whose ``source_removed`` has the tombstone's time is hers
    (core.scope_tombstones.retired_from; a strict xfail before)."""
    # GIVEN Ann in HubSpot and in the shop, one customer; HubSpot deletes her contact (retired)
    stores.ingest(
        [
            make_record("hubspot", "ann-1", email="ann@example.com"),
            make_record("shop", "ann-2", email="ann@example.com", day=1),
        ],
        TOGETHER,
    )
    deletion = SourceDeletion(
        source="hubspot", object_type="contact", source_id="ann-1", deleted_at=T0 + timedelta(days=2)
    )
    retire_records([deletion], stores.profiles, stores.erasure, IngestSettings(policy=TOGETHER))
    assert stores.owner("source#shop:contact:ann-2") is not None
    # WHEN she is erased by the id of the HubSpot contact, as she knows it
    report = stores.erase(NAMED, "req-ann", TOGETHER)
    # THEN the person is found and erased: nothing stored names her or her records
    assert report.outcome == "erased"
    assert stores.owner("email#ann@example.com") is None
    left = [r for r in stores.rows() if not r[0].startswith(BOOKKEEPING) and "ann" in f"{r[0]} {r[1]} {r[2]}"]
    assert left == []
