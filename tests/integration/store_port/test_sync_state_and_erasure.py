"""The ``SyncStateStore`` port on the three stores, and the ``ErasureStore`` port on the two with items."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.errors import ConflictError
from core.pipeline import IngestSettings, ingest
from core.ports import PushedState, QuarantineEntry, SyncState
from core.privacy import AuditRecord, DeleteItem, ItemKey, erase_person, identifier_for
from core.testing.records import make_record
from tests.integration.store_port.conftest import StoreKit

NO_SLEEP = IngestSettings(sleep=lambda _: None)
AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_a_cursor_moves_only_from_the_version_read(kit: StoreKit) -> None:
    state = kit.sync_state
    # GIVEN a connector never synced
    assert state.get_sync_state("hubspot") == SyncState("hubspot")
    # WHEN a run saves twice
    first = state.put_sync_state(SyncState("hubspot", "c1", report='{"pages": 1}'))
    second = state.put_sync_state(SyncState("hubspot", "c2", first.version, AT))
    # THEN the latest cursor, version, time and report are read back
    assert (first.version, second.version) == (1, 2)
    got = state.get_sync_state("hubspot")
    assert (got.cursor, got.version, got.updated_at, got.report) == ("c2", 2, AT, "")
    assert state.get_sync_state("hubspot") == second
    # AND a run that read version 1 cannot move the cursor back, nor can a second "first" save
    with pytest.raises(ConflictError):
        state.put_sync_state(SyncState("hubspot", "c1-late", 1))
    with pytest.raises(ConflictError):
        state.put_sync_state(SyncState("hubspot", "c0"))
    assert state.get_sync_state("hubspot").cursor == "c2"
    # AND the state of one connector is its own
    saved = state.put_sync_state(SyncState("mailchimp", None, report='{"x": 1}'))
    assert state.get_sync_state("mailchimp") == saved
    assert saved.cursor is None
    assert saved.report == '{"x": 1}'


def test_pushed_states_are_per_destination_and_the_last_write_wins(kit: StoreKit) -> None:
    state = kit.sync_state
    states = [PushedState(f"cus_{i:03d}", "hubspot", f"h{i}", f"r{i}") for i in range(60)]
    # WHEN 60 push hashes are saved, one customer twice (the last wins), one with no remote id
    state.put_pushed(
        [*states, PushedState("cus_000", "hubspot", "newer", "r0"), PushedState("cus_x", "hubspot", "hx")]
    )
    state.put_pushed([])
    # THEN they read back per destination; customers never pushed are absent
    got = state.get_pushed("hubspot", [s.customer_id for s in states] + ["cus_x", "cus_missing"])
    assert len(got) == 61
    assert got["cus_000"] == PushedState("cus_000", "hubspot", "newer", "r0")
    assert got["cus_059"] == PushedState("cus_059", "hubspot", "h59", "r59")
    assert got["cus_x"].remote_id is None
    assert state.get_pushed("mailchimp", ["cus_000"]) == {}


def test_quarantined_records_are_kept_with_their_reason(kit: StoreKit) -> None:
    state = kit.sync_state
    entries = [
        QuarantineEntry("shopify", "shopify:customer:1", "no usable identifier", '{"id": 1}', AT),
        QuarantineEntry(
            "shopify", "shopify:customer:2", "updated_at: not a date", '{"id": 2}', AT + timedelta(1)
        ),
        QuarantineEntry("hubspot", "hubspot:contact:9", "email: not an address", '{"id": 9}', AT),
    ]
    state.put_quarantined(entries)
    state.put_quarantined([])
    assert kit.quarantined("shopify") == entries[:2]
    assert kit.quarantined("hubspot") == entries[2:]
    assert kit.quarantined("klaviyo") == []


# --- the ErasureStore port (SQLite and DynamoDB: the in-memory fake has no items) -------------------


def _ann_and_bob(kit: StoreKit) -> None:
    ingest(
        [
            make_record("crm", "1", email="ann@example.com", phone="+442079460018"),
            make_record("shop", "1", email="ann@example.com", day=1),
            make_record("crm", "2", email="bob@example.com"),
        ],
        kit.profiles,
        NO_SLEEP,
    )


def test_customer_items_lists_every_item_of_the_customer(durable_kit: StoreKit) -> None:
    kit = durable_kit
    assert kit.erasure is not None
    _ann_and_bob(kit)
    ann = kit.profiles.get_owners(["email#ann@example.com"])["email#ann@example.com"].customer_id
    kit.sync_state.put_pushed([PushedState(ann, "hubspot", "h", "r")])
    # WHEN the items of Ann's customer are listed THEN the profile, both snapshots and the push,
    # and the history ingest wrote (an arrival per record)
    items = kit.erasure.customer_items(ann)
    history = [k for k in items if k.sk.startswith("HISTORY#")]
    assert len(history) == 2
    assert sorted(set(items) - set(history), key=lambda k: k.sk) == [
        ItemKey(f"CUSTOMER#{ann}", "PROFILE"),
        ItemKey(f"CUSTOMER#{ann}", "PUSHED#hubspot"),
        ItemKey(f"CUSTOMER#{ann}", "SOURCE#crm:contact:1"),
        ItemKey(f"CUSTOMER#{ann}", "SOURCE#shop:contact:1"),
    ]
    assert kit.erasure.customer_items("cus_nobody") == []


def test_an_erasure_step_deletes_all_or_nothing_under_its_guards(durable_kit: StoreKit) -> None:
    kit = durable_kit
    erasure = kit.erasure
    assert erasure is not None
    _ann_and_bob(kit)
    ann = kit.profiles.get_owners(["email#ann@example.com"])["email#ann@example.com"].customer_id
    version = kit.profiles.get_customers([ann])[ann].version
    profile = ItemKey(f"CUSTOMER#{ann}", "PROFILE")
    email = ItemKey("IDENT#email#ann@example.com", "IDENT")
    source = ItemKey(f"CUSTOMER#{ann}", "SOURCE#crm:contact:1")
    # WHEN a step's version guard is stale THEN nothing of it is deleted
    with pytest.raises(ConflictError):
        erasure.apply([DeleteItem(source), DeleteItem(profile, expected_version=version + 7)])
    # AND when an owner guard names someone else THEN nothing either
    with pytest.raises(ConflictError):
        erasure.apply([DeleteItem(source), DeleteItem(email, expected_owner="cus_someone_else")])
    assert len(erasure.customer_items(ann)) == 3 + 2  # and the two arrivals in the history
    assert "email#ann@example.com" in kit.profiles.ident_owners()
    # WHEN the guards hold THEN every item of the step goes
    erasure.apply(
        [
            DeleteItem(profile, expected_version=version),
            DeleteItem(email, expected_owner=ann),
            DeleteItem(source),
        ]
    )
    assert [k for k in erasure.customer_items(ann) if not k.sk.startswith("HISTORY#")] == [
        ItemKey(f"CUSTOMER#{ann}", "SOURCE#shop:contact:1")
    ]
    assert "email#ann@example.com" not in kit.profiles.ident_owners()
    # AND "no version was read" (0) holds for an item without one, or one already gone
    erasure.apply([DeleteItem(profile, expected_version=0)])
    erasure.apply([])


def test_audit_records_and_quarantined_items_read_back(durable_kit: StoreKit) -> None:
    kit = durable_kit
    erasure = kit.erasure
    assert erasure is not None
    record = AuditRecord(
        "erase", "req-1", AT, "abc123", "erased", {"profile": 1, "source": 2}, {"hubspot": "erased"}
    )
    erasure.put_audit(record)
    kit.sync_state.put_quarantined(
        [
            QuarantineEntry(
                "shopify", "shopify:customer:1", "phone: too short", '{"email": "ann@example.com"}', AT
            )
        ]
    )
    [item] = erasure.quarantined_items("shopify")
    assert item.key.pk == "QUARANTINE#shopify"
    assert "ann@example.com" in item.raw
    assert item.reason == "phone: too short"
    assert item.subjects is None  # stored without keyed hashes: erasure reads its raw values
    assert erasure.quarantined_items("hubspot") == []
    audits = erasure.audit_records("erase")  # type: ignore[attr-defined]
    assert len(audits) == 1
    assert "req-1" in str(audits[0])
    assert "abc123" in str(audits[0])
    assert "ann@example.com" not in str(audits)


def test_erase_person_leaves_no_item_that_names_the_person(durable_kit: StoreKit) -> None:
    kit = durable_kit
    erasure = kit.erasure
    assert erasure is not None
    _ann_and_bob(kit)
    ann = kit.profiles.get_owners(["email#ann@example.com"])["email#ann@example.com"].customer_id
    kit.sync_state.put_pushed([PushedState(ann, "hubspot", "h", "r")])
    kit.sync_state.put_quarantined(
        [
            QuarantineEntry(
                "crm", "crm:contact:7", "updated_at: not a date", '{"email": "ANN@example.com"}', AT
            )
        ]
    )
    # WHEN Ann is erased by her email
    report = erase_person(
        identifier_for(email="Ann@Example.com"),
        profiles=kit.profiles,
        erasure=erasure,
        tools={},
        salt="s",
        request_id="req-9",
        quarantine_of=["crm"],
        sleep=lambda _: None,
    )
    # THEN nothing of hers is left, Bob is untouched, and the audit names no address
    assert report.outcome == "erased"
    assert erasure.customer_items(ann) == []
    owners = kit.profiles.ident_owners()
    assert not any("ann" in key or "+4420" in key for key in owners)
    assert "email#bob@example.com" in owners
    assert erasure.quarantined_items("crm") == []
    assert [p.identifiers[0].value for p in kit.profiles.iter_profiles()] == ["bob@example.com"]
    assert report.counts["quarantined"] == 1
