"""Pulling customers and orders: page sizes, incremental ties, resuming, bulk operations, the paging
limit, cost-based pacing, throttling and faults, and configuration errors."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors._http import ConnectorAuthError, PaginationError
from connectors._sandbox import Faults
from connectors.shopify import (
    DocumentCostLimiter,
    ShopifyConnector,
    ShopifyGraphQLError,
    ShopifySandbox,
    make_sandbox,
    parse_bulk_jsonl,
)
from connectors.shopify import _documents as docs
from core.connector import ConnectorSettings, RawPage
from core.errors import ConnectorConfigError
from core.testing.clock import days_ago

from .conftest import FakeClock, SchemaCheckedTransport, connect, fast_retry

#: Noon three days ago: after the sandbox's seeded times (2026) and, with the hours and the day the
#: tests add, still in the machine's past, whatever its date (a time ahead is read as the pull's start).
T = days_ago(3)
STAMP = f"{T:%Y-%m-%dT%H:%M:%SZ}"


def keys(pages: list[RawPage]) -> list[str]:
    return [f"{p.object_type}:{r['id'].rsplit('/', 1)[-1]}" for p in pages for r in p.records]


def pull(connector: ShopifyConnector, cursor: str | None) -> tuple[list[RawPage], str]:
    pages = list(connector.pull(cursor))
    assert pages
    assert pages[-1].cursor is not None
    return pages, pages[-1].cursor


def test_a_full_pull_asks_for_the_largest_pages_and_returns_every_record_once(
    sandbox: ShopifySandbox, connector: ShopifyConnector, transport: SchemaCheckedTransport
) -> None:
    # GIVEN a shop with more than two pages of customers and orders
    sandbox.add_records(600, at=T)
    # WHEN the connector pulls everything
    pages, _ = pull(connector, None)
    # THEN every object comes back once, customers first, then orders
    got = keys(pages)
    assert Counter(got).most_common(1)[0][1] == 1
    assert set(got) == sandbox.record_keys()
    assert [p.object_type for p in pages] == sorted(
        (p.object_type for p in pages), key=["customer", "order"].index
    )
    # AND it counted once to choose paging, then asked for the largest pages the cost limit allows
    assert transport.operations()[0] == "ProfilesyncCounts"
    firsts = {(e.query.split("(")[0].split()[-1], e.variables.get("first")) for e in transport.exchanges}
    assert ("ProfilesyncCustomers", 249) in firsts
    assert ("ProfilesyncOrders", 99) in firsts
    assert all(e.variables.get("query") is None for e in transport.exchanges[1:])
    assert transport.validated_results == len(transport.exchanges)


def test_an_incremental_pull_returns_exactly_the_changes_with_ties_across_page_boundaries(
    sandbox: ShopifySandbox, connector: ShopifyConnector, transport: SchemaCheckedTransport
) -> None:
    # GIVEN a full pull and its cursor
    _, cursor = pull(connector, None)
    # WHEN 300 people (more than a page of customers and of orders) arrive in one second, a few records
    # change in that same second, and the connector pulls from the cursor
    added = sandbox.add_records(300, at=T)
    touched = set(sorted(sandbox.record_keys() - added)[::10])
    sandbox.touch(touched, at=T)
    pages, cursor = pull(connector, cursor)
    # THEN exactly those records come back, each once, through an inclusive quoted filter
    assert sorted(keys(pages)) == sorted(added | touched)
    assert {e.variables["query"] for e in transport.exchanges[-4:]} <= {
        "updated_at:>='2026-01-01T00:00:00Z'",
        *(f"updated_at:>='{s}'" for s in _watermarks(transport)),
    }
    # AND records landing later on that very second come back, the ones already pulled do not
    late = sandbox.add_records(3, at=T)
    pages, cursor = pull(connector, cursor)
    assert sorted(keys(pages)) == sorted(late)
    assert any(e.variables.get("query") == f"updated_at:>='{STAMP}'" for e in transport.exchanges)
    # AND with nothing new, one empty page hands the cursor back
    pages, again = pull(connector, cursor)
    assert [len(p.records) for p in pages] == [0]
    assert json.loads(again)["customers"]["since"] == STAMP


def _watermarks(transport: SchemaCheckedTransport) -> set[str]:
    return {str(e.variables["query"]).split("'")[1] for e in transport.exchanges if e.variables.get("query")}


def test_a_pull_resumed_after_any_page_loses_and_repeats_nothing(
    sandbox: ShopifySandbox, connector: ShopifyConnector
) -> None:
    # GIVEN a full pull of several pages of both streams, half the new records on one second
    sandbox.add_records(300, at=T)
    sandbox.add_records(300, at=T + timedelta(seconds=1))
    pages, _ = pull(connector, None)
    everything = sandbox.record_keys()
    assert len([p for p in pages if p.records]) >= 6
    # WHEN the pull stops after page k and resumes from that page's cursor
    for k in range(len(pages) - 1):
        before = keys(pages[: k + 1])
        rest, _ = pull(connector, pages[k].cursor)
        # THEN the two parts hold every record exactly once
        assert sorted(before + keys(rest)) == sorted(everything), f"resuming after page {k + 1}"


def test_a_large_first_pull_runs_bulk_operations_and_resumes_inside_them(
    sandbox: ShopifySandbox, transport: SchemaCheckedTransport, waits: list[float]
) -> None:
    # GIVEN a shop whose customers and orders are at or above the bulk threshold, its clock at T
    sandbox.clock.set(T)
    sandbox.add_records(300, at=T)
    connector = connect(sandbox, transport, waits, bulk_threshold="100")
    # WHEN the connector pulls everything
    pages, cursor = pull(connector, None)
    # THEN it exported both streams with bulk operations (polled, then downloaded), not by paging
    operations = transport.operations()
    assert operations.count("ProfilesyncBulkRun") == 2
    assert "ProfilesyncCustomers" not in operations
    assert "ProfilesyncOrders" not in operations
    assert sorted(keys(pages)) == sorted(sandbox.record_keys())
    assert waits, "the connector waits between status polls"
    # AND a pull cut short inside an export resumes it, without starting another: the customers'
    # export read again from its first line, once (so that run lists every customer: a full
    # refresh sweeps, tests/unit/connectors/shopify/test_left28_bulk_reread.py), the orders' after
    middle = next(i for i, p in enumerate(pages) if p.object_type == "customer" and p.records)
    started = operations.count("ProfilesyncBulkRun")
    rest, _ = pull(connector, pages[middle].cursor)
    assert sorted(keys(rest)) == sorted(sandbox.record_keys())
    assert transport.operations().count("ProfilesyncBulkRun") == started + 1  # only the orders export
    # AND the next run pages incrementally from the moment the exports started
    changed = sandbox.add_records(2, at=T + timedelta(hours=1))
    pages, _ = pull(connector, cursor)
    assert sorted(keys(pages)) == sorted(changed)


def test_changes_made_while_a_bulk_operation_runs_are_pulled_next_time_exactly_once(
    sandbox: ShopifySandbox, transport: SchemaCheckedTransport, waits: list[float]
) -> None:
    # GIVEN a frozen shop clock, so the export and the changes share its start second
    sandbox.clock.set(T)
    connector = connect(sandbox, transport, waits, bulk_threshold="1")
    pages = []
    # WHEN records change on the export's own second, right after it was started
    for page in connector.pull(None):
        if not pages:
            assert page.records == []  # the first page only carries the new operation's id
            during = sandbox.add_records(2, at=T)
        pages.append(page)
    # THEN the customers export, already running, did not have them (the orders export, started later, did)
    new_customers = {k for k in during if k.startswith("customer:")}
    assert not set(keys(pages)) & new_customers
    # AND the next incremental pull returns just what the exports missed: nothing lost, nothing twice
    rest, _ = pull(connector, pages[-1].cursor)
    assert sorted(keys(rest)) == sorted(new_customers)
    assert sorted(keys(pages) + keys(rest)) == sorted(sandbox.record_keys())


def test_bulk_results_put_nested_connection_lines_under_their_parent() -> None:
    content = b"\n".join(
        [
            b'{"id":"gid://shopify/Customer/1","firstName":"Ann"}',
            b'{"id":"gid://shopify/Order/10","__parentId":"gid://shopify/Customer/1"}',
            b'{"id":"gid://shopify/Customer/2","firstName":"Bob"}',
            b'{"id":"gid://shopify/Order/11","__parentId":"gid://shopify/Customer/1"}',
            b"",
        ]
    )
    roots = parse_bulk_jsonl(content)
    assert [r["id"] for r in roots] == ["gid://shopify/Customer/1", "gid://shopify/Customer/2"]
    assert [c["id"] for c in roots[0]["__children"]] == ["gid://shopify/Order/10", "gid://shopify/Order/11"]


def test_paging_restarts_its_walk_before_the_pagination_limit(
    transport: SchemaCheckedTransport, schema: Any, waits: list[float]
) -> None:
    # GIVEN a shop that stops cursor paging after 300 objects (Shopify: 25,000), holding far more
    sandbox = make_sandbox(people=20, rate_scale=1000.0, page_cap=300)
    for second in range(4):
        sandbox.add_records(150, at=T + timedelta(seconds=second))
    checked = SchemaCheckedTransport(sandbox, schema)
    # WHEN a connector that knows the limit pulls everything
    connector = connect(sandbox, checked, waits, walk_limit="300")
    pages, _ = pull(connector, None)
    # THEN it started new walks from its newest timestamp and got every record once
    assert sorted(keys(pages)) == sorted(sandbox.record_keys())
    assert len({e.variables.get("query") for e in checked.exchanges}) > 3
    # AND one that pages on past the limit gets Shopify's error
    blind = connect(sandbox, SchemaCheckedTransport(sandbox, schema), waits)
    with pytest.raises(ShopifyGraphQLError, match="Pagination is limited to 300"):
        list(blind.pull(None))


def test_more_records_on_one_second_than_a_walk_may_cover_is_a_clear_error(
    schema: Any, waits: list[float]
) -> None:
    sandbox = make_sandbox(people=1, rate_scale=1000.0, page_cap=300)
    sandbox.add_records(350, at=T)
    connector = connect(sandbox, SchemaCheckedTransport(sandbox, schema), waits, walk_limit="300")
    with pytest.raises(PaginationError, match=f"share updated_at {STAMP}"):
        list(connector.pull(None))


def test_the_client_paces_itself_to_the_cost_bucket_and_is_never_throttled(schema: Any) -> None:
    # GIVEN the Standard plan (2,000 points, 100/s) on a clock the sandbox and the limiter share
    clock = FakeClock()
    sandbox = make_sandbox(people=400, bucket_clock=clock)
    checked = SchemaCheckedTransport(sandbox, schema)
    limiter = DocumentCostLimiter(maximum_available=2000, restore_rate=100, clock=clock, sleep=clock.sleep)
    settings = dataclasses.replace(sandbox.settings(transport=False), transport=checked, retry=fast_retry([]))
    connector = ShopifyConnector(settings, limiter=limiter)
    # WHEN it pulls more than the bucket holds, twice over
    list(connector.pull(None))
    list(connector.pull(None))
    # THEN no request was throttled, and it took no longer than the bucket allows (within 2%)
    assert sandbox.stats.limit_throttled == 0
    least = sandbox.least_seconds()
    assert least > 5
    assert least <= clock.now <= least * 1.02 + 0.5
    # AND every answer carried the shop's cost and bucket, as Shopify's do
    costs = [e.body["extensions"]["cost"] for e in checked.exchanges]
    assert {c["throttleStatus"]["maximumAvailable"] for c in costs} == {2000.0}
    assert {c["throttleStatus"]["restoreRate"] for c in costs} == {100.0}
    assert all(c["actualQueryCost"] <= c["requestedQueryCost"] for c in costs)


def test_a_throttled_answer_is_waited_out_and_retried(schema: Any) -> None:
    # GIVEN a shop whose bucket another app drains just before the connector's second request
    clock = FakeClock()
    sandbox = make_sandbox(people=200, bucket_clock=clock)
    checked = SchemaCheckedTransport(sandbox, schema)

    class Drain(httpx.BaseTransport):
        sent = 0

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            Drain.sent += 1
            if Drain.sent == 2:
                sandbox.bucket.take(sandbox.bucket.status()["currentlyAvailable"] - 50)
            return checked.handle_request(request)

    limiter = DocumentCostLimiter(maximum_available=2000, restore_rate=100, clock=clock, sleep=clock.sleep)
    settings = dataclasses.replace(
        sandbox.settings(transport=False), transport=Drain(), retry=fast_retry(clock.slept)
    )
    connector = ShopifyConnector(settings, limiter=limiter)
    # WHEN it pulls
    pages = list(connector.pull(None))
    # THEN Shopify's THROTTLED answer (HTTP 200, errors[].extensions.code) was retried after a wait
    throttled = [e for e in checked.exchanges if e.body.get("errors")]
    assert len(throttled) == 1
    assert throttled[0].status == 200
    assert throttled[0].body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert throttled[0].body["extensions"]["cost"]["actualQueryCost"] is None
    assert sandbox.stats.limit_throttled == 1
    assert sorted(keys(pages)) == sorted(sandbox.record_keys())


def test_injected_faults_are_retried_to_completion(schema: Any, waits: list[float]) -> None:
    # GIVEN a shop that throttles (429 with Retry-After), fails, times out and truncates bodies
    faults = Faults(throttle=0.15, server_error=0.1, truncate=0.05, timeout=0.05, retry_after="1", seed=4)
    sandbox = make_sandbox(people=40, rate_scale=1000.0, faults=faults)
    sandbox.add_records(800, at=T)
    connector = connect(sandbox, SchemaCheckedTransport(sandbox, schema), waits)
    # WHEN it pulls everything
    pages, _ = pull(connector, None)
    # THEN every record arrives once, and the 429s were waited out for their Retry-After
    assert sorted(keys(pages)) == sorted(sandbox.record_keys())
    assert sandbox.stats.throttled > 0
    assert max(waits) >= 1.0
    assert min(waits) >= 0.01


def test_a_wrong_token_fails_at_once_naming_the_variable_and_never_the_token(
    sandbox: ShopifySandbox, transport: SchemaCheckedTransport, waits: list[float]
) -> None:
    settings = dataclasses.replace(
        sandbox.settings(transport=False),
        transport=transport,
        retry=fast_retry(waits),
        credentials={"shopify_access_token": "shpat_wrong_0000000000000000"},
    )
    with ShopifyConnector(settings) as connector, pytest.raises(ConnectorAuthError) as caught:
        list(connector.pull(None))
    message = str(caught.value)
    assert "PROFILESYNC_SHOPIFY_ACCESS_TOKEN" in message
    assert "Invalid API key or access token" in message
    assert "shpat_wrong" not in message
    assert sandbox.token not in message
    assert sandbox.stats.requests == 1
    assert transport.exchanges[0].body == {
        "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
    }


def test_a_missing_scope_is_an_auth_error_not_a_retry(sandbox: ShopifySandbox, waits: list[float]) -> None:
    # GIVEN Shopify's answer to a token without read_customers: HTTP 200 and ACCESS_DENIED
    def denied(request: httpx.Request) -> httpx.Response:
        error = {
            "message": "Access denied for customers field. Required access: `read_customers` access scope.",
            "locations": [{"line": 2, "column": 3}],
            "extensions": {
                "code": "ACCESS_DENIED",
                "documentation": "https://shopify.dev/api/usage/access-scopes",
            },
        }
        return httpx.Response(200, json={"errors": [error]})

    connector = connect(sandbox, httpx.MockTransport(denied), waits)
    with pytest.raises(ConnectorAuthError, match="scopes") as caught:
        list(connector.pull(None))
    assert "read_customers" in str(caught.value)
    assert waits == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "option 'shop' must name the store"),
        ({"shop": "not a shop!"}, "option 'shop' must name the store"),
        ({"shop": "acme", "bulk_threshold": "lots"}, "bulk_threshold must be a whole number of at least 1"),
        ({"shop": "acme", "namespace": "x"}, "'namespace' must be 3 to 255"),
        ({"shop": "acme", "page_size": "0"}, "page_size must be a whole number from 1 to 249"),
        ({"shop": "acme", "page_size": "250"}, "page_size must be a whole number from 1 to 249"),
        ({"shop": "acme", "shopp": "acme"}, "unknown option(s) shopp"),
    ],
)
def test_bad_options_fail_with_what_to_set(options: dict[str, str], message: str) -> None:
    settings = ConnectorSettings(credentials={"shopify_access_token": "shpat_x"}, options=options)
    with pytest.raises(ConnectorConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ShopifyConnector(settings)


@pytest.mark.parametrize("shop", ["acme", "ACME.myshopify.com", "https://acme.myshopify.com/"])
def test_the_shop_may_be_given_as_a_handle_or_a_domain(shop: str) -> None:
    settings = ConnectorSettings(credentials={"shopify_access_token": "shpat_x"}, options={"shop": shop})
    with ShopifyConnector(settings) as connector:
        assert connector.base_url == "https://acme.myshopify.com"


def test_a_missing_token_names_the_environment_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PROFILESYNC_SHOPIFY_ACCESS_TOKEN", raising=False)
    monkeypatch.delenv("PROFILESYNC_SECRETS_FILE", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("PROFILESYNC_SECRETS_PREFIX", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(ConnectorConfigError, match="PROFILESYNC_SHOPIFY_ACCESS_TOKEN"):
        ShopifyConnector(ConnectorSettings(options={"shop": "acme"}))


def test_a_cursor_from_elsewhere_is_refused_with_what_to_do(connector: ShopifyConnector) -> None:
    with pytest.raises(ConnectorConfigError, match="cursor=None"):
        list(connector.pull('{"after": "abc"}'))


def test_page_cursors_are_json_holding_both_streams(connector: ShopifyConnector) -> None:
    _pages, cursor = pull(connector, None)
    state = json.loads(cursor)
    assert set(state) == {"v", "phase", "customers", "orders"}
    assert state["phase"] == 2
    assert docs.API_VERSION == "2026-01"


def test_a_pull_can_start_from_a_date(sandbox: ShopifySandbox, connector: ShopifyConnector) -> None:
    # GIVEN records changed on and after a date, and a cursor made from that date (sync --since)
    on_the_day = sandbox.add_records(2, at=T)
    later = sandbox.add_records(1, at=T + timedelta(days=1))
    cursor = connector.cursor_since(T.replace(tzinfo=None))
    # WHEN the connector pulls from it
    pages, _ = pull(connector, cursor)
    # THEN exactly what changed from that moment on comes back, the bound included
    assert sorted(keys(pages)) == sorted(on_the_day | later)


def test_records_from_before_the_bound_are_not_delivered_again(
    sandbox: ShopifySandbox, waits: list[float]
) -> None:
    # GIVEN a shop whose updated_at filter matches the whole day (as Shopify documents for customers)
    def whole_day(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        morning, after_noon = T - timedelta(hours=4), T + timedelta(minutes=30)
        node = {"id": "gid://shopify/Customer/1", "updatedAt": f"{morning:%Y-%m-%dT%H:%M:%SZ}"}
        newer = {"id": "gid://shopify/Customer/2", "updatedAt": f"{after_noon:%Y-%m-%dT%H:%M:%SZ}"}
        root = "customers" if "customers(" in body["query"] else "orders"
        nodes = [node, newer] if root == "customers" else []
        data = {root: {"nodes": nodes, "pageInfo": {"hasNextPage": False, "endCursor": None}}}
        return httpx.Response(200, json={"data": data})

    connector = connect(sandbox, httpx.MockTransport(whole_day), waits)
    # WHEN an incremental pull from noon runs
    pages, _ = pull(connector, connector.cursor_since(T))
    # THEN the morning's record, delivered by an earlier run, is left out
    assert keys(pages) == ["customer:2"]
