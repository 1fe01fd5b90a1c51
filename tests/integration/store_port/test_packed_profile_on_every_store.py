"""A customer whose PROFILE item passes the packing threshold, on the three stores, with the limits
lowered (``small_items``): a few dozen orders stand for the thousands a wholesale buyer or a Stripe
subscription customer has.

* packed, she keeps every order: read back whole by ingest, push, the profile API, reconcile's
  scan and an export (before packing: the orders past the lowered 400 KB were quarantined);
* past the packed ceiling an order is still quarantined with its reason and counted, never lost;
* her erasure leaves nothing of her in the store.

Red first (the code before core.storage.profile_packing, with the 8 KB limit patched into
core.ingest_fresh, core.storage.sqlite_commit and core.storage.memory_sizes by hand): 29 of her 60
charges were quarantined on the in-memory and SQLite stores; the DynamoDB store left the limit to the
service, so there her item was written unpacked, 14 KB, past the lowered limit.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from connectors.jsonl import draft_from_flat
from core.batch_ingest import ingest_batch
from core.pipeline import IngestSettings
from core.privacy import erase_person, export_person, identifier_for
from core.schema import Quarantined, RecordDraft, SourceRecord
from core.storage import profile_packing
from core.storage.memory_privacy import InMemoryErasureStore
from core.storage.sqlite_commit import row_of
from profilesync.resolve import resolve
from tests.integration.store_port.conftest import TABLE, StoreKit

SALT = "packing-salt"
#: The lowered limits: a profile item packs past 2 KB and holds 8 KB. Unpacked, an order with a
#: Stripe-style id weighs about 236 bytes (about 33 orders to 8 KB); packed, about 30.
THRESHOLD = 2 * 1024
ITEM_MAX = 8 * 1024


@pytest.fixture
def small_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lower the item limit and the packing threshold for every store (and ingest's fast path)."""
    import core.ingest_fresh
    import core.storage.sqlite_commit

    monkeypatch.setattr(profile_packing, "ITEM_MAX_BYTES", ITEM_MAX)
    monkeypatch.setattr(profile_packing, "PACK_THRESHOLD_BYTES", THRESHOLD)
    monkeypatch.setattr(core.ingest_fresh, "ITEM_MAX_BYTES", ITEM_MAX)
    monkeypatch.setattr(core.storage.sqlite_commit, "ITEM_MAX_BYTES", ITEM_MAX)


def _charge_id(n: int) -> str:
    """A Stripe-style charge id: 24 characters that compress as badly as random ones."""
    return "ch_" + hashlib.sha256(str(n).encode()).hexdigest()[:24]


def _drafts(orders: int) -> Iterator[RecordDraft | Quarantined | SourceRecord]:
    yield draft_from_flat(
        {"source": "stripe", "id": "cus_1", "updated_at": "2026-03-01T00:00:00Z", "email": "big@example.org"}
    )
    for n in range(orders):
        at = f"2026-03-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z"
        yield draft_from_flat(
            {
                "source": "stripe",
                "id": _charge_id(n),
                "object_type": "charge",
                "owner_id": "cus_1",
                "updated_at": at,
                "orders": [{"id": _charge_id(n), "total": "9.99", "currency": "EUR", "created_at": at}],
            }
        )


def _resolve(kit: StoreKit, orders: int) -> tuple[int, dict[str, str]]:
    """Her contact and ``orders`` charges in one batch: records quarantined, and each one's reason."""
    quarantined: list[Quarantined] = []
    report = resolve(
        _drafts(orders),
        kit.profiles,
        settings=IngestSettings(sleep=lambda _: None),
        batch_size=orders + 1,
        quarantine=quarantined.append,
        ingesting=ingest_batch,
    )
    assert report.read == orders + 1
    assert report.quarantined == len(quarantined)
    return report.quarantined, {q.source_id: q.reason for q in quarantined}


def _her(kit: StoreKit) -> str:
    # Her contact's key: held by her charges' owner link even when the contact itself is quarantined.
    return str(kit.profiles.ident_owners()["source#stripe:contact:cus_1"])


def _profile_item(kit: StoreKit, customer_id: str) -> tuple[Any, bool]:
    """The stored PROFILE item's ``data`` and whether an ``owned`` set sits beside it."""
    if kit.name == "sqlite":
        path = kit.profiles.database.path
        with sqlite3.connect(path) as conn:
            data, attrs = conn.execute(
                "SELECT data, attrs FROM items WHERE pk = ? AND sk = 'PROFILE'", ("CUSTOMER#" + customer_id,)
            ).fetchone()
        return data, "owned" in json.loads(attrs)
    if kit.name == "dynamodb":
        client = kit.profiles._client
        key = {"PK": {"S": "CUSTOMER#" + customer_id}, "SK": {"S": "PROFILE"}}
        item = client.get_item(TableName=TABLE, Key=key)
        return item["Item"]["data"], "owned" in item["Item"]
    # The in-memory store holds models: its item is the one the SQLite store would write.
    state = kit.profiles.get_customers([customer_id])[customer_id]
    from core.ports import PutProfile

    row = row_of(PutProfile(customer_id, state.profile, state.profile_hash or "", state.owned, state.version))
    return row[6], "owned" in json.loads(row[7] or "{}")


