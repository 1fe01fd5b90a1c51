"""Every ProfileReader and ReadAudit, and what one audited read costs on DynamoDB: a lookup of a live,
unmerged customer is two reads (the IDENT item, one Query of the customer) and one audit write,
however long the customer's history grows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.governance.answer import Caller, ReadRequest, Sources, answer_read
from core.governance.history import HistoryEvent, event_id_for
from core.governance.policy import sample_policy
from core.governance.reading import ReadRecord, find_person, lookup_by_id, lookup_from_query
from core.identity import customer_id_for
from core.pipeline import IngestSettings, ingest
from core.testing.records import make_record
from tests.integration.governance.conftest import Stores

NO_SLEEP = IngestSettings(sleep=lambda _: None)
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POLICY = sample_policy()


def caller(role: str) -> Caller:
    grant = POLICY.role(role)
    assert grant is not None
    return Caller(f"arn:aws:sts::1:assumed-role/profilesync-{role}/t", role, grant)


def sources_of(stores: Stores) -> Sources:
    return Sources(stores.reader, stores.history, stores.audit)


def ann_and_bob(stores: Stores) -> None:
    ingest(
        [
            make_record("hubspot", "1", email="ann@example.com", traits={"first_name": "Ann"}),
            make_record("shopify", "2", email="ann@example.com", phone="+442079460018"),
            make_record("hubspot", "3", email="bob@example.com"),
        ],
        stores.profiles,
        NO_SLEEP,
    )


def test_a_lookup_finds_the_customer_and_its_source_records(stores: Stores) -> None:
    ann_and_bob(stores)
    page = find_person(stores.reader, lookup_from_query({"email": "ANN@example.com"}), sources=True)
    assert page is not None
    assert page.profile is not None
    assert [r.key for r in page.sources] == ["hubspot:contact:1", "shopify:contact:2"]
    assert page.next is None
    # AND without sources, only the profile is read
    bare = find_person(stores.reader, lookup_from_query({"source": "hubspot:contact:3"}), sources=False)
    assert bare is not None
    assert bare.sources == ()
    assert bare.profile is not None
    assert bare.profile.customer_id == customer_id_for("hubspot:contact:3")
    assert find_person(stores.reader, lookup_from_query({"email": "eve@example.com"}), sources=True) is None
    assert find_person(stores.reader, lookup_by_id("cus_nobody"), sources=True) is None


def test_a_merged_away_id_leads_to_the_live_customer(stores: Stores) -> None:
    # GIVEN Ann in two customers, then a record holding both identifiers merges them
    ingest([make_record("crm", "1", email="ann@example.com")], stores.profiles, NO_SLEEP)
    ingest([make_record("shop", "1", phone="+442079460018")], stores.profiles, NO_SLEEP)
    ingest(
        [make_record("pos", "1", email="ann@example.com", phone="+442079460018")], stores.profiles, NO_SLEEP
    )
    ids = {customer_id_for("crm:contact:1"), customer_id_for("shop:contact:1")}
    survivor, absorbed = min(ids), max(ids)
    # WHEN the absorbed id is read
    page = find_person(stores.reader, lookup_by_id(absorbed), sources=True)
    # THEN the survivor answers, saying which id led there
    assert page is not None
    assert (page.customer_id, page.followed) == (survivor, (absorbed,))
    assert len(page.sources) == 3


@pytest.mark.parametrize("limit", [1, 2, 4, 5])
def test_sources_come_in_pages_that_cover_them_all_once(stores: Stores, limit: int) -> None:
    records = [make_record(f"tool{i}", "1", email="ann@example.com") for i in range(4)]
    ingest(records, stores.profiles, NO_SLEEP)
    cid = customer_id_for(min(r.key for r in records))
    seen: list[str] = []
    offset = 0
    while True:
        page = stores.reader.read_person(cid, sources=True, limit=limit, offset=offset)
        assert page is not None
        assert page.profile is not None
        seen.extend(r.key for r in page.sources)
        if page.next is None:
            break
        offset = page.next
    assert seen == sorted(r.key for r in records)


def test_reads_are_recorded_and_found_per_customer_newest_first(stores: Stores) -> None:
    for minutes, principal in [(0, "a"), (5, "b"), (10, "c")]:
        stores.audit.record_read(
            ReadRecord(
                "cus_a",
                NOW + timedelta(minutes=minutes),
                f"r{minutes}",
                principal,
                "support",
                "profile",
                "email",
                ("traits.first_name",),
            )
        )
    stores.audit.record_read(ReadRecord("cus_b", NOW, "r", "z", "admin", "profile", "id", ()))
    found = stores.audit.reads_of("cus_a", since=NOW + timedelta(minutes=1))
    assert [r.principal for r in found] == ["c", "b"]
    assert found[0].fields == ("traits.first_name",)
    assert found[0].at == NOW + timedelta(minutes=10)
    assert [r.principal for r in stores.audit.reads_of("cus_a", since=NOW, limit=1)] == ["c"]


def test_every_answer_is_recorded_with_the_fields_it_held(stores: Stores) -> None:
    ann_and_bob(stores)
    outcome = answer_read(
        ReadRequest("profile", lookup_from_query({"email": "ann@example.com"})),
        caller("marketing"),
        sources_of(stores),
        request_id="req-1",
        now=NOW,
    )
    assert outcome.status == 200
    [read] = stores.audit.reads_of(outcome.customer_id or "", since=NOW - timedelta(days=1))
    assert (read.principal, read.role, read.route, read.lookup, read.request_id) == (
        "arn:aws:sts::1:assumed-role/profilesync-marketing/t",
        "marketing",
        "profile",
        "email",
        "req-1",
    )
    assert "identifiers.email:masked" in read.fields
    assert "traits.first_name" in read.fields
    assert not any(f.startswith("identifiers.source") for f in read.fields)


def history_of(customer: str, n: int) -> list[HistoryEvent]:
    return [
        HistoryEvent(
            customer_id=customer,
            event_id=event_id_for(customer, "source_changed", NOW, str(i)),
            at=NOW - timedelta(minutes=i),
            kind="source_changed",
            actor="run:crm:r",
            reason="record changed",
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(
    ("role", "lookup", "reads"),
    [
        ("support", {"email": "Ann@Example.com"}, {"GetItem": 1, "Query": 1}),
        ("analyst", {"email": "ann@example.com"}, {"GetItem": 2}),
        ("support", {"source": "shopify:contact:2"}, {"GetItem": 1, "Query": 1}),
    ],
)
def test_a_live_customer_costs_two_reads_and_one_audit_write_however_long_its_history(
    dynamodb_stores: Stores, role: str, lookup: dict[str, str], reads: dict[str, int]
) -> None:
    stores = dynamodb_stores
    assert stores.log is not None
    # GIVEN Ann, with 300 history events in her partition
    ann_and_bob(stores)
    cid = customer_id_for("hubspot:contact:1")
    stores.history.append_history(history_of(cid, 300))
    scanned: list[int] = []
    stores.client.meta.events.register(
        "after-call.dynamodb.Query", lambda parsed, **_: scanned.append(int(parsed.get("ScannedCount", 0)))
    )
    # (a reader learns the table's layout once: its first owner read takes the layout marker with
    # it, one BatchGetItem, the one request every later read makes as a GetItem)
    stores.log.calls.clear()
    assert stores.reader.owner_of("email#nobody@example.com") is None
    assert dict(stores.log.calls) == {"BatchGetItem": 1}
    stores.log.calls.clear()
    # WHEN she is looked up
    outcome = answer_read(
        ReadRequest("profile", lookup_from_query(lookup)),
        caller(role),
        sources_of(stores),
        request_id="r",
        now=NOW,
    )
    # THEN two reads (and no history item among what they read), and one write, the audit
    assert outcome.status == 200
    assert dict(stores.log.calls) == {**reads, "PutItem": 1}
    assert all(n <= 1 + 2 for n in scanned)  # the profile and its two sources, nothing else


def test_a_merged_customer_costs_one_more_read_per_merge(dynamodb_stores: Stores) -> None:
    stores = dynamodb_stores
    assert stores.log is not None
    ingest([make_record("crm", "1", email="ann@example.com")], stores.profiles, NO_SLEEP)
    ingest([make_record("shop", "1", phone="+442079460018")], stores.profiles, NO_SLEEP)
    ingest(
        [make_record("pos", "1", email="ann@example.com", phone="+442079460018")], stores.profiles, NO_SLEEP
    )
    absorbed = max(customer_id_for("crm:contact:1"), customer_id_for("shop:contact:1"))
    stores.log.calls.clear()
    outcome = answer_read(
        ReadRequest("profile", lookup_by_id(absorbed)),
        caller("support"),
        sources_of(stores),
        request_id="r",
        now=NOW,
    )
    assert outcome.document["merged_from"] == [absorbed]
    assert dict(stores.log.calls) == {"Query": 2, "PutItem": 1}
