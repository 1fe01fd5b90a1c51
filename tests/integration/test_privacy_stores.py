"""Every store behaves the same at the privacy ports: ``SuppressionStore`` and ``ErasureStore``.

The tests take a ``PrivacyStoreSet`` from each factory of ``STORES``: the in-memory stores, the
SQLite ones (a file in a temporary folder) and the DynamoDB ones (moto, the table built from
template.yaml). A new store adds a factory to ``STORES`` and runs the same tests.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from core.errors import ConflictError
from core.governance.history import HistoryEvent, HistoryStore, event_id_for
from core.governance.reading import ReadAudit, ReadRecord
from core.pipeline import ingest
from core.ports import Changeset, PushedState, PutHolder, QuarantineEntry, SyncStateStore
from core.privacy import erase_person, identifier_for
from core.privacy_store import AuditRecord, DeleteItem, ErasureStore, ItemKey, PendingErasure
from core.storage.dynamodb import DynamoDBProfileStore, DynamoDBSyncStateStore
from core.storage.dynamodb_history import DynamoDBHistoryStore
from core.storage.dynamodb_privacy import DynamoDBErasureStore
from core.storage.dynamodb_reads import DynamoDBReadAudit
from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore, InMemorySuppressionStore
from core.storage.memory_reads import InMemoryReadAudit
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_history import SQLiteHistoryStore, SQLiteReadAudit
from core.storage.sqlite_privacy import SQLiteErasureStore, SQLiteSuppressionStore
from core.storage.sqlite_sync import SQLiteSyncStateStore
from core.suppression import SuppressionEntry, SuppressionStore, keyed_hash
from core.testing.records import make_record
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table

T = datetime(2026, 3, 1, tzinfo=UTC)


@dataclass
class PrivacyStoreSet:
    profiles: Any
    sync_state: SyncStateStore
    erasure: ErasureStore
    suppression: SuppressionStore
    history: HistoryStore
    reads: ReadAudit


@contextmanager
def memory_stores() -> Iterator[PrivacyStoreSet]:
    profiles, state = InMemoryProfileStore(), InMemorySyncStateStore()
    history, reads = profiles.history, InMemoryReadAudit()  # ingest writes the store's own history
    yield PrivacyStoreSet(
        profiles,
        state,
        InMemoryErasureStore(profiles, state, history=history, reads=reads),
        InMemorySuppressionStore(profiles),
        history,
        reads,
    )


@contextmanager
def dynamodb_stores() -> Iterator[PrivacyStoreSet]:
    model_aws_semantics()
    with mock_aws():
        client = dynamodb_client()
        create_table(client, "privacy")
        yield PrivacyStoreSet(
            DynamoDBProfileStore(client, "privacy", read_workers=1),
            DynamoDBSyncStateStore(client, "privacy"),
            DynamoDBErasureStore(client, "privacy"),
            DynamoDBSuppressionStore(client, "privacy"),
            DynamoDBHistoryStore(client, "privacy"),
            DynamoDBReadAudit(client, "privacy"),
        )


@contextmanager
def sqlite_stores() -> Iterator[PrivacyStoreSet]:
    with (
        tempfile.TemporaryDirectory() as folder,
        SQLiteDatabase(Path(folder) / "privacy.sqlite3") as database,
    ):
        yield PrivacyStoreSet(
            SQLiteProfileStore(database),
            SQLiteSyncStateStore(database),
            SQLiteErasureStore(database),
            SQLiteSuppressionStore(database),
            SQLiteHistoryStore(database),
            SQLiteReadAudit(database),
        )


STORES: dict[str, Callable[[], AbstractContextManager[PrivacyStoreSet]]] = {
    "memory": memory_stores,
    "sqlite": sqlite_stores,
    "dynamodb": dynamodb_stores,
}


@pytest.fixture(params=sorted(STORES))
def stores(request: pytest.FixtureRequest) -> Iterator[PrivacyStoreSet]:
    with STORES[request.param]() as found:
        yield found


def entry(key: str, erasure: str, at: datetime = T) -> SuppressionEntry:
    return SuppressionEntry(keyed_hash("salt", key), "email", erasure, at)


# --- SuppressionStore ------------------------------------------------------------------------------


def test_only_suppressed_hashes_are_reported_and_many_are_checked_at_once(stores: PrivacyStoreSet) -> None:
    # GIVEN 150 suppressed identifiers (more than one batch read holds) of one erasure
    entries = [entry(f"email#p{i}@example.com", "req-1") for i in range(150)]
    stores.suppression.suppress(entries)
    # WHEN 300 hashes are checked, half of them never suppressed
    asked = [e.hash for e in entries] + [keyed_hash("salt", f"email#q{i}@example.com") for i in range(150)]
    # THEN exactly the suppressed ones come back
    assert stores.suppression.suppressed(asked) == {e.hash for e in entries}
    assert stores.suppression.suppressed([]) == set()
    assert stores.suppression.entry(entries[0].hash) == entries[0]
    assert stores.suppression.entry(keyed_hash("salt", "email#q0@example.com")) is None


def test_lifting_one_entry_lifts_its_erasure_and_spares_what_a_later_erasure_took_over(
    stores: PrivacyStoreSet,
) -> None:
    # GIVEN an erasure that suppressed an email, a phone and a record id; a later erasure of someone
    # holding the same phone took that entry over; and an unrelated erasure
    first = [entry("email#ann@example.com", "req-1"), entry("phone#+442079460018", "req-1")]
    first.append(SuppressionEntry(keyed_hash("salt", "source#crm:contact:1"), "source", "req-1", T))
    stores.suppression.suppress(first)
    later = entry("phone#+442079460018", "req-2", T + timedelta(days=1))
    other = entry("email#bob@example.com", "req-3")
    stores.suppression.suppress([later, other])
    # WHEN Ann's email is lifted (she signed up again)
    lifted = stores.suppression.lift(first[0].hash)
    # THEN her erasure's entries are gone, the phone stays with the later erasure, Bob stays
    assert {e.hash for e in lifted} == {first[0].hash, first[2].hash}
    assert stores.suppression.suppressed([e.hash for e in [*first, later, other]]) == {later.hash, other.hash}
    # AND lifting again, or lifting what was never suppressed, lifts nothing
    assert stores.suppression.lift(first[0].hash) == []
    assert stores.suppression.lift(keyed_hash("salt", "email#nobody@example.com")) == []


# --- ErasureStore --------------------------------------------------------------------------------


def test_holder_markers_are_read_back_by_key(stores: PrivacyStoreSet) -> None:
    # GIVEN two customers marked as holding a phone another customer owns
    stores.profiles.commit(
        [
            Changeset(
                "holders",
                (PutHolder("phone#+15550100", "cus_b"), PutHolder("phone#+15550100", "cus_c")),
            )
        ]
    )
    # THEN the markers are found by the key, and a key without markers is absent
    assert stores.erasure.holders(["phone#+15550100", "email#x@example.com"]) == {
        "phone#+15550100": {"cus_b", "cus_c"}
    }


def test_a_step_whose_guard_fails_deletes_nothing(stores: PrivacyStoreSet) -> None:
    # GIVEN a stored customer
    ingest([make_record("crm", "1", email="ann@example.com")], stores.profiles)
    [profile] = stores.profiles.iter_profiles()
    cid = profile.customer_id
    items = stores.erasure.customer_items(cid)
    [arrival] = [k for k in items if k.sk.startswith("HISTORY#")]  # the record's arrival
    assert {k.sk for k in items} - {arrival.sk} == {"PROFILE", "SOURCE#crm:contact:1"}
    # WHEN a step guarded by the wrong owner is applied
    bad = (
        DeleteItem(ItemKey(f"CUSTOMER#{cid}", "SOURCE#crm:contact:1")),
        DeleteItem(ItemKey("IDENT#email#ann@example.com", "IDENT"), expected_owner="cus_other"),
    )
    with pytest.raises(ConflictError):
        stores.erasure.apply(bad)
    # THEN nothing of the step was applied
    assert stores.erasure.customer_items(cid) == items
    # AND the right guards delete it all
    stores.erasure.apply(
        (
            DeleteItem(ItemKey(f"CUSTOMER#{cid}", "PROFILE"), expected_version=profile.version),
            DeleteItem(ItemKey("IDENT#email#ann@example.com", "IDENT"), expected_owner=cid),
            DeleteItem(ItemKey(f"CUSTOMER#{cid}", "SOURCE#crm:contact:1")),
            DeleteItem(arrival),
        )
    )
    assert stores.erasure.customer_items(cid) == []
    assert list(stores.profiles.iter_profiles()) == []


def test_a_delete_guarded_on_the_time_read_loses_to_a_touch(stores: PrivacyStoreSet) -> None:
    """GIVEN a stored record's ``source#`` item, its time read WHEN a delete guarded on an older
    time is applied THEN it loses (ConflictError) and the item stays; on the time it holds it goes
    (``DeleteItem.expected_at``: a retirement's read, core.retirement_steps)."""
    ingest([make_record("crm", "1", email="ann@example.com")], stores.profiles)
    owner = stores.profiles.get_owners(["source#crm:contact:1"])["source#crm:contact:1"]
    assert owner.updated_at is not None
    key = ItemKey("IDENT#source#crm:contact:1", "IDENT")
    cid = owner.customer_id
    with pytest.raises(ConflictError):
        stores.erasure.apply((DeleteItem(key, cid, expected_at=owner.updated_at - timedelta(seconds=1)),))
    assert "source#crm:contact:1" in stores.profiles.get_owners(["source#crm:contact:1"])
    stores.erasure.apply((DeleteItem(key, cid, expected_at=owner.updated_at),))
    assert "source#crm:contact:1" not in stores.profiles.get_owners(["source#crm:contact:1"])


def test_an_audit_record_is_written_once_and_never_replaced(stores: PrivacyStoreSet) -> None:
    record = AuditRecord("erase", "req-1", T, "h" * 64, "erased", {"source": 2}, {"crm": "erased"}, "dpo")
    stores.erasure.put_audit(record)
    with pytest.raises(ConflictError, match="exists"):
        stores.erasure.put_audit(AuditRecord("erase", "req-1", T, "x" * 64, "not_found"))


def test_pending_erasures_are_kept_listed_oldest_first_and_forgotten(stores: PrivacyStoreSet) -> None:
    late = PendingErasure("req-2", "h2", T + timedelta(hours=1), {"crm": ("source#crm:contact:2",)}, True)
    early = PendingErasure(
        "req-1", "h1", T, {"crm": ("source#crm:contact:1",), "shop": ("email#a@b.co",)}, False, 3, "dpo"
    )
    stores.erasure.put_pending(late)
    stores.erasure.put_pending(early)
    assert stores.erasure.pending_erasures() == [early, late]
    stores.erasure.put_pending(PendingErasure("req-1", "h1", T, {"shop": ("email#a@b.co",)}, False, 4, "dpo"))
    stores.erasure.delete_pending("req-2")
    [left] = stores.erasure.pending_erasures()
    assert (left.request_id, left.attempts, dict(left.tools)) == ("req-1", 4, {"shop": ("email#a@b.co",)})


def test_quarantined_items_carry_their_subjects_and_pushes_their_time(stores: PrivacyStoreSet) -> None:
    stores.sync_state.put_quarantined(
        [
            QuarantineEntry("crm", "crm:1", "bad date", '{"email": "a@b.co"}', T, ("h1", "h2")),
            QuarantineEntry("crm", "crm:2", "bad date", '{"email": "c@d.co"}', T + timedelta(seconds=1)),
        ]
    )
    by_raw = {q.raw: q for q in stores.erasure.quarantined_items("crm")}
    assert by_raw['{"email": "a@b.co"}'].subjects == frozenset({"h1", "h2"})
    assert by_raw['{"email": "c@d.co"}'].subjects is None  # stored before subjects were kept
    assert stores.erasure.quarantined_items("shop") == []
    # AND a push is remembered with when it happened
    stores.sync_state.put_pushed([PushedState("cus_a", "crm", "hash1", "101", T)])
    assert stores.sync_state.get_pushed("crm", ["cus_a"])["cus_a"].at == T
    assert ItemKey("CUSTOMER#cus_a", "PUSHED#crm") in stores.erasure.customer_items("cus_a")


def test_records_kept_apart_that_want_one_unowned_value_commit_together(stores: PrivacyStoreSet) -> None:
    # GIVEN six people behind one phone (more than the guardrail lets match), all in one batch, the
    # phone owned by nobody (its owner was erased, say)
    phone = "+15550100"
    records = [make_record("crm", str(n), email=f"m{n}@example.com", phone=phone) for n in range(6)]
    # WHEN they are ingested: six components each wanting the phone, packed into one commit
    result = ingest(records, stores.profiles)
    # THEN all are stored as six customers; one owns the phone, the five others are marked holding it
    assert (result.written, result.new_customers) == (6, 6)
    owner = stores.profiles.get_owners([f"phone#{phone}"])[f"phone#{phone}"].customer_id
    customers = {
        stores.profiles.get_owners([f"email#m{n}@example.com"])[f"email#m{n}@example.com"].customer_id
        for n in range(6)
    }
    assert len(customers) == 6
    assert stores.erasure.holders([f"phone#{phone}"]) == {f"phone#{phone}": customers - {owner}}


def test_erasing_a_person_deletes_their_history_and_the_audit_of_reads_of_them(
    stores: PrivacyStoreSet,
) -> None:
    # GIVEN Ann and Bob, each with a history event besides their record's arrival, and a read
    ingest(
        [make_record("crm", "1", email="ann@example.com"), make_record("crm", "2", email="bob@example.com")],
        stores.profiles,
    )
    owners = stores.profiles.get_owners(["email#ann@example.com", "email#bob@example.com"])
    ann, bob = (owners[f"email#{n}@example.com"].customer_id for n in ("ann", "bob"))
    for cid in (ann, bob):
        stores.history.append_history(
            [
                HistoryEvent(
                    customer_id=cid,
                    event_id=event_id_for(cid, "source_arrived", T),
                    at=T,
                    kind="source_arrived",
                    actor="run:crm:r1",
                    reason="record arrived",
                )
            ]
        )
        stores.reads.record_read(
            ReadRecord(
                cid, T, f"read-{cid}", "arn:aws:iam::1:role/support", "support", "profile", "email", ()
            )
        )
    # THEN the history and the reads are among the items an erasure of Ann deletes
    kinds = {k.kind for k in stores.erasure.customer_items(ann)}
    assert {"history", "read"} <= kinds
    # WHEN Ann is erased
    report = erase_person(
        identifier_for(email="ann@example.com"),
        profiles=stores.profiles,
        erasure=stores.erasure,
        tools={},
        salt="salt",
        request_id="req-h",
        sleep=lambda _: None,
    )
    # THEN nothing of hers is left, her history and reads included; Bob's are untouched
    assert (report.outcome, report.counts["history"], report.counts["read"]) == ("erased", 2, 1)
    assert stores.erasure.customer_items(ann) == []
    assert stores.history.list_history(ann).events == ()
    assert stores.reads.reads_of(ann, since=T - timedelta(days=1)) == []
    assert len(stores.history.list_history(bob).events) == 2
    assert len(stores.reads.reads_of(bob, since=T - timedelta(days=1))) == 1
