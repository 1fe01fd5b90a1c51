"""The sandbox answers like HubSpot: limits, rate-limit headers, 429 and error bodies, page caps; and
the connector paces itself so a healthy sync never meets a 429. Every exchange here is checked against
HubSpot's published specs."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest

from connectors._sandbox import serve
from connectors.hubspot import HubSpotConnector, HubSpotSandbox
from core.connector import Payload

from .conftest import FakeClock, SpecChecked, connect, fast_sandbox

SEARCH = "/crm/v3/objects/contacts/search"
LIST = "/crm/v3/objects/contacts"


def _client(
    sandbox: HubSpotSandbox, checked: SpecChecked | None = None, token: str | None = None
) -> httpx.Client:
    transport = (checked or SpecChecked(sandbox)).transport()
    return httpx.Client(
        transport=transport,
        base_url="https://api.hubapi.com",
        headers={"Authorization": f"Bearer {token or sandbox.token}"},
    )


def _search_body(**extra: Any) -> dict[str, Any]:
    return {"filterGroups": [], "sorts": [], "properties": ["email"], "limit": 10, "after": "0", **extra}


def test_responses_carry_hubspots_rate_limit_headers_except_search() -> None:
    # GIVEN a sandbox at HubSpot's published limits
    sandbox = HubSpotSandbox(people=30, seed=7)
    with _client(sandbox) as client:
        # WHEN two list requests and one search are made
        first = client.get(LIST, params={"limit": 5})
        second = client.get(LIST, params={"limit": 5})
        search = client.post(SEARCH, json=_search_body())
    # THEN list answers say the 10-second window (100 for Free/Starter) and the day, counting down
    assert first.headers["X-HubSpot-RateLimit-Max"] == "100"
    assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert first.headers["X-HubSpot-RateLimit-Daily"] == "250000"
    assert int(first.headers["X-HubSpot-RateLimit-Remaining"]) == 99
    assert int(second.headers["X-HubSpot-RateLimit-Remaining"]) == 98
    assert int(second.headers["X-HubSpot-RateLimit-Daily-Remaining"]) == 249_998
    # AND search answers carry none of them (documented), and do not count against the 10-second window
    assert search.status_code == 200
    assert not [h for h in search.headers if h.lower().startswith("x-hubspot-ratelimit")]
    assert (
        sandbox.handle(
            httpx.Request(
                "GET", f"https://api.hubapi.com{LIST}", headers={"Authorization": f"Bearer {sandbox.token}"}
            )
        ).headers["X-HubSpot-RateLimit-Remaining"]
        == "97"
    )


def test_the_ten_second_and_search_limits_answer_429_in_hubspots_shape() -> None:
    # GIVEN a sandbox whose windows stand still (a fake clock)
    clock = FakeClock()
    sandbox = HubSpotSandbox(
        people=10, seed=7, rate_limit_per_10s=3, search_requests_per_second=2, limit_clock=clock
    )
    with _client(sandbox) as client:
        # WHEN more requests than the windows allow are made
        lists = [client.get(LIST) for _ in range(4)]
        searches = [client.post(SEARCH, json=_search_body()) for _ in range(3)]
        clock.now += 10.0
        after_the_window = client.get(LIST)
    # THEN the extra ones get HubSpot's 429s: the 10-second one with headers, the search one without
    assert [r.status_code for r in lists] == [200, 200, 200, 429]
    body = lists[-1].json()
    assert body["policyName"] == "TEN_SECONDLY_ROLLING"
    assert body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert lists[-1].headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert [r.status_code for r in searches] == [200, 200, 429]
    assert searches[-1].json()["policyName"] == "SECONDLY"
    assert "X-HubSpot-RateLimit-Remaining" not in searches[-1].headers
    # AND the window frees after 10 seconds
    assert after_the_window.status_code == 200
    assert sandbox.stats.limit_throttled == 2


def test_the_daily_limit_answers_429_daily() -> None:
    sandbox = HubSpotSandbox(people=10, seed=7, daily_limit=2)
    with _client(sandbox) as client:
        answers = [client.get(LIST) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[-1].json()["policyName"] == "DAILY"


def test_a_bad_token_gets_hubspots_401(sandbox: HubSpotSandbox) -> None:
    with _client(sandbox, token="pat-na1-wrong") as client:
        answer = client.get(LIST)
    assert answer.status_code == 401
    assert answer.json()["category"] == "INVALID_AUTHENTICATION"
    assert answer.json()["message"].startswith("Authentication credentials not found.")


def test_page_sizes_are_capped_at_hubspots_maximums(sandbox: HubSpotSandbox) -> None:
    # GIVEN more contacts than either page maximum
    sandbox.add_records(250)
    with _client(sandbox) as client:
        # WHEN asking for more than the maximum
        listed = client.get(LIST, params={"limit": 500})
        searched = client.post(SEARCH, json=_search_body(limit=1000))
        default = client.get(LIST)
    # THEN list pages hold 100, search pages 200, and the list default is 10
    assert len(listed.json()["results"]) == 100
    assert len(searched.json()["results"]) == 200
    assert searched.json()["total"] == len(sandbox.record_keys())
    assert len(default.json()["results"]) == 10


def test_properties_may_be_comma_separated_or_repeated(sandbox: HubSpotSandbox) -> None:
    with _client(sandbox) as client:
        csv = client.get(LIST, params={"limit": 3, "properties": "email,phone"}).json()
        multi = client.get(
            LIST, params=[("limit", "3"), ("properties", "email"), ("properties", "phone")]
        ).json()
    assert csv == multi
    assert all(
        set(r["properties"]) <= {"email", "phone", "createdate", "hs_object_id", "lastmodifieddate"}
        for r in csv["results"]
    )


def test_search_filters_and_sorts_like_hubspot(sandbox: HubSpotSandbox) -> None:
    # GIVEN contacts, one filter group per condition (groups are ORed, filters ANDed)
    with _client(sandbox) as client:
        answer = client.post(
            SEARCH,
            json=_search_body(
                limit=200,
                filterGroups=[
                    {"filters": [{"propertyName": "hs_object_id", "operator": "LTE", "value": "150"}]},
                    {"filters": [{"propertyName": "email", "operator": "EQ", "value": "NEW1@EXAMPLE.COM"}]},
                ],
                sorts=[{"propertyName": "hs_object_id", "direction": "DESCENDING"}],
            ),
        )
        sandbox.add_records(1)
        with_new = client.post(
            SEARCH,
            json=_search_body(
                filterGroups=[
                    {"filters": [{"propertyName": "email", "operator": "EQ", "value": "NEW1@EXAMPLE.COM"}]}
                ]
            ),
        )
    ids = [int(r["id"]) for r in answer.json()["results"]]
    assert ids == sorted(ids, reverse=True)
    assert ids
    assert all(i <= 150 for i in ids)
    assert [r["properties"]["email"] for r in with_new.json()["results"]] == ["new1@example.com"]


def test_gdpr_delete_of_an_unknown_email_answers_204_and_blocklists_it(sandbox: HubSpotSandbox) -> None:
    with _client(sandbox) as client:
        answer = client.post(
            "/crm/v3/objects/contacts/gdpr-delete",
            json={"objectId": "Ghost@Example.com", "idProperty": "email"},
        )
        unknown_id = client.post("/crm/v3/objects/contacts/gdpr-delete", json={"objectId": "999999"})
    assert answer.status_code == 204
    assert sandbox.blocklisted("ghost@example.com")
    assert unknown_id.status_code == 404


def test_creating_a_property_group_or_property_twice_is_a_conflict(sandbox: HubSpotSandbox) -> None:
    group = {"name": "profilesync", "label": "profilesync", "displayOrder": -1}
    prop = {
        "name": "profilesync_segment",
        "label": "Segment",
        "type": "string",
        "fieldType": "text",
        "groupName": "profilesync",
    }
    with _client(sandbox) as client:
        assert client.get("/crm/v3/properties/contacts/groups/profilesync").status_code == 404
        assert client.post("/crm/v3/properties/contacts/groups", json=group).status_code == 201
        assert client.post("/crm/v3/properties/contacts/groups", json=group).status_code == 409
        assert client.post("/crm/v3/properties/contacts", json=prop).status_code == 201
        assert client.post("/crm/v3/properties/contacts", json=prop).status_code == 409
        again = client.post("/crm/v3/properties/contacts/batch/create", json={"inputs": [prop]})
        assert (
            client.get("/crm/v3/properties/contacts/profilesync_segment").json()["groupName"] == "profilesync"
        )
    assert again.status_code == 207
    assert again.json()["errors"][0]["category"] == "OBJECT_ALREADY_EXISTS"


def test_the_connector_paces_itself_to_the_published_limits_and_meets_no_429() -> None:
    # GIVEN a sandbox and a connector at the same small limits, on one fake clock (the connector keeps
    # one request of each 10-second window spare, so 3 per 10 s lets it send 2)
    clock = FakeClock()
    sandbox = HubSpotSandbox(
        people=700, seed=7, rate_limit_per_10s=3, search_requests_per_second=2, limit_clock=clock
    )
    hubspot = connect(sandbox, SpecChecked(sandbox), clock=clock, sleep=clock.sleep)
    # WHEN a six-page full pull and a several-page incremental pull run
    start = clock.now
    pages = list(hubspot.pull(None))
    list_time = clock.now - start
    sandbox.add_records(450, at=sandbox.clock.now())
    searched_from = clock.now
    incremental = list(hubspot.pull(pages[-1].cursor))
    hubspot.close()
    # THEN no request was throttled, and the waits were what the windows need, hardly more
    assert sandbox.stats.limit_throttled == 0
    assert len(pages) == 6
    assert 20.0 <= list_time <= 20.0 + 2 * 0.05 + 0.01  # 6 lists at 2 per 10 s: two full windows
    searches = len(incremental) + 1  # the last page needs no more
    assert searches >= 3
    assert clock.now - searched_from >= (searches - 1) // 2 * 1.0
    assert sum(len(p.records) for p in incremental) == 450


def test_quota_spent_by_other_apps_slows_the_connector_instead_of_earning_429s() -> None:
    # GIVEN a 10-request window, most of it already spent by another integration
    clock = FakeClock()
    sandbox = HubSpotSandbox(
        people=700, seed=7, rate_limit_per_10s=10, search_requests_per_second=10, limit_clock=clock
    )
    hubspot = connect(sandbox, clock=clock, sleep=clock.sleep)
    auth = {"Authorization": f"Bearer {sandbox.token}"}
    for _ in range(7):
        sandbox.handle(httpx.Request("GET", f"https://api.hubapi.com{LIST}", headers=auth))
    # WHEN the connector pulls six pages
    pages = list(hubspot.pull(None))
    hubspot.close()
    # THEN it learnt the remaining quota from the headers and waited for the window, without a 429
    assert len(pages) == 6
    assert sandbox.stats.limit_throttled == 0
    assert clock.now - 1000.0 >= 10.0


def test_a_pull_and_a_push_over_real_http_with_the_bearer_token() -> None:
    # GIVEN the sandbox served on a local port
    sandbox = fast_sandbox(people=150)
    with serve(sandbox) as server:
        settings = dataclasses.replace(sandbox.settings(transport=False), base_url=server.url)
        with HubSpotConnector(settings) as hubspot:
            # WHEN the connector pulls through the network, pushes a profile, and pulls what changed
            pages = list(hubspot.pull(None))
            payload = Payload(
                "cus_1",
                "over.http@example.com",
                {"idProperty": "email", "properties": {"profilesync_segment": "vip"}},
            )
            (outcome,) = hubspot.push([payload])
            changed = sandbox.add_records(3)
            incremental = list(hubspot.pull(pages[-1].cursor))
    # THEN everything arrives as it does in-process
    pushed = sandbox.contact("over.http@example.com")
    assert pushed is not None
    assert outcome.ok
    assert sandbox.pushed_traits("over.http@example.com")["segment"] == "vip"
    full = sorted(f"contact:{r['id']}" for p in pages for r in p.records)
    assert full == sorted(sandbox.record_keys() - changed - {f"contact:{pushed['hs_object_id']}"})
    assert sorted(f"contact:{r['id']}" for p in incremental for r in p.records) == sorted(
        changed | {f"contact:{pushed['hs_object_id']}"}
    )


def test_the_official_sdk_reads_the_sandbox_over_http() -> None:
    hubspot_sdk = pytest.importorskip("hubspot", reason="hubspot-api-client is not installed")
    # GIVEN HubSpot's own Python SDK pointed at the served sandbox
    sandbox = fast_sandbox(people=200)
    with serve(sandbox) as server:
        client = hubspot_sdk.HubSpot(access_token=sandbox.token, host=server.url)
        # WHEN it reads a page of contacts, and the next one from its paging token
        first = client.crm.contacts.basic_api.get_page(limit=100)
        second = client.crm.contacts.basic_api.get_page(limit=100, after=first.paging.next.after)
    # THEN it parses HubSpot-shaped pages
    assert len(first.results) == 100
    assert first.results[0].id.isdigit()
    assert "email" in first.results[0].properties
    assert {r.id for r in first.results}.isdisjoint({r.id for r in second.results})
    assert len(first.results) + len(second.results) == len(sandbox.record_keys())


def test_the_package_exports_a_plugin_whose_sandbox_satisfies_the_control_surface() -> None:
    import connectors.hubspot as package
    from connectors._sandbox import SandboxControl

    # GIVEN the package's public names
    for name in package.__all__:
        assert hasattr(package, name), name
    # THEN the plugin builds from its sandbox's settings, and the sandbox offers what the contract drives
    sandbox = package.PLUGIN.sandbox(people=20, seed=3)  # type: ignore[misc]
    assert isinstance(sandbox, SandboxControl)
    assert package.PLUGIN.spec.name == "hubspot"
    assert package.PLUGIN.spec.page_size == 100
    assert package.PLUGIN.spec.push_batch_size == 100
    with package.PLUGIN.build(sandbox.settings()) as hubspot:  # type: ignore[attr-defined]
        assert isinstance(hubspot, HubSpotConnector)
