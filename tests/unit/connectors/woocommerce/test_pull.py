"""Pulling a WooCommerce store: what is asked of each endpoint, and the walks that break naive cursors
(customers changed or deleted behind the walk, timezones, a store whose customers cannot be filtered)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest

from connectors.sdk import Incremental, PullCursor, RestConnector
from connectors.woocommerce import DECLARATION, PLUGIN, WooCommerceConnector, WooCommerceSandbox
from core.connector import ConnectorSettings
from core.errors import ConnectorConfigError
from core.testing.clock import days_ago

from .conftest import FAST, connect

#: Noon three days ago: after the sandbox's seeded times (2026) and, with the seconds and hours the
#: tests add, still in the machine's past, whatever its date (a time ahead is read as the pull's start).
T = days_ago(3)


def _record(sandbox: WooCommerceSandbox) -> list[httpx.Request]:
    seen: list[httpx.Request] = []
    route = sandbox.route

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return route(request)

    sandbox.route = recording  # type: ignore[method-assign]
    return seen


def _between_customer_pages(sandbox: WooCommerceSandbox, change: Callable[[], None]) -> None:
    """Run ``change`` once, just before the second customers page of the next walk is served."""
    route = sandbox.route
    pages = 0

    def hooked(request: httpx.Request) -> httpx.Response:
        nonlocal pages
        if request.url.path.endswith("/customers"):
            pages += 1
            if pages == 2:
                change()
        return route(request)

    sandbox.route = hooked  # type: ignore[method-assign]


def _keys(connector: RestConnector, cursor: str | None) -> tuple[list[str], str | None]:
    pages = list(connector.pull(cursor))
    return [f"{d.object_type}:{d.source_id}" for p in pages for d in connector.to_records(p)], pages[
        -1
    ].cursor


def test_each_endpoint_is_asked_as_woocommerce_documents_it(
    sandbox: WooCommerceSandbox, woo: WooCommerceConnector
) -> None:
    # GIVEN a full pull, then an incremental one
    seen = _record(sandbox)
    _, cursor = _keys(woo, None)
    first = len(seen)
    _keys(woo, cursor)
    customers = [r.url.params for r in seen if r.url.path == "/wp-json/wc/v3/customers"]
    orders = [r.url.params for r in seen if r.url.path == "/wp-json/wc/v3/orders"]
    # THEN customers are walked by id, 100 a page by offset, every role (the connector keeps the
    # customers), and never with a date filter (WooCommerce has none there and would silently ignore one)
    assert all(p["orderby"] == "id" and p["order"] == "asc" and p["per_page"] == "100" for p in customers)
    assert all(p["role"] == "all" and "offset" in p and "modified_after" not in p for p in customers)
    # AND orders by modification time, GMT, from one second before the watermark on an incremental pull
    assert all(
        p["orderby"] == "modified" and p["order"] == "asc" and p["dates_are_gmt"] == "true" for p in orders
    )
    assert "modified_after" not in orders[0]
    state = PullCursor.decode(cursor, "woocommerce").state("orders")
    assert state.since is not None
    later = [
        p
        for r, p in zip(seen[first:], [r.url.params for r in seen[first:]], strict=True)
        if r.url.path.endswith("/orders")
    ]
    assert later[0]["modified_after"] == (state.since - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_customers_are_filtered_by_the_connector_because_the_store_ignores_a_date_filter(
    sandbox: WooCommerceSandbox, woo: WooCommerceConnector
) -> None:
    # GIVEN the store answers customers asked with modified_after by returning everyone
    client = httpx.Client(
        transport=sandbox.transport(),
        base_url="https://woo.sandbox.test",
        auth=tuple(sandbox.token.split(":")),
    )  # type: ignore[arg-type]
    everyone = client.get(
        "/wp-json/wc/v3/customers", params={"per_page": 100, "modified_after": "2099-01-01T00:00:00"}
    )
    assert int(everyone.headers["X-WP-Total"]) == len(
        [k for k in sandbox.record_keys() if k.startswith("customer:")]
    )
    # WHEN two customers change after a full pull
    _, cursor = _keys(woo, None)
    changed = set(sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))[:2])
    sandbox.touch(changed, at=T)
    # THEN the next pull returns exactly those two
    keys, _ = _keys(woo, cursor)
    assert sorted(keys) == sorted(changed)


def test_a_customer_changed_behind_the_walk_is_caught_by_the_next_walk(sandbox: WooCommerceSandbox) -> None:
    # GIVEN more than a page of customers, a full pull, and a customer far down the list changed at T+10s
    big = WooCommerceSandbox(people=300, seed=3, requests_per_10s=FAST)
    woo = connect(big)
    _, cursor = _keys(woo, None)
    ids = sorted(c["id"] for c in big.shop.customers.values())
    assert len(ids) > 100
    early, late = f"customer:{ids[0]}", f"customer:{ids[-1]}"
    big.touch({late}, at=T + timedelta(seconds=10))
    # WHEN the next walk starts at T+3s (the store's clock) and, once it has read the first page, the
    # first customer changes at T+5s: its change is older than the late one the walk reads next
    big.clock.set(T + timedelta(seconds=3))
    _between_customer_pages(big, lambda: big.touch({early}, at=T + timedelta(seconds=5)))
    keys, cursor = _keys(woo, cursor)
    assert late in keys
    # THEN the walk after it brings the early customer's change, though it is older than the watermark
    big.clock.set(T + timedelta(seconds=20))
    keys, _ = _keys(woo, cursor)
    assert early in keys
    woo.close()


def test_a_cursor_that_trusted_the_newest_time_read_would_have_missed_that_change() -> None:
    # GIVEN the same story with the customers stream declared as if it were in modification order
    big = WooCommerceSandbox(people=300, seed=3, requests_per_10s=FAST)
    streams = tuple(
        dataclasses.replace(s, incremental=dataclasses.replace(s.incremental, ordered=True))
        if s.incremental is not None and s.object_type == "customer"
        else s
        for s in DECLARATION.streams
    )
    naive = RestConnector(dataclasses.replace(DECLARATION, streams=streams), big.settings())
    woo = connect(big)
    _, cursor = _keys(woo, None)
    ids = sorted(c["id"] for c in big.shop.customers.values())
    early, late = f"customer:{ids[0]}", f"customer:{ids[-1]}"
    big.touch({late}, at=T + timedelta(seconds=10))
    big.clock.set(T + timedelta(seconds=3))
    _between_customer_pages(big, lambda: big.touch({early}, at=T + timedelta(seconds=5)))
    _, after = _keys(naive, cursor)
    big.clock.set(T + timedelta(seconds=20))
    keys, _ = _keys(naive, after)
    # THEN the early change is lost: the reason Incremental(ordered=False) exists
    assert early not in keys
    assert isinstance(DECLARATION.streams[0].incremental, Incremental)
    assert DECLARATION.streams[0].incremental.ordered is False
    naive.close()
    woo.close()


def test_customers_deleted_behind_a_full_walk_do_not_make_it_skip_anyone() -> None:
    # GIVEN a store with two pages of customers, three of the first page deleted once it has been read
    big = WooCommerceSandbox(people=300, seed=3, requests_per_10s=FAST)
    before = {k for k in big.record_keys() if k.startswith("customer:")}
    ids = sorted(c["id"] for c in big.shop.customers.values())

    def delete_three() -> None:
        for gone in ids[5:8]:
            del big.shop.customers[gone]

    _between_customer_pages(big, delete_three)
    woo = connect(big)
    # WHEN the walk goes on THEN every customer still there came back (plain pages skip three)
    keys, _ = _keys(woo, None)
    customers = [k for k in keys if k.startswith("customer:")]
    assert len(customers) == len(set(customers))
    assert set(customers) == before
    woo.close()


def test_an_order_modified_in_the_stores_afternoon_is_found_by_its_gmt_time() -> None:
    # GIVEN a store three hours behind GMT, pulled once, and an order modified at T (GMT)
    shop = WooCommerceSandbox(people=60, seed=7, requests_per_10s=FAST, utc_offset_hours=-3)
    woo = connect(shop)
    _, cursor = _keys(woo, None)
    key = sorted(k for k in shop.record_keys() if k.startswith("order:"))[0]
    shop.touch({key}, at=T)
    # WHEN pulling from a cursor an hour before T (an order's local time would be three hours before)
    state = PullCursor.decode(cursor, "woocommerce")
    early = {
        **state.streams,
        "orders": dataclasses.replace(state.state("orders"), since=T - timedelta(hours=1), skip=()),
    }
    keys, _ = _keys(woo, PullCursor(early).encode())
    # THEN it comes back: the bound and the column are both GMT (dates_are_gmt=true)
    assert key in keys
    woo.close()


def test_the_store_url_option_or_a_base_url_is_required_and_says_so() -> None:
    sandbox = WooCommerceSandbox(people=5)
    settings = sandbox.settings()
    with pytest.raises(ConnectorConfigError, match="store_url"):
        PLUGIN.build(dataclasses.replace(settings, options={}))
    connector = PLUGIN.build(dataclasses.replace(settings, options={}, base_url="https://shop.example.com"))
    assert connector.spec.name == "woocommerce"
    connector.close()


@pytest.mark.parametrize("rate", ["0", "fast", "-3"])
def test_a_request_budget_that_is_not_a_positive_number_is_refused(rate: str) -> None:
    settings: ConnectorSettings = WooCommerceSandbox(people=5).settings()
    with pytest.raises(ConnectorConfigError, match="requests_per_10s"):
        WooCommerceConnector(
            dataclasses.replace(settings, options={**settings.options, "requests_per_10s": rate})
        )


def test_an_erase_orders_option_other_than_anonymise_or_retain_is_refused() -> None:
    settings = WooCommerceSandbox(people=5).settings()
    wrong = dataclasses.replace(settings, options={**settings.options, "erase_orders": "delete"})
    with pytest.raises(ConnectorConfigError, match="anonymise or retain"):
        WooCommerceConnector(wrong)


def test_the_customer_role_option_chooses_which_users_are_pulled(sandbox: WooCommerceSandbox) -> None:
    admin = sandbox.shop.add_customer("owner@shop.example", {}, created=T, modified=T, role="administrator")
    seen = _record(sandbox)
    with connect(sandbox, customer_role="all") as woo:
        keys, _ = _keys(woo, None)
    assert {r.url.params["role"] for r in seen if r.url.path.endswith("/customers")} == {"all"}
    assert f"customer:{admin['id']}" in keys
