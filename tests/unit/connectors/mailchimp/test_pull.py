"""Pulling members: page size, the watermark cursor, ties across pages, resuming, parallel refresh,
config and auth errors, the concurrency limit, injected faults, spec checks and a served sandbox."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta

import httpx
import pytest

from connectors._http import ConnectorAuthError
from connectors._sandbox import Faults, serve
from connectors.mailchimp import DEFAULT_TOKEN, MailchimpConnector, MailchimpSandbox, WalkState, make_sandbox
from core.connector import RawPage
from core.errors import ConnectorConfigError
from core.testing.clock import days_ago
from profilesync.testing.specs import OpenApiSpec
from tests.unit.connectors.deadline import within

from .conftest import SPEC_FILE, SleepRecorder, SpecChecked, connect

#: Noon three days ago: after the sandbox's seeded times and, with the offsets the tests add, still
#: in the machine's past whatever its date (a time ahead of a pull's start is read as that start).
T = days_ago(3)
SECOND = timedelta(seconds=1)


def keys_of(pages: list[RawPage]) -> list[str]:
    return [f"member:{m['contact_id']}" for page in pages for m in page.records]


def test_pages_ask_for_the_maximum_page_size_sorted_by_last_changed(
    sandbox: MailchimpSandbox, connector: MailchimpConnector, checked: SpecChecked
) -> None:
    # GIVEN an audience of more than two pages
    sandbox.add_records(2100, at=T)
    # WHEN the connector pulls everything
    pages = list(connector.pull(None))
    # THEN every member comes back once, in pages of at most 1000
    keys = keys_of(pages)
    assert Counter(keys).most_common(1)[0][1] == 1
    assert set(keys) == sandbox.record_keys()
    assert max(len(p.records) for p in pages) == 1000
    # AND each page request asks for 1000 members, oldest change first, with only the fields mapped
    walks = [r for r in checked.requests("GET", "/members") if r.url.params.get("count") != "1"]
    assert walks
    for request in walks:
        params = request.url.params
        assert params["count"] == "1000"
        assert (params["sort_field"], params["sort_dir"]) == ("last_changed", "ASC")
        assert set(params["fields"].split(",")) >= {"members.id", "members.last_changed", "total_items"}
    # AND every exchange matched Mailchimp's published spec
    assert checked.checked == len(checked.exchanges) > 0


@pytest.mark.parametrize("size", [2, 40])
@pytest.mark.parametrize("first", ["full", "incremental"])
def test_the_page_size_option_asks_for_smaller_pages(
    sandbox: MailchimpSandbox, checked: SpecChecked, first: str, size: int
) -> None:
    # GIVEN a connector asked for pages of ``size`` (2: the smallest, whose pages after the first hold
    # one new member after the overlap; and, for an incremental pull, a synced cursor and 130 members
    # changed on one second: a tie across page boundaries)
    settings = sandbox.settings()
    connector = connect(sandbox, checked, options={**settings.options, "page_size": str(size)})
    with connector:
        assert connector.spec.page_size == size
        cursor = None
        expected = sandbox.record_keys()
        if first == "incremental":
            with within(60):
                *_, last = connector.pull(None)
            cursor, expected = last.cursor, sandbox.add_records(130, at=T)
        # WHEN it pulls (to the end: a walk that makes no progress is stopped after 60 s)
        checked.exchanges.clear()
        with within(60):
            pages = list(connector.pull(cursor))
    # THEN every member comes back once, in pages of at most ``size`` (a page after the first re-reads
    # the member before it, to check the block did not shift), each request asking for ``size``
    keys = keys_of(pages)
    assert Counter(keys).most_common(1)[0][1] == 1
    assert set(keys) == set(expected)
    assert max(len(p.records) for p in pages) <= size
    walks = [r for r in checked.requests("GET", "/members") if r.url.params.get("count") != "1"]
    assert len(walks) >= len(expected) / size
    assert {r.url.params["count"] for r in walks} == {str(size)}


@pytest.mark.parametrize("value", ["0", "1", "1001", "many"])
def test_a_page_size_outside_mailchimp_s_count_is_a_config_error(
    sandbox: MailchimpSandbox, value: str
) -> None:
    # 1 is refused too: a page after the first re-reads one member, so a page of 1 would hold only
    # that overlap, never shorter than the page size, and the walk would ask for it again forever
    settings = dataclasses.replace(sandbox.settings(), options={"list_id": "x", "page_size": value})
    with pytest.raises(ConnectorConfigError, match="page_size must be a whole number from 2 to 1,000"):
        MailchimpConnector(settings)


def test_an_incremental_pull_with_a_tie_across_a_page_boundary_resumes_from_every_page(
    sandbox: MailchimpSandbox, connector: MailchimpConnector
) -> None:
    # GIVEN a full pull's cursor, then 1500 members changed on one second
    *_, last = connector.pull(None)
    added = sandbox.add_records(1500, at=T)
    # WHEN the connector pulls from the cursor
    pages = list(connector.pull(last.cursor))
    # THEN the 1500 come back exactly once, over two pages
    assert len([p for p in pages if p.records]) == 2
    assert sorted(keys_of(pages)) == sorted(added)
    # AND resuming after the first page returns exactly the rest
    rest = list(connector.pull(pages[0].cursor))
    assert sorted(keys_of(pages[:1]) + keys_of(rest)) == sorted(added)
    # AND the cursor stays small: it keeps a bounded number of ids from the tie
    assert pages[-1].cursor is not None
    assert len(pages[-1].cursor) < 40_000


def test_a_tie_larger_than_the_cursor_is_counted_again_and_read_again_when_a_member_joined_it(
    sandbox: MailchimpSandbox, connector: MailchimpConnector, checked: SpecChecked
) -> None:
    # GIVEN a cursor that ended on a second holding more members than it keeps versions of
    *_, last = connector.pull(None)
    first = next(iter(sorted(keys_of(list(connector.pull(None))))))
    sandbox.add_records(1500, at=T)
    cursor = list(connector.pull(last.cursor))[-1].cursor
    # WHEN nothing changed, it is pulled from: one count of the second (spec-checked), nothing again
    assert keys_of(list(connector.pull(cursor))) == []
    counts = [r for r in checked.requests("GET", "/members") if r.url.params.get("fields") == "total_items"]
    assert len(counts) == 1
    # AND when an older member changes onto that second (sorted before the others), it is pulled
    sandbox.touch({first}, at=T)
    assert first in keys_of(list(connector.pull(cursor)))


def test_members_changing_under_a_walk_are_not_lost(
    sandbox: MailchimpSandbox, connector: MailchimpConnector
) -> None:
    # GIVEN 1500 members on one second, and the first page of an incremental pull over them
    *_, last = connector.pull(None)
    added = sandbox.add_records(1500, at=T)
    first = next(iter(connector.pull(last.cursor)))
    # WHEN some members already read change (they leave the block, shifting the rest by offset)
    moved = set(keys_of([first])[:7])
    sandbox.touch(moved, at=T + SECOND)
    rest = list(connector.pull(first.cursor))
    # THEN no member is lost, and the changed ones come back in their new version
    assert set(keys_of([first]) + keys_of(rest)) == added
    assert moved <= set(keys_of(rest))
    assert {m["merge_fields"]["LNAME"] for p in rest for m in p.records if f"member:{m['id']}" in moved} != {
        "Person"
    }


def test_nothing_new_yields_one_empty_page_carrying_the_cursor(connector: MailchimpConnector) -> None:
    *_, last = connector.pull(None)
    again = list(connector.pull(last.cursor))
    assert len(again) == 1
    assert again[0].records == []
    assert again[0].cursor == last.cursor


def test_a_pull_can_start_from_a_date(sandbox: MailchimpSandbox, connector: MailchimpConnector) -> None:
    # GIVEN members changed before and after a date WHEN the pull starts from that date
    later = sandbox.add_records(3, at=T + 5 * SECOND)
    pages = list(connector.pull(connector.cursor_since(T + 5 * SECOND)))
    # THEN it returns those changed at or after it
    assert set(keys_of(pages)) == later


def test_a_large_full_refresh_walks_ranges_in_parallel_within_ten_connections() -> None:
    # GIVEN an audience of 9 pages changed over many seconds, served slowly enough to overlap
    sandbox = make_sandbox(people=120, service_time=0.002)
    for k in range(9):
        sandbox.add_records(1000, at=T + k * SECOND)
    checked = SpecChecked(sandbox)
    with connect(sandbox, checked) as connector:
        # WHEN it pulls everything
        pages = list(connector.pull(None))
    # THEN every member comes back once, several connections were used, none beyond ten
    keys = keys_of(pages)
    assert len(keys) == len(set(keys)) == len(sandbox.record_keys())
    assert 2 <= sandbox.peak_connections <= 10
    assert sandbox.stats.limit_throttled == 0
    assert checked.checked == len(checked.exchanges)
    # AND a pull resumed from a page's cursor loses nothing and repeats nothing
    with connect(sandbox) as connector:
        for k in (1, len(pages) - 2):
            resumed = list(connector.pull(pages[k].cursor))
            assert sorted(keys_of(pages[: k + 1]) + keys_of(resumed)) == sorted(sandbox.record_keys())


# --- configuration and auth ---------------------------------------------------------------------------


def test_the_data_center_comes_from_the_key(sandbox: MailchimpSandbox, checked: SpecChecked) -> None:
    with connect(sandbox, checked) as connector:
        list(connector.pull(None))
    hosts = {r.url.host for r, _ in checked.exchanges}
    assert hosts == {"us21.api.mailchimp.com"}
    assert all(r.url.path.startswith("/3.0/lists/") for r, _ in checked.exchanges)


def test_a_key_without_data_center_or_a_missing_list_id_is_a_config_error(sandbox: MailchimpSandbox) -> None:
    settings = sandbox.settings()
    with pytest.raises(ConnectorConfigError) as no_dc:
        MailchimpConnector(
            dataclasses.replace(settings, credentials={"mailchimp_api_key": "abcdef0123456789"})
        )
    assert "data-center suffix" in str(no_dc.value)
    assert "PROFILESYNC_MAILCHIMP_API_KEY" in str(no_dc.value)
    assert "abcdef0123456789" not in str(no_dc.value)
    with pytest.raises(ConnectorConfigError, match="list_id"):
        MailchimpConnector(dataclasses.replace(settings, options={}))
    with pytest.raises(ConnectorConfigError, match="max_connections"):
        MailchimpConnector(dataclasses.replace(settings, options={"list_id": "x", "max_connections": "11"}))


def test_an_unknown_audience_says_to_fix_list_id(sandbox: MailchimpSandbox) -> None:
    with (
        connect(sandbox, options={"list_id": "nope"}) as connector,
        pytest.raises(ConnectorConfigError) as caught,
    ):
        list(connector.pull(None))
    assert "list_id" in str(caught.value)
    assert "nope" in str(caught.value)


def test_a_wrong_key_fails_fast_naming_the_variable_and_not_the_secret(sandbox: MailchimpSandbox) -> None:
    wrong = "0000000000000000ffffffffffffffff-us21"
    with (
        connect(sandbox, credentials={"mailchimp_api_key": wrong}) as connector,
        pytest.raises(ConnectorAuthError) as caught,
    ):
        list(connector.pull(None))
    message = str(caught.value)
    assert "PROFILESYNC_MAILCHIMP_API_KEY" in message
    assert "API Key Invalid" in message
    assert wrong not in message
    assert DEFAULT_TOKEN not in message
    assert sandbox.stats.requests == 1


def test_the_wrong_data_center_is_refused_as_mailchimp_does(sandbox: MailchimpSandbox) -> None:
    # GIVEN the right key sent to another data center's host
    # WHEN it pulls THEN Mailchimp's 401 says the key may be for another data center
    with (
        connect(sandbox, base_url="https://us5.api.mailchimp.com") as connector,
        pytest.raises(ConnectorAuthError, match="wrong datacenter"),
    ):
        list(connector.pull(None))


def test_error_bodies_are_mailchimp_problem_documents() -> None:
    # GIVEN the sandbox's error answers: bad key, unknown audience, bad parameter, 11th connection
    sandbox = make_sandbox(people=10)
    spec = OpenApiSpec.load(SPEC_FILE)
    good = sandbox.settings()
    auth = httpx.BasicAuth("anystring", good.credentials["mailchimp_api_key"])
    base = "https://us21.api.mailchimp.com/3.0/lists"

    def send(url: str, key_auth: httpx.Auth = auth) -> httpx.Response:
        request = next(key_auth.auth_flow(httpx.Request("GET", url)))
        response = sandbox.handle(request)
        response.request = request
        return response

    answers = {
        401: send(f"{base}/{sandbox.list_id}/members", httpx.BasicAuth("x", "bad-us21")),
        404: send(f"{base}/unknown/members"),
        400: send(f"{base}/{sandbox.list_id}/members?sort_field=email"),
    }
    for _ in range(10):
        assert sandbox.limit(httpx.Request("GET", base)) is None  # ten connections in flight
    answers[429] = send(f"{base}/{sandbox.list_id}/members")
    for _ in range(10):
        sandbox.release(httpx.Request("GET", base))
    # THEN each is an RFC 7807 document as the spec describes, with Mailchimp's titles
    titles = {}
    for status, response in answers.items():
        assert response.status_code == status
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        spec.validate_response("GET", response.request.url.path, status, body)
        titles[status] = body["title"]
        assert set(body) >= {"type", "title", "status", "detail", "instance"}
    assert titles == {
        401: "API Key Invalid",
        404: "Resource Not Found",
        400: "Invalid Resource",
        429: "Too Many Requests",
    }
    assert "10 simultaneous connections" in answers[429].json()["detail"]
    # AND, as Mailchimp, no rate-limit headers are sent (its limit is on connections, not requests)
    assert not [h for h in answers[429].headers if "ratelimit" in h.lower()]


# --- faults, the network, the SDK ---------------------------------------------------------------------


def test_injected_faults_are_retried_to_completion(sleeps: SleepRecorder) -> None:
    # GIVEN a sandbox that throttles, fails, times out and truncates a share of its answers
    sandbox = make_sandbox(
        people=120,
        faults=Faults(throttle=0.25, server_error=0.15, truncate=0.1, timeout=0.1, retry_after="1", seed=4),
    )
    sandbox.add_records(3500, at=T)
    checked = SpecChecked(sandbox)
    with connect(sandbox, checked, sleeps) as connector:
        # WHEN the connector pulls everything
        keys = keys_of(list(connector.pull(None)))
    # THEN it completes with every member once, after waiting (Retry-After honoured) between retries
    assert sorted(keys) == sorted(sandbox.record_keys())
    assert sandbox.stats.throttled > 0
    assert sleeps.waits
    assert min(sleeps.waits) >= 0.01
    assert max(sleeps.waits) >= 1.0
    assert any(r.status_code == 503 for _, r in checked.exchanges)


def test_the_sandbox_serves_over_http_with_basic_auth(sandbox: MailchimpSandbox) -> None:
    # GIVEN the sandbox on a real port
    with serve(sandbox) as server:
        settings = dataclasses.replace(sandbox.settings(transport=False), base_url=server.url)
        # WHEN a connector with no transport pulls from it
        with MailchimpConnector(settings) as connector:
            pages = list(connector.pull(None))
        # THEN it gets every member, authenticated by HTTP Basic with the key
        assert set(keys_of(pages)) == sandbox.record_keys()
        with httpx.Client() as raw:
            denied = raw.get(f"{server.url}/3.0/lists/{sandbox.list_id}/members")
        assert denied.status_code == 401
        assert denied.json()["title"] == "API Key Missing"


def test_the_official_sdk_reads_members_from_the_served_sandbox(sandbox: MailchimpSandbox) -> None:
    # pip install mailchimp-marketing (the official SDK, imported as mailchimp_marketing)
    sdk = pytest.importorskip("mailchimp_marketing")
    with serve(sandbox) as server:
        client = sdk.Client()
        client.set_config({"api_key": sandbox.token})
        client.api_client.host = f"{server.url}/3.0"
        body = client.lists.get_list_members_info(
            sandbox.list_id, count=5, fields=["members.contact_id", "total_items"]
        )
    assert body["total_items"] == len(sandbox.record_keys())
    assert len(body["members"]) == 5
    assert {f"member:{m['contact_id']}" for m in body["members"]} <= sandbox.record_keys()


def test_cursors_round_trip_and_foreign_cursors_are_refused() -> None:
    state = WalkState(T, ("a" * 16, "b" * 16), 2)
    assert WalkState.decode(state.encode()) == state
    with pytest.raises(ConnectorConfigError, match="full refresh"):
        WalkState.decode('{"after": "123"}')