def test_a_packed_customer_keeps_every_order_and_every_reader_reads_her(
    kit: StoreKit, small_items: None
) -> None:
    # GIVEN a customer with 60 charges in one batch, about 14 KB of profile unpacked (8 KB hold)
    # WHEN it is resolved
    quarantined, reasons = _resolve(kit, 60)
    # THEN none of her charges is quarantined
    assert (quarantined, reasons) == (0, {})
    cid = _her(kit)
    # AND her item is packed: binary data, no owned set beside it, under the limit
    data, has_owned = _profile_item(kit, cid)
    blob = data["B"] if isinstance(data, dict) else data
    assert isinstance(blob, bytes)
    assert blob.startswith(profile_packing.MAGIC)
    assert not has_owned
    assert len(blob) < ITEM_MAX
    # AND ingest's read gives the whole customer: 61 sources, 62 identifiers owned
    state = kit.profiles.get_customers([cid])[cid]
    assert state.profile is not None
    assert len(state.profile.sources) == 61
    assert state.profile.computed.order_count == 60
    keys = {i.key for i in state.profile.identifiers}
    assert state.owned == keys
    assert {"email#big@example.org", f"source#stripe:charge:{_charge_id(59)}"} <= keys
    # AND push's read, the profile API's, reconcile's scan and an export give the same profile
    assert kit.profiles.get_profiles([cid])[cid].profile == state.profile
    assert list(kit.profiles.iter_profiles()) == [state.profile]
    if hasattr(kit.profiles, "read_person"):
        page = kit.profiles.read_person(cid, sources=False)
        assert page is not None
        assert page.profile == state.profile
    erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    found = export_person(kit.profiles, identifier_for(email="big@example.org"), erasure=erasure)
    assert found.profile == state.profile
    assert len(found.sources) == 61
    # AND a second batch of one more charge to her reads the packed item and keeps it packed
    more = list(_drafts(61))[-1]
    assert resolve([more], kit.profiles, settings=IngestSettings(sleep=lambda _: None)).quarantined == 0
    after = kit.profiles.get_customers([cid])[cid]
    assert after.profile is not None
    assert len(after.profile.sources) == 62
    assert after.owned == {i.key for i in after.profile.identifiers}


def test_past_the_packed_ceiling_an_order_is_quarantined_with_its_reason(
    kit: StoreKit, small_items: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an item limit of 3 KB: packed, about 118 charges fit
    monkeypatch.setattr(profile_packing, "ITEM_MAX_BYTES", 3 * 1024)
    # WHEN 124 are resolved in one batch
    quarantined, reasons = _resolve(kit, 124)
    # THEN some are quarantined (the contact may be among them: whichever record overflows her),
    # each with the reason that the customer is too large, and counted
    assert 0 < quarantined < 124
    assert len(reasons) == quarantined
    assert all("too large to store together" in reason for reason in reasons.values()), reasons
    # AND nothing is lost: every other charge is stored with her, and her item is within the limit
    cid = _her(kit)
    state = kit.profiles.get_customers([cid])[cid]
    assert state.profile is not None
    assert len(state.snapshots) == len(state.profile.sources)
    assert len(state.profile.sources) + quarantined == 125
    data, _ = _profile_item(kit, cid)
    blob = data["B"] if isinstance(data, dict) else data
    assert len(blob) <= 3 * 1024


def test_her_erasure_leaves_nothing_of_a_packed_customer(kit: StoreKit, small_items: None) -> None:
    # GIVEN a packed customer with 60 charges
    assert _resolve(kit, 60)[0] == 0
    cid = _her(kit)
    assert isinstance(_profile_item(kit, cid)[0], dict | bytes)
    erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    # WHEN she is erased by her email
    report = erase_person(
        identifier_for(email="big@example.org"),
        profiles=kit.profiles,
        erasure=erasure,
        tools={},
        salt=SALT,
        request_id="req-packed",
        sync_state=kit.sync_state,
        suppression=kit.suppression,
        sleep=lambda _: None,
    )
    # THEN the erasure says so, and no profile, snapshot or identifier of hers is left
    assert report.outcome == "erased"
    assert kit.profiles.get_customers([cid]) == {}
    assert list(kit.profiles.iter_profiles()) == []
    owners = kit.profiles.ident_owners()
    assert not [key for key in owners if "big@example.org" in key or "ch_" in key or "cus_1" in key]
    left = kit.profiles.get_profiles([cid]).get(cid)
    assert left is None or left.profile is None
    assert export_person(kit.profiles, identifier_for(email="big@example.org"), erasure=erasure) is None
