"""Salesforce pulls: the SOQL sent, sessions renewed, deletions, opportunities as orders, bulk jobs,
expired locators and the daily API allocation."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from connectors._http import AllowanceExhaustedError, ConnectorAuthError
from connectors.salesforce import PLUGIN, SalesforceSandbox, api_usage, csv_records
from connectors.sdk import PullCursor
from core.connector import RawPage
from core.errors import ConnectorConfigError
from core.normalise import normalise_record
from core.schema import SourceRecord
from core.testing.clock import days_ago

from .conftest import Connect, RecordingSandbox

#: Noon three days ago: after the sandbox's seeded times and, with the offsets the tests add, still
#: in the machine's past whatever its date (a time ahead of a pull's start is read as that start).
T = days_ago(3)


def _keys(connector: object, cursor: str | None = None) -> tuple[list[str], str | None]:
    pages = list(connector.pull(cursor))  # type: ignore[attr-defined]
    keys = [f"{d.object_type}:{d.source_id}" for p in pages for d in connector.to_records(p)]  # type: ignore[attr-defined]
    return keys, pages[-1].cursor


def test_every_stream_asks_queryall_ordered_by_systemmodstamp_then_id(
    sandbox: RecordingSandbox, connect: Connect
) -> None:
    # GIVEN a full pull and a change after it
    _, cursor = _keys(connect(sandbox))
    sandbox.touch(set(sorted(sandbox.record_keys())[:3]), at=T)
    sandbox.exchanges.clear()
    # WHEN the next pull runs
    _keys(connect(sandbox), cursor)
    # THEN each object was asked through queryAll, inclusive from the watermark, in (SystemModstamp, Id) order
    queries = [r.url.params["q"] for r in sandbox.calls("GET", "/queryAll")]
    assert [q.split(" FROM ")[1].split(" ")[0] for q in queries] == ["Contact", "Lead", "Opportunity"]
    assert all(
        "SystemModstamp >= 20" in q and q.endswith("ORDER BY SystemModstamp ASC, Id ASC") for q in queries
    )
    assert "ContactId != null" in queries[2]
    # AND the pushed fields are never read back (their echo would change nothing anyway)
    assert not any("ProfileSync" in q for q in queries)


def test_an_expired_session_is_renewed_once_and_the_pull_goes_on(
    sandbox: RecordingSandbox, connect: Connect
) -> None:
    # GIVEN a connector that holds a session, which the org then ends
    connector = connect(sandbox)
    first, _ = _keys(connector)
    sandbox.expire_sessions()
    sandbox.exchanges.clear()
    # WHEN it pulls again
    again, _ = _keys(connector)
    # THEN the 401 INVALID_SESSION_ID made it fetch one new token, and nothing was lost
    statuses = [(r.url.path, resp.status_code) for r, resp in sandbox.exchanges]
    assert statuses[0][1] == 401
    assert sum(1 for path, _ in statuses if path == "/services/oauth2/token") == 1
    assert sorted(again) == sorted(first)
    body = json.loads(sandbox.exchanges[0][1].content)
    assert body == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID", "fields": []}
    ]


def test_a_wrong_client_secret_names_both_settings_and_neither_secret(sandbox: RecordingSandbox) -> None:
    # GIVEN a connector with a wrong secret
    settings = sandbox.settings()
    wrong = {**settings.credentials, "salesforce_client_secret": "not-the-secret"}
    connector = PLUGIN.build(type(settings)(credentials=wrong, transport=settings.transport))
    # WHEN it pulls THEN the token endpoint's invalid_client stops it at once, with what to check
    with pytest.raises(ConnectorAuthError) as caught:
        list(connector.pull(None))
    message = str(caught.value)
    assert "PROFILESYNC_SALESFORCE_CLIENT_ID" in message
    assert "PROFILESYNC_SALESFORCE_CLIENT_SECRET" in message
    assert "invalid client credentials" in message
    assert "not-the-secret" not in message
    assert sandbox.client_id not in message
    assert len(sandbox.exchanges) == 1


def test_deleted_records_are_seen_through_queryall_as_tombstones(
    sandbox: RecordingSandbox, connect: Connect
) -> None:
    # GIVEN a full pull, then a contact deleted in Salesforce (it sits in the Recycle Bin)
    connector = connect(sandbox)
    _, cursor = _keys(connector)
    contact = next(k for k in sorted(sandbox.record_keys()) if k.startswith("contact:"))
    sandbox.delete("Contact", contact.split(":")[1])
    # WHEN the next pull runs
    pages = list(connector.pull(cursor))
    drafts = [d for p in pages for d in connector.to_records(p)]
    # THEN the deletion moved the watermark and came as one tombstone dated by its SystemModstamp,
    # holding nothing of the person
    assert [(f"{d.object_type}:{d.source_id}", d.deleted) for d in drafts] == [(contact, True)]
    (tombstone,) = drafts
    record = sandbox.objects["Contact"][contact.split(":")[1]]
    assert tombstone.updated_at == record["SystemModstamp"].strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    assert (tombstone.emails, tombstone.phones, tombstone.traits) == ([], [], {})
    assert connector.deleted_seen == 1
    assert pages[-1].cursor != cursor
    # AND a full pull returns no live record of it
    live = [d for p in connect(sandbox).pull(None) for d in connector.to_records(p) if not d.deleted]
    assert contact not in {f"{d.object_type}:{d.source_id}" for d in live}
    assert len(live) == len(sandbox.record_keys())


def test_opportunities_become_their_contacts_orders_by_stage(
    sandbox: RecordingSandbox, connect: Connect
) -> None:
    # GIVEN opportunities won, lost and open
    connector = connect(sandbox)
    pages = [p for p in connector.pull(None) if p.object_type == "opportunity"]
    records = [r for p in pages for r in p.records]
    assert {(r["IsWon"], r["IsClosed"]) for r in records} == {(True, True), (False, True), (False, False)}
    # WHEN they are mapped and normalised
    drafts = [d for p in pages for d in connector.to_records(p)]
    normalised = [normalise_record(d) for d in drafts]
    # THEN each is one order of its contact, joined by ContactId (not by the contact's email, which
    # made a contact with more deals than the email guardrail's limit many profiles): won paid, lost
    # cancelled, open pending, org currency
    by_id = {r["Id"]: r for r in records}
    for record in normalised:
        assert isinstance(record, SourceRecord)
        (order,) = record.orders
        source = by_id[record.source_id]
        expected = "paid" if source["IsWon"] else "cancelled" if source["IsClosed"] else "pending"
        assert order.status == expected
        assert order.currency == "USD"
        assert float(order.total) == pytest.approx(source["Amount"])
        assert record.level == "child"
        assert record.owner == f"salesforce:contact:{source['ContactId']}"
        assert {i.key for i in record.identifiers} == {
            f"source#salesforce:contact:{source['ContactId']}",
            f"source#salesforce:opportunity:{source['Id']}",
        }


def test_a_multi_currency_org_reads_each_opportunitys_currency(connect: Connect) -> None:
    # GIVEN an org with multiple currencies (CurrencyIsoCode exists only there)
    org = RecordingSandbox(people=40, seed=7, multicurrency=True)
    for record in org.objects["Opportunity"].values():
        record["CurrencyIsoCode"] = "EUR"
    # WHEN the connector pulls with currency=multi (the sandbox's settings say so)
    connector = connect(org)
    drafts = [
        d for p in connector.pull(None) if p.object_type == "opportunity" for d in connector.to_records(p)
    ]
    # THEN each order carries its record's currency
    assert drafts
    assert {d.orders[0]["currency"] for d in drafts} == {"EUR"}
    # AND an org without multiple currencies refuses the field, as Salesforce does
    single = RecordingSandbox(people=10, seed=7)
    with pytest.raises(Exception, match="No such column 'CurrencyIsoCode'"):
        list(connect(single, currency="multi").pull(None))


def test_an_email_opt_out_is_a_denied_email_consent(sandbox: RecordingSandbox, connect: Connect) -> None:
    connector = connect(sandbox)
    pages = list(connector.pull(None))
    records = {r["Id"]: r for p in pages for r in p.records}
    drafts = [d for p in pages for d in connector.to_records(p)]
    opted_out = [d for d in drafts if records[d.source_id].get("HasOptedOutOfEmail") is True]
    assert opted_out, "the seeded org has people who opted out"
    assert all(d.consent["email"]["granted"] is False for d in opted_out)
    assert all(
        "email" not in d.consent for d in drafts if records[d.source_id].get("HasOptedOutOfEmail") is False
    )


def test_a_resumed_walk_whose_locator_expired_continues_without_repeats(connect: Connect) -> None:
    # GIVEN an org with three batches of contacts (1,500 a second) and a pull cut short after the first
    org = RecordingSandbox(people=20, seed=7)
    for second in range(3):
        org.add_records(1500, at=T.replace(second=second))
    pages = list(connect(org).pull(None))
    first_contacts = [r["Id"] for r in pages[0].records]
    assert PullCursor.decode(pages[0].cursor, "salesforce").state("contacts").page is not None
    # WHEN the locator expires (15 minutes unused) before the pull resumes from that page
    org.expire_locators()
    resumed = list(connect(org).pull(pages[0].cursor))
    # THEN the walk continues from the watermark: every record once, none lost, none repeated
    keys = [f"contact:{i}" for i in first_contacts] + [
        f"{p.object_type}:{r['Id']}" for p in resumed for r in p.records
    ]
    assert [k for k, n in Counter(keys).items() if n > 1] == []
    assert set(keys) == org.record_keys()


def test_a_large_first_pull_runs_one_bulk_job_and_later_pulls_use_rest(connect: Connect) -> None:
    # GIVEN an org with more contacts than the bulk threshold
    org = RecordingSandbox(people=30, seed=7)
    org.add_records(120, at=T)
    connector = connect(org, bulk_threshold="100")
    # WHEN it pulls everything
    keys, cursor = _keys(connector)
    # THEN contacts came from one queryAll job read in CSV sets; the smaller objects through REST
    jobs = org.calls("POST", "/jobs/query")
    assert len(jobs) == 1
    assert json.loads(jobs[0].content)["operation"] == "queryAll"
    assert "ORDER BY" not in json.loads(jobs[0].content)["query"]
    assert org.calls("GET", "/results")
    assert sorted(keys) == sorted(org.record_keys())
    # AND the next pull is incremental through REST, from the bulk pull's watermark
    org.touch({next(k for k in sorted(org.record_keys()) if k.startswith("contact:"))}, at=T.replace(hour=13))
    org.exchanges.clear()
    again, _ = _keys(connector, cursor)
    assert len(again) == 1
    assert not org.calls("POST", "/jobs/query")


def test_bulk_csv_rows_read_as_rest_records() -> None:
    text = (
        '"Id","IsDeleted","SystemModstamp","Amount","Contact.Email","Contact.Phone"\n'
        '"006A","false","2026-01-02T03:04:05.000Z","12.50","ann@example.com",""\n'
        '"006B","true","2026-01-02T03:04:06.000Z","","",""\n'
    )
    first, second = csv_records(text)
    assert first == {
        "Id": "006A",
        "IsDeleted": False,
        "SystemModstamp": "2026-01-02T03:04:05.000+0000",
        "Amount": "12.50",
        "Contact": {"Email": "ann@example.com"},
    }
    assert second["IsDeleted"] is True
    assert second["Contact"] is None
    assert second["Amount"] is None


def test_a_pull_stops_before_the_days_allocation_is_spent(connect: Connect) -> None:
    # GIVEN an org close to its daily allocation, with more pages to read than it has left above the reserve
    org = RecordingSandbox(people=20, seed=7, daily_limit=100)
    org.add_records(9000, at=T)
    org.api_usage = 86
    connector = connect(org, api_reserve="0.1")
    cursors: list[str | None] = []

    def pull() -> None:
        cursors.extend(page.cursor for page in connector.pull(None))

    # WHEN it pulls
    with pytest.raises(AllowanceExhaustedError) as caught:
        pull()
    # THEN it stopped with 10% of the allocation left, the org never answered REQUEST_LIMIT_EXCEEDED,
    # and what it read came with a cursor to resume from
    assert org.api_usage <= 90
    assert not [r for r, resp in org.exchanges if resp.status_code == 403]
    assert cursors
    assert cursors[-1] is not None
    assert "90%" not in str(caught.value)
    assert "10%" in str(caught.value)
    assert "resumes from the saved cursor" in str(caught.value)


def test_an_allocation_spent_by_others_stops_at_the_first_refusal(connect: Connect) -> None:
    # GIVEN an org whose allocation other integrations have spent
    org = RecordingSandbox(people=20, seed=7, daily_limit=50)
    org.api_usage = 50
    # WHEN the connector pulls THEN the 403 REQUEST_LIMIT_EXCEEDED stops it without retrying
    with pytest.raises(AllowanceExhaustedError, match="spent"):
        list(connect(org).pull(None))
    assert len([r for r, resp in org.exchanges if resp.status_code == 403]) == 1


def test_the_concurrent_request_limit_is_waited_out(sandbox: RecordingSandbox, connect: Connect) -> None:
    # GIVEN an org answering a share of requests with the concurrent long-running limit
    from connectors._sandbox import Faults

    sandbox.faults = Faults(throttle=0.3, retry_after="2", seed=3)
    keys, _ = _keys(connect(sandbox))
    # THEN those 403s were retried (after the Retry-After) and the pull completed
    assert sandbox.stats.throttled > 0
    assert sorted(keys) == sorted(sandbox.record_keys())


def test_api_usage_is_read_from_the_limit_info_header() -> None:
    import httpx

    header = {"Sforce-Limit-Info": "api-usage=10018/100000; api-bursts=1/750"}
    assert api_usage(httpx.Response(200, headers=header)) == (10018, 100000)
    assert api_usage(httpx.Response(200, headers={"Sforce-Limit-Info": "per-app-api-usage=1/5"})) is None


def test_the_placeholder_domain_and_bad_options_are_refused_with_what_to_set(
    sandbox: SalesforceSandbox,
) -> None:
    credentials = sandbox.settings().credentials
    with pytest.raises(ConnectorConfigError, match="My Domain"):
        PLUGIN.build(type(sandbox.settings())(credentials=credentials))
    for options in ({"currency": "dollars"}, {"bulk_threshold": "many"}, {"api_reserve": "2"}):
        settings = type(sandbox.settings())(
            credentials=credentials, options=options, transport=sandbox.transport()
        )
        with pytest.raises((ConnectorConfigError, ValueError)):
            PLUGIN.build(settings)


def test_a_page_of_only_deleted_records_maps_to_tombstones_only(
    connect: Connect, sandbox: RecordingSandbox
) -> None:
    page = RawPage(
        records=[{"Id": "003X", "IsDeleted": True, "SystemModstamp": "2026-01-02T03:04:05.000+0000"}],
        cursor="c",
        object_type="contact",
    )
    (draft,) = connect(sandbox).to_records(page)
    assert (draft.source_id, draft.deleted, draft.updated_at) == (
        "003X",
        True,
        "2026-01-02T03:04:05.000+0000",
    )


def test_a_page_with_a_deletion_maps_one_draft_a_record_in_its_order_and_dates_only_the_marked(
    sandbox: RecordingSandbox, connect: Connect
) -> None:
    # GIVEN a page holding a live contact, a contact the cursor marked (changed again on its second)
    # and a deleted one, in that order
    from core.version_marks import AFTER, drafts_of

    connector = connect(sandbox)
    contacts = [
        r for p in connector.pull(None) for r in p.records if r.get("attributes", {}).get("type") == "Contact"
    ]
    live, marked, gone = (dict(r) for r in contacts[:3])
    page = RawPage(
        records=[live, {**marked, AFTER: 3}, {**gone, "IsDeleted": True}], cursor=None, object_type="contact"
    )
    # WHEN the pull's hook maps it
    plain = connector.to_records(page)
    drafts = drafts_of(connector, page)
    # THEN one draft a record, in the page's order, and only the marked one dated later
    assert [(d.source_id, d.deleted) for d in drafts] == [
        (live["Id"], False),
        (marked["Id"], False),
        (gone["Id"], True),
    ]
    assert [d.updated_at for d in drafts] == [d.updated_at for d in plain]
    assert (
        drafts[0].updated_at
        == connector.to_records(RawPage(records=[live], cursor=None, object_type="contact"))[0].updated_at
    )
    unmarked = connector.to_records(RawPage(records=[marked], cursor=None, object_type="contact"))[0]
    assert drafts[1].updated_at != unmarked.updated_at


@pytest.mark.parametrize(("threshold", "jobs"), [("-1", 3), ("-5", 3), (-1, 3)])
def test_a_negative_bulk_threshold_sends_every_first_pull_to_bulk_as_before(
    connect: Connect, threshold: object, jobs: int
) -> None:
    # int() read -1 and the pull asks totalSize > bulk_threshold: each object's first pull, however
    # few records it has, is one queryAll job (Contacts, Leads, Opportunities).
    org = RecordingSandbox(people=3, seed=7)
    connector = connect(org, bulk_threshold=threshold)
    keys, _ = _keys(connector)
    assert len(org.calls("POST", "/jobs/query")) == jobs
    assert sorted(keys) == sorted(org.record_keys())
