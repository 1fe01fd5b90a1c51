"""attack3: retirement and erasure through the sync path, against the HubSpot sandbox (every answer as
HubSpot gives it): Ann is a HubSpot contact and a shop customer; HubSpot deletes (archives) her
contact, a pull retires it (a tombstone ``IDENT#source#hubspot:contact:<id>``); she is erased by her
address; then HubSpot restores the contact (its id kept, a newer version). Nothing of hers may be
left in the table, and the restored contact must be dropped at the next pull, not stored again."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from connectors._http import RetryPolicy
from connectors.hubspot import HubSpotConnector, HubSpotSandbox
from core.identity import IdentityPolicy
from core.pipeline import IngestSettings
from core.suppression import SuppressionCheck
from core.sync import pull_into_store
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import SALT, STORES, Stores, email

T = datetime(2026, 11, 20, 12, tzinfo=UTC)
TOGETHER = IdentityPolicy(max_records_per_identifier=MappingProxyType({"email": 5, "phone": 5}))
BOOKKEEPING = ("SUPPRESS#", "SUPPRESSION#", "AUDIT#", "PENDING#", "ERASURE#")


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    with STORES[request.param]() as found:
        yield found


def _connector(sandbox: HubSpotSandbox) -> HubSpotConnector:
    retry = RetryPolicy(max_attempts=8, backoff_floor=0.01, backoff_cap=0.05, sleep=lambda _: None)
    settings = dataclasses.replace(
        sandbox.settings(transport=False), transport=sandbox.transport(), retry=retry
    )
    return HubSpotConnector(settings)


def _pull(stores: Stores, hubspot: HubSpotConnector) -> object:
    check = SuppressionCheck(stores.suppression, SALT)
    settings = IngestSettings(policy=TOGETHER, sleep=lambda _: None)
    return pull_into_store(
        hubspot,
        stores.profiles,
        stores.sync_state,
        settings=settings,
        suppression=check,
        erasure=stores.erasure,
    )


def test_a_contact_archived_then_its_person_erased_then_restored_leaves_nothing_of_her(
    stores: Stores,
) -> None:
    sandbox = HubSpotSandbox(
        people=12, seed=7, rate_limit_per_10s=100_000, search_requests_per_second=100_000
    )
    sandbox.clock.set(T)
    hubspot = _connector(sandbox)
    try:
        # GIVEN the contacts pulled, and Ann (one of them) also a shop customer
        _pull(stores, hubspot)
        key, address = next(
            (k, a)
            for k in sorted(sandbox.record_keys())
            if (a := sandbox._contacts[k.split(":")[1]].email() or "").isascii() and a == a.strip().lower()
        )
        contact_id = key.split(":")[1]
        stores.ingest([make_record("shop", "ann-shop", email=address, day=400)], TOGETHER)
        # WHEN HubSpot deletes her contact and a pull retires it
        sandbox.clock.set(T + timedelta(days=1))
        sandbox.delete_records({key})
        report = _pull(stores, hubspot)
        assert report.retired is not None  # type: ignore[attr-defined]
        assert report.retired.retired == 1  # type: ignore[attr-defined]
        record = f"source#hubspot:{key}"
        assert record in stores.profiles.get_owners_and_tombstones([record])
        # AND she is erased by her address
        assert stores.erase(email(address), "req-ann", TOGETHER).outcome == "erased"
        # AND HubSpot restores the contact (the same id, modified later), and a pull runs
        sandbox.restore(key, at=T + timedelta(days=2))
        sandbox.clock.set(T + timedelta(days=2))
        after = _pull(stores, hubspot)
        # THEN the restored contact was dropped as an erased person's, and no item names her
        assert after.suppressed == 1  # type: ignore[attr-defined]
        assert stores.profiles.get_owners_and_tombstones([record, f"email#{address}"]) == {}
        left = [
            (pk, sk)
            for pk, sk, rest in stores.rows()
            if not pk.startswith(BOOKKEEPING)
            and re.search(
                rf"contact:{contact_id}\b|ann-shop|{re.escape(address)}", f"{pk} {sk} {rest}".lower()
            )
        ]
        assert left == []
    finally:
        hubspot.close()
