"""attack3: a record of Ann's deleted at the vendor (retired: its tombstone ``IDENT#source#<key>``
with owner ``~retired`` keeps the deletion time), then Ann erased by her address. An erasure must
leave no item naming any record of hers, the retired one included: a vendor record id is what
suppression keeps only as a keyed hash, and the tombstone keeps it in clear in its key. The
retirement leaves a ``source_removed`` event on her customer, which the erasure reads to find it
(core.scope_tombstones); odd orders around it: a late older version after the erasure, a merge in
between, the record re-created at the vendor, and her last records retired after the first."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from types import MappingProxyType

import pytest

from core.identity import IdentityPolicy
from core.pipeline import IngestSettings
from core.privacy import PrivacyStores, export_person
from core.retirement import SourceDeletion, retire_records
from core.testing.records import T0, make_record
from tests.integration.test_erasure_attacks import SALT, STORES, Stores, email

BOOKKEEPING = ("SUPPRESS#", "SUPPRESSION#", "AUDIT#", "PENDING#", "ERASURE#")
#: Two records may share an address (Ann's three records are one customer).
TOGETHER = IdentityPolicy(max_records_per_identifier=MappingProxyType({"email": 5, "phone": 5}))
ANN = ("ann-old", "ann-new", "ann-shop", "ann@", "4155550111")
OLD = "source#hubspot:contact:ann-old"


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    opened: Callable[[], AbstractContextManager[Stores]] = STORES[request.param]
    with opened() as found:
        yield found


def _ann_and_bob(stores: Stores) -> None:
    """Ann in HubSpot twice and in the shop, and Bob."""
    stores.ingest(
        [
            make_record("hubspot", "ann-old", email="ann@example.com", phone="+14155550111"),
            make_record("hubspot", "ann-new", email="ann@example.com", day=1),
            make_record("shop", "ann-shop", email="ann@example.com", day=2),
            make_record("hubspot", "bob", email="bob@example.com"),
        ],
        TOGETHER,
    )


def _retire(stores: Stores, *ids: tuple[str, str], day: int = 5) -> int:
    deletions = [
        SourceDeletion(source=s, object_type="contact", source_id=i, deleted_at=T0 + timedelta(days=day))
        for s, i in ids
    ]
    settings = IngestSettings(policy=TOGETHER, sleep=lambda _: None)
    return retire_records(deletions, stores.profiles, stores.erasure, settings).retired


def _tombstone(stores: Stores, key: str = OLD) -> bool:
    return key in stores.profiles.get_owners_and_tombstones([key])


def _nothing_of_ann(stores: Stores) -> None:
    """No item (the erasure's hashed bookkeeping aside) names a record of hers, or her values; Bob stays."""
    assert not _tombstone(stores)
    owners = stores.profiles.get_owners_and_tombstones(
        [OLD, "source#hubspot:contact:ann-new", "source#shop:contact:ann-shop", "email#ann@example.com"]
    )
    assert owners == {}
    left = [
        (pk, sk)
        for pk, sk, rest in stores.rows()
        if not pk.startswith(BOOKKEEPING) and any(v in f"{pk} {sk} {rest}" for v in ANN)
    ]
    assert left == []
    assert stores.owner("email#bob@example.com") is not None


def test_erasing_a_person_leaves_no_tombstone_of_her_retired_records(stores: Stores) -> None:
    # GIVEN Ann and Bob; HubSpot then deletes one of Ann's records
    _ann_and_bob(stores)
    assert _retire(stores, ("hubspot", "ann-old")) == 1
    assert _tombstone(stores)
    # WHEN Ann is erased by her address
    assert stores.erase(email("ann@example.com"), "req-ann", TOGETHER).outcome == "erased"
    # THEN nothing of hers is left, the tombstone included
    _nothing_of_ann(stores)


def test_after_the_erasure_a_late_version_of_the_retired_record_is_suppressed(stores: Stores) -> None:
    # GIVEN Ann with a retired record, erased
    _ann_and_bob(stores)
    _retire(stores, ("hubspot", "ann-old"))
    stores.erase(email("ann@example.com"), "req-ann", TOGETHER)
    # WHEN the vendor's older version of it arrives late (a redelivered message), and the record is
    # re-created at the vendor (undeleted: the same id) with a new address of hers
    late = make_record("hubspot", "ann-old", email="ann@example.com", phone="+14155550111")
    undeleted = make_record("hubspot", "ann-old", email="ann.new@example.com", day=9)
    result = stores.ingest([late], TOGETHER)
    again = stores.ingest([undeleted], TOGETHER)
    # THEN both are dropped as an erased person's (her record id is suppressed), nothing is stored
    assert (result.suppressed, again.suppressed) == (1, 1)
    assert stores.owner("email#ann.new@example.com") is None
    _nothing_of_ann(stores)


def test_a_retired_record_of_a_customer_merged_into_another_is_erased_with_the_survivor(
    stores: Stores,
) -> None:
    # GIVEN Ann's records (one retired) and her work address on another customer
    _ann_and_bob(stores)
    _retire(stores, ("hubspot", "ann-old"))
    stores.ingest([make_record("mail", "ann-work", email="ann.work@example.com", day=6)], TOGETHER)
    # WHEN a record holding both addresses merges the two customers, and Ann is erased by the work one
    stores.ingest(
        [make_record("crm", "ann-both", email=["ann@example.com", "ann.work@example.com"], day=7)],
        TOGETHER,
    )
    assert stores.owner("email#ann@example.com") == stores.owner("email#ann.work@example.com")
    assert stores.erase(email("ann.work@example.com"), "req-ann", TOGETHER).outcome == "erased"
    # THEN the tombstone of the record retired from the absorbed customer is gone too
    _nothing_of_ann(stores)
    assert stores.owner("email#ann.work@example.com") is None


def test_a_record_re_created_at_the_vendor_is_erased_as_hers_and_no_tombstone_stays(stores: Stores) -> None:
    # GIVEN Ann's record retired, then restored at the vendor (a newer version, the same id)
    _ann_and_bob(stores)
    _retire(stores, ("hubspot", "ann-old"))
    restored = make_record("hubspot", "ann-old", email="ann@example.com", phone="+14155550111", day=8)
    assert stores.ingest([restored], TOGETHER).written == 1
    assert stores.owner(OLD) == stores.owner("email#ann@example.com")
    # WHEN she is erased
    assert stores.erase(email("ann@example.com"), "req-ann", TOGETHER).outcome == "erased"
    # THEN nothing of hers is left
    _nothing_of_ann(stores)


def test_retiring_a_customers_last_records_keeps_the_tombstones_of_those_retired_before(
    stores: Stores,
) -> None:
    # GIVEN Ann's first record retired, then the other two (her customer goes)
    _ann_and_bob(stores)
    _retire(stores, ("hubspot", "ann-old"))
    _retire(stores, ("hubspot", "ann-new"), ("shop", "ann-shop"), day=6)
    assert stores.owner("email#ann@example.com") is None
    # WHEN the older version of the first arrives late
    late = make_record("hubspot", "ann-old", email="ann@example.com", phone="+14155550111")
    result = stores.ingest([late], TOGETHER)
    # THEN it is stale: its tombstone was kept, and no customer of hers is created again
    assert (result.stale, result.written) == (1, 0)
    assert all(_tombstone(stores, k) for k in (OLD, "source#hubspot:contact:ann-new"))
    assert stores.owner("email#ann@example.com") is None


def test_the_export_lists_the_tombstones_the_erasure_deletes(stores: Stores) -> None:
    # GIVEN Ann with a retired record
    _ann_and_bob(stores)
    _retire(stores, ("hubspot", "ann-old"))
    # WHEN she asks for her data
    privacy = PrivacyStores(stores.profiles, stores.erasure, stores.sync_state, stores.suppression)
    export = export_person(stores.profiles, email("ann@example.com"), stores=privacy, salt=SALT)
    # THEN the items listed include the tombstone that names her retired record
    assert export is not None
    assert any(k.pk == f"IDENT#{OLD}" for k in export.items)
