"""Pulling contacts: full refresh by list, incremental by keyset search, cursors, errors."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from connectors._http import ConnectorAuthError
from connectors.hubspot import PULL_PROPERTIES, HubSpotConnector, HubSpotSandbox
from core.connector import ConnectorSettings, RawPage
from core.errors import ConnectorConfigError
from core.testing.clock import days_ago

from .conftest import SpecChecked, connect, fast_sandbox

#: Noon three days ago: after the sandbox's seeded times and, with the offsets the tests add, still
#: in the machine's past whatever its date (a time ahead of a pull's start is read as that start).
T = days_ago(3)


def _keys(pages: list[RawPage]) -> list[str]:
    return [f"contact:{r['id']}" for page in pages for r in page.records]


def _bodies(checked: SpecChecked, path: str) -> list[dict[str, object]]:
    return [json.loads(r.content) for r, _ in checked.exchanges if r.url.path == path and r.content]


def test_a_full_pull_lists_every_contact_once_at_the_largest_page(
    sandbox: HubSpotSandbox, checked: SpecChecked, hubspot: HubSpotConnector
) -> None:
    # GIVEN more than two list pages of contacts
    sandbox.add_records(230, at=T)
    # WHEN everything is pulled
    pages = list(hubspot.pull(None))
    # THEN every contact comes once, in pages of 100 (the list endpoint's maximum)
    keys = _keys(pages)
    assert sorted(keys) == sorted(sandbox.record_keys())
    assert len(keys) == len(set(keys))
    assert [len(p.records) for p in pages[:-1]] == [100] * (len(pages) - 1)
    lists = [r for r, _ in checked.exchanges if r.url.path == "/crm/v3/objects/contacts"]
    assert len(lists) == len(pages)
    assert all(r.url.params["limit"] == "100" for r in lists)
    assert all(r.url.params["properties"].split(",") == list(PULL_PROPERTIES) for r in lists)
    # AND the watermark was taken first, from the newest modification (one search, before any list)
    assert checked.routes()[0] == "POST /crm/v3/objects/contacts/search"
    (probe,) = _bodies(checked, "/crm/v3/objects/contacts/search")
    assert probe["sorts"] == [{"propertyName": "lastmodifieddate", "direction": "DESCENDING"}]
    assert probe["limit"] == 1
    # AND the last cursor is incremental, starting strictly after that watermark
    last = json.loads(pages[-1].cursor or "")
    assert last["m"] == "inc"
    assert last["w"] == int(T.timestamp() * 1000)


def test_nothing_new_yields_empty_pages_with_the_cursor(hubspot: HubSpotConnector) -> None:
    # GIVEN a completed full pull
    cursor = list(hubspot.pull(None))[-1].cursor
    # WHEN an incremental pull finds nothing (no change, no contact archived)
    pages = list(hubspot.pull(cursor))
    # THEN the search page and the archived list's page come back empty, carrying a cursor that
    # starts the same place
    assert [p.records for p in pages] == [[], []]
    assert {p.cursor for p in pages} == {cursor}


def test_contacts_archived_since_the_last_pull_come_as_tombstones(
    sandbox: HubSpotSandbox, checked: SpecChecked, hubspot: HubSpotConnector
) -> None:
    # GIVEN a completed full pull, an incremental one after it, then two contacts deleted (archived)
    # through the API, the way HubSpot archives them (every answer checked against HubSpot's spec)
    cursor = list(hubspot.pull(None))[-1].cursor
    cursor = list(hubspot.pull(cursor))[-1].cursor
    gone = sorted(sandbox.record_keys())[:2]
    sandbox.clock.set(T + timedelta(days=1))
    for key in gone:
        response, _ = hubspot._api.exchange_json("DELETE", f"/crm/v3/objects/contacts/{key.split(':')[1]}")
        assert response.status_code == 204
    # WHEN the next incremental pull runs
    pages = list(hubspot.pull(cursor))
    drafts = [d for p in pages for d in hubspot.to_records(p)]
    # THEN each archived contact comes as one tombstone dated by its archivedAt, and the list asked
    # was the archived one
    assert sorted(f"{d.object_type}:{d.source_id}" for d in drafts if d.deleted) == gone
    assert {d.updated_at for d in drafts if d.deleted} == {f"{T + timedelta(days=1):%Y-%m-%dT%H:%M:%S}.000Z"}
    assert any(r.url.params.get("archived") == "true" for r, _ in checked.exchanges)
    # AND later pulls report again only what was archived within ARCHIVE_MARGIN_MS of the newest
    # archive seen (a repeat retires nothing twice): a newer archive moves the watermark past them
    later = list(hubspot.pull(pages[-1].cursor))
    assert len([d for p in later for d in hubspot.to_records(p) if d.deleted]) == 2
    third = sorted(sandbox.record_keys())[0]
    sandbox.delete_records({third}, at=T + timedelta(days=3))
    final = list(hubspot.pull(later[-1].cursor))
    reported = sorted(f"contact:{d.source_id}" for p in final for d in hubspot.to_records(p) if d.deleted)
    assert reported == sorted([*gone, third])
    quiet = list(hubspot.pull(final[-1].cursor))
    assert [d.source_id for p in quiet for d in hubspot.to_records(p) if d.deleted] == [third.split(":")[1]]


def test_a_timestamp_shared_by_more_than_two_search_pages_is_walked_without_offsets(
    sandbox: HubSpotSandbox, checked: SpecChecked, hubspot: HubSpotConnector
) -> None:
    # GIVEN a full pull, then 450 contacts created on one millisecond, and a few changed after it
    cursor = list(hubspot.pull(None))[-1].cursor
    tied = sandbox.add_records(450, at=T)
    later = sandbox.add_records(3, at=T + timedelta(seconds=1))
    checked.exchanges.clear()
    # WHEN an incremental pull runs
    pages = list(hubspot.pull(cursor))
    # THEN each comes back exactly once
    keys = _keys(pages)
    assert Counter(keys) == Counter(tied | later)
    # AND every search asked for HubSpot's maximum of 200 from offset 0 (keyset paging: never near the
    # 10,000-result cap), walking the tie by record id
    searches = _bodies(checked, "/crm/v3/objects/contacts/search")
    assert {(s["limit"], s["after"]) for s in searches} == {(200, "0")}
    assert any(s["sorts"] == [{"propertyName": "hs_object_id", "direction": "ASCENDING"}] for s in searches)
    # AND the cursors stay small: a tie is remembered by its highest id, not by listing its members
    # (at most one search page of them is listed, each as a 16-character tag: connectors.cursor_tags)
    assert max(len(p.cursor or "") for p in pages) < 200 * 20
    # (the tags of the versions delivered on the watermark: connectors.cursor_tags.version_tag)
    ids = {key.rsplit(":", 1)[1] for key in later}
    tags = {hubspot._tag(r) for p in pages for r in p.records if str(r.get("id")) in ids}
    assert len(tags) == len(later)
    assert set(json.loads(pages[-1].cursor or "")["s"]) == tags


def test_the_search_result_cap_never_stops_an_incremental_pull() -> None:
    # GIVEN a sandbox whose search refuses offsets past 300 (HubSpot: 10,000), and 700 contacts on one time
    sandbox = fast_sandbox(search_result_cap=300)
    checked = SpecChecked(sandbox)
    with connect(sandbox, checked) as hubspot:
        cursor = list(hubspot.pull(None))[-1].cursor
        tied = sandbox.add_records(700, at=T)
        # WHEN pulling incrementally
        keys = _keys(list(hubspot.pull(cursor)))
    # THEN everything arrives, and no request was refused
    assert sorted(keys) == sorted(tied)
    assert all(response.status_code == 200 for _, response in checked.exchanges)


def test_search_refuses_offsets_past_its_cap(sandbox: HubSpotSandbox, checked: SpecChecked) -> None:
    # GIVEN HubSpot's documented cap: paging beyond 10,000 results is a 400
    request = {"filterGroups": [], "sorts": [], "properties": ["email"], "limit": 200, "after": "10000"}
    import httpx

    with httpx.Client(transport=checked.transport(), base_url="https://api.hubapi.com") as client:
        response = client.post(
            "/crm/v3/objects/contacts/search",
            json=request,
            headers={"Authorization": f"Bearer {sandbox.token}"},
        )
    # THEN the answer is a 400 in HubSpot's error shape (checked against the spec by the transport)
    assert response.status_code == 400
    assert response.json()["category"] == "VALIDATION_ERROR"


def test_a_full_pull_resumed_after_any_page_loses_and_repeats_nothing(
    sandbox: HubSpotSandbox, hubspot: HubSpotConnector
) -> None:
    # GIVEN a full pull of four pages
    sandbox.add_records(330, at=T)
    pages = list(hubspot.pull(None))
    assert len(pages) >= 4
    # WHEN it is cut after page k and resumed from that page's cursor
    for k in range(len(pages)):
        resumed = list(hubspot.pull(pages[k].cursor))
        # THEN together they hold every contact once
        assert sorted(_keys(pages[: k + 1]) + _keys(resumed)) == sorted(sandbox.record_keys())


def test_an_incremental_pull_resumed_after_any_page_loses_and_repeats_nothing(
    sandbox: HubSpotSandbox, hubspot: HubSpotConnector
) -> None:
    # GIVEN changes that take several search pages: a 260-contact tie, then 250 separate modifications
    start = list(hubspot.pull(None))[-1].cursor
    changed = sandbox.add_records(260, at=T)
    for i, key in enumerate(sorted(sandbox.add_records(250, at=T))):
        sandbox.touch({key}, at=T + timedelta(milliseconds=10 * (i + 1)))
        changed.add(key)
    pages = list(hubspot.pull(start))
    assert len(pages) >= 4
    # WHEN the incremental pull is cut after page k and resumed from its cursor
    for k in range(len(pages)):
        resumed = list(hubspot.pull(pages[k].cursor))
        # THEN together they hold each changed contact once
        assert sorted(_keys(pages[: k + 1]) + _keys(resumed)) == sorted(changed)


def test_a_contact_modified_between_two_pages_shifts_nothing_out(
    sandbox: HubSpotSandbox, hubspot: HubSpotConnector
) -> None:
    # GIVEN 450 changes on separate timestamps, and an incremental pull that has read its first page
    cursor = list(hubspot.pull(None))[-1].cursor
    added = sorted(sandbox.add_records(450, at=T), key=lambda k: int(k.split(":")[1]))
    for i, key in enumerate(added):
        sandbox.touch({key}, at=T + timedelta(milliseconds=i))
    walk = hubspot.pull(cursor)
    first = next(walk)
    # WHEN a contact from that first page changes again before the next page is read (with offset paging
    # every later result would shift one place and one contact would be skipped)
    moved = f"contact:{first.records[0]['id']}"
    sandbox.touch({moved}, at=T + timedelta(seconds=5))
    rest = list(walk)
    # THEN every contact arrives, the moved one again with its new version
    keys = _keys([first, *rest])
    assert set(keys) == set(added)
    assert Counter(keys)[moved] == 2
    assert sum(Counter(keys).values()) == len(added) + 1


def test_a_cursor_this_connector_did_not_write_is_refused(hubspot: HubSpotConnector) -> None:
    for cursor in ("2026-01-01", '{"v":99}', '{"v":1,"m":"inc","w":"soon"}', '{"v":1,"m":"inc","p":"tie"}'):
        with pytest.raises(ConnectorConfigError, match="full refresh"):
            list(hubspot.pull(cursor))


def test_a_wrong_token_fails_at_once_naming_the_variable_not_the_token(
    sandbox: HubSpotSandbox, checked: SpecChecked
) -> None:
    # GIVEN a connector holding a token HubSpot does not know
    settings = ConnectorSettings(
        credentials={"hubspot_token": "pat-na1-00000000-dead-beef-0000-000000000000"},
        transport=checked.transport(),
    )
    with HubSpotConnector(settings) as hubspot, pytest.raises(ConnectorAuthError) as caught:
        # WHEN it pulls
        list(hubspot.pull(None))
    # THEN it stops after one request, names PROFILESYNC_HUBSPOT_TOKEN, and shows no token
    message = str(caught.value)
    assert "PROFILESYNC_HUBSPOT_TOKEN" in message
    assert "dead-beef" not in message
    assert sandbox.token not in message
    assert "Authentication credentials not found" in message
    assert len(checked.exchanges) == 1
    assert checked.exchanges[0][1].json()["category"] == "INVALID_AUTHENTICATION"


def test_a_missing_token_says_what_to_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PROFILESYNC_HUBSPOT_TOKEN", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PROFILESYNC_SECRETS_FILE", raising=False)
    monkeypatch.delenv("PROFILESYNC_SECRETS_PREFIX", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    with pytest.raises(ConnectorConfigError, match="PROFILESYNC_HUBSPOT_TOKEN"):
        HubSpotConnector(ConnectorSettings())


def test_the_token_can_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, sandbox: HubSpotSandbox
) -> None:
    monkeypatch.setenv("PROFILESYNC_HUBSPOT_TOKEN", sandbox.token)
    with HubSpotConnector(ConnectorSettings(transport=sandbox.transport())) as hubspot:
        assert sum(len(p.records) for p in hubspot.pull(None)) == len(sandbox.record_keys())


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"rate_limit": "100"}, "unknown option"),
        ({"rate_limit_per_10s": "fast"}, "rate_limit_per_10s"),
        ({"search_requests_per_second": "0"}, "search_requests_per_second"),
    ],
)
def test_bad_options_are_refused_with_what_to_set(options: dict[str, str], expected: str) -> None:
    with pytest.raises(ConnectorConfigError, match=expected):
        HubSpotConnector(ConnectorSettings(credentials={"hubspot_token": "pat-x"}, options=options))


def test_faults_are_retried_until_the_pull_completes() -> None:
    # GIVEN a sandbox that throttles, fails, times out and truncates a share of its answers
    from connectors._sandbox import Faults

    from .conftest import SleepRecorder

    sandbox = fast_sandbox(
        people=200,
        faults=Faults(throttle=0.3, server_error=0.1, timeout=0.05, truncate=0.05, retry_after="2"),
    )
    sleeps = SleepRecorder()
    with connect(sandbox, sleeps=sleeps) as hubspot:
        # WHEN pulling fully, then incrementally after changes
        pages = list(hubspot.pull(None))
        changed = sandbox.add_records(250, at=T)
        incremental = list(hubspot.pull(pages[-1].cursor))
    # THEN both complete with every contact once, having waited (Retry-After honoured) rather than spun
    assert sorted(_keys(pages)) == sorted(sandbox.record_keys() - changed)
    assert sorted(_keys(incremental)) == sorted(changed)
    assert sandbox.stats.throttled > 0
    assert 2.0 in sleeps.waits
    assert min(sleeps.waits) >= 0.01
