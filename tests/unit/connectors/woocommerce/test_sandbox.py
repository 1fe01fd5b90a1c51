"""The sandbox answers like a WooCommerce store: auth outcomes, WordPress REST errors and parameter
checks, paging headers, date filters and their timezone quirk, batch limits, throttling, and objects
with exactly the fields the REST API reference lists."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from connectors.woocommerce import STORE_URL, WooCommerceSandbox
from connectors.woocommerce._sandbox_auth import oauth_signature, signature_base

API = f"{STORE_URL}/wp-json/wc/v3"

#: Fields of a customer and an order, as the REST API reference (wp-api-v3) lists them.
CUSTOMER_FIELDS = {
    "id", "date_created", "date_created_gmt", "date_modified", "date_modified_gmt", "email", "first_name",
    "last_name", "role", "username", "billing", "shipping", "is_paying_customer", "avatar_url", "meta_data",
    "_links",
}  # fmt: skip
ORDER_FIELDS = {
    "id", "parent_id", "number", "order_key", "created_via", "version", "status", "currency",
    "date_created", "date_created_gmt", "date_modified", "date_modified_gmt", "discount_total",
    "discount_tax", "shipping_total", "shipping_tax", "cart_tax", "total", "total_tax",
    "prices_include_tax", "customer_id", "customer_ip_address", "customer_user_agent", "customer_note",
    "billing", "shipping", "payment_method", "payment_method_title", "transaction_id", "date_paid",
    "date_paid_gmt", "date_completed", "date_completed_gmt", "cart_hash", "meta_data", "line_items",
    "tax_lines", "shipping_lines", "fee_lines", "coupon_lines", "refunds", "payment_url", "is_editable",
    "needs_payment", "needs_processing", "currency_symbol", "_links",
}  # fmt: skip
BILLING = {
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "email",
    "phone",
}


def _client(sandbox: WooCommerceSandbox, *, auth: Any = "good") -> httpx.Client:
    key, secret = sandbox.token.split(":")
    chosen = (key, secret) if auth == "good" else auth
    return httpx.Client(transport=sandbox.transport(), base_url=API, auth=chosen)


def test_objects_have_the_fields_the_reference_lists(sandbox: WooCommerceSandbox) -> None:
    client = _client(sandbox)
    customer = client.get("/customers", params={"per_page": 1}).json()[0]
    order = client.get("/orders", params={"per_page": 1}).json()[0]
    assert set(customer) == CUSTOMER_FIELDS
    assert set(order) == ORDER_FIELDS
    assert set(customer["billing"]) == BILLING
    assert set(order["billing"]) == BILLING
    assert set(customer["shipping"]) == BILLING - {"email"}
    # dates without an offset, the local ones three hours behind GMT
    local, gmt = (datetime.fromisoformat(order[k]) for k in ("date_created", "date_created_gmt"))
    assert gmt - local == timedelta(hours=3)
    assert isinstance(order["total"], str)
    assert order["total"].count(".") == 1


def test_paging_headers_count_the_collection_and_link_the_next_page(sandbox: WooCommerceSandbox) -> None:
    client = _client(sandbox)
    total = len(sandbox.shop.orders)
    first = client.get("/orders", params={"per_page": 10, "page": 1})
    last = client.get("/orders", params={"per_page": 10, "page": -(-total // 10)})
    assert first.headers["X-WP-Total"] == str(total)
    assert first.headers["X-WP-TotalPages"] == str(-(-total // 10))
    assert 'rel="next"' in first.headers["Link"]
    assert "page=2" in first.headers["Link"]
    assert 'rel="next"' not in last.headers["Link"]
    assert 'rel="prev"' in last.headers["Link"]
    assert client.get("/orders", params={"per_page": 10, "page": 999}).json() == []
    assert parsedate_to_datetime(first.headers["Date"]).tzinfo is not None


@pytest.mark.parametrize(
    ("params", "name", "code"),
    [
        ({"per_page": 0}, "per_page", "rest_out_of_bounds"),
        ({"per_page": 101}, "per_page", "rest_out_of_bounds"),
        ({"per_page": "ten"}, "per_page", "rest_invalid_type"),
        ({"page": 0}, "page", "rest_out_of_bounds"),
        ({"orderby": "modified"}, "orderby", "rest_not_in_enum"),
        ({"role": "wizard"}, "role", "rest_not_in_enum"),
        ({"email": "not-an-email"}, "email", "rest_invalid_email"),
    ],
)
def test_bad_customer_parameters_get_wordpress_validation_errors(
    sandbox: WooCommerceSandbox, params: dict[str, Any], name: str, code: str
) -> None:
    response = _client(sandbox).get("/customers", params=params)
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "rest_invalid_param"
    assert body["message"] == f"Invalid parameter(s): {name}"
    assert body["data"]["status"] == 400
    assert body["data"]["details"][name]["code"] == code
    assert body["data"]["params"][name]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"modified_after": "yesterday"}, "modified_after"),
        ({"dates_are_gmt": "maybe"}, "dates_are_gmt"),
        ({"status": "lost"}, "status"),
    ],
)
def test_bad_order_parameters_are_refused(
    sandbox: WooCommerceSandbox, params: dict[str, str], name: str
) -> None:
    response = _client(sandbox).get("/orders", params=params)
    assert response.status_code == 400
    assert response.json()["data"]["params"].keys() == {name}


def test_modified_after_is_strict_and_compares_local_time_unless_dates_are_gmt(
    sandbox: WooCommerceSandbox,
) -> None:
    client = _client(sandbox)
    order = next(iter(sandbox.shop.orders.values()))
    at = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)
    order["date_modified"] = at
    for other in sandbox.shop.orders.values():
        if other is not order:
            other["date_modified"] = min(other["date_modified"], at - timedelta(days=1))

    def ids(**params: str) -> list[int]:
        return [o["id"] for o in client.get("/orders", params={"per_page": 100, **params}).json()]

    gmt = {"dates_are_gmt": "true"}
    assert ids(modified_after="2026-11-20T11:59:59", **gmt) == [order["id"]]
    assert ids(modified_after="2026-11-20T12:00:00", **gmt) == []  # strictly after
    assert ids(modified_after="2026-11-20T11:59:59Z", **gmt) == [order["id"]]
    # without dates_are_gmt the bound meets the shop's local time (three hours behind)
    assert ids(modified_after="2026-11-20T11:59:59") == []
    assert ids(modified_after="2026-11-20T08:59:59") == [order["id"]]


def test_customers_have_no_date_filter_and_ignore_one(sandbox: WooCommerceSandbox) -> None:
    client = _client(sandbox)
    everyone = client.get("/customers", params={"per_page": 100})
    filtered = client.get("/customers", params={"per_page": 100, "modified_after": "2099-01-01T00:00:00"})
    assert everyone.json() == filtered.json()
    ordered = client.get("/customers", params={"per_page": 100, "orderby": "id"}).json()
    assert [c["id"] for c in ordered] == sorted(c["id"] for c in ordered)


def test_a_wrong_secret_is_refused_with_the_basic_challenge(sandbox: WooCommerceSandbox) -> None:
    key, _ = sandbox.token.split(":")
    response = _client(sandbox, auth=(key, "cs_wrong")).get("/customers")
    assert response.status_code == 401
    assert response.json() == {
        "code": "woocommerce_rest_authentication_error",
        "message": "Consumer secret is invalid.",
        "data": {"status": 401},
    }
    assert response.headers["WWW-Authenticate"].startswith('Basic realm="WooCommerce API.')


@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/customers", "woocommerce_rest_cannot_view"),
        ("GET", "/orders/100", "woocommerce_rest_cannot_view"),
        ("POST", "/customers/batch", "woocommerce_rest_cannot_batch"),
        ("DELETE", "/customers/2", "woocommerce_rest_cannot_delete"),
        ("PUT", "/orders/100", "woocommerce_rest_cannot_edit"),
        ("POST", "/customers", "woocommerce_rest_cannot_create"),
    ],
)
def test_an_unknown_key_is_anonymous_and_each_route_refuses_it_its_own_way(
    sandbox: WooCommerceSandbox, method: str, path: str, code: str
) -> None:
    response = _client(sandbox, auth=("ck_unknown", "cs_unknown")).request(method, path, json={})
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert "WWW-Authenticate" not in response.headers


def test_keys_in_the_query_string_work_as_over_https(sandbox: WooCommerceSandbox) -> None:
    key, secret = sandbox.token.split(":")
    client = httpx.Client(transport=sandbox.transport(), base_url=API)
    assert (
        client.get("/customers", params={"consumer_key": key, "consumer_secret": secret}).status_code == 200
    )


def test_a_read_only_key_cannot_write(sandbox: WooCommerceSandbox) -> None:
    read_only = WooCommerceSandbox(people=10, permissions="read")
    response = _client(read_only).post("/customers/batch", json={"update": []})
    assert response.status_code == 401
    assert response.json()["message"] == "The API key provided does not have write permissions."


def _oauth_get(
    sandbox: WooCommerceSandbox, *, stamp: int, nonce: str, secret: str | None = None
) -> httpx.Response:
    key, real = sandbox.token.split(":")
    url = "http://127.0.0.1:8080/wp-json/wc/v3/customers"
    params = {
        "per_page": "5",
        "oauth_consumer_key": key,
        "oauth_timestamp": str(stamp),
        "oauth_nonce": nonce,
        "oauth_signature_method": "HMAC-SHA256",
    }
    params["oauth_signature"] = oauth_signature(
        secret or real, signature_base("GET", url, params), "HMAC-SHA256"
    )
    return sandbox.handle(httpx.Request("GET", f"{url}?{urlencode(params)}"))


def test_oauth_one_legged_signatures_are_checked_like_woocommerce(sandbox: WooCommerceSandbox) -> None:
    now = int(time.time())
    assert _oauth_get(sandbox, stamp=now, nonce="n1").status_code == 200
    replayed = _oauth_get(sandbox, stamp=now, nonce="n1")
    assert replayed.json()["message"] == "Invalid nonce - nonce has already been used."
    forged = _oauth_get(sandbox, stamp=now, nonce="n2", secret="cs_guess")
    assert forged.json()["message"] == "Invalid signature - provided signature does not match."
    stale = _oauth_get(sandbox, stamp=now - 3600, nonce="n3")
    assert stale.json()["message"] == "Invalid timestamp."
    partial = sandbox.handle(httpx.Request("GET", f"{API}/customers?oauth_consumer_key=ck_x"))
    assert partial.json()["code"] == "woocommerce_rest_authentication_missing_parameter"


def test_a_batch_over_100_items_is_refused_whole(sandbox: WooCommerceSandbox) -> None:
    response = _client(sandbox).post(
        "/customers/batch", json={"update": [{"id": 2}] * 60, "delete": [3] * 41}
    )
    assert response.status_code == 413
    assert response.json()["code"] == "woocommerce_rest_request_entity_too_large"
    assert response.json()["message"] == "Unable to accept more than 100 items for this request."


def test_customers_cannot_be_trashed_and_unknown_routes_are_rest_no_route(
    sandbox: WooCommerceSandbox,
) -> None:
    client = _client(sandbox)
    customer = sorted(sandbox.shop.customers)[0]
    refused = client.delete(f"/customers/{customer}")
    assert (refused.status_code, refused.json()["code"]) == (501, "woocommerce_rest_trash_not_supported")
    assert client.delete(f"/customers/{customer}", params={"force": "true"}).status_code == 200
    assert client.get(f"/customers/{customer}").json()["code"] == "woocommerce_rest_invalid_id"
    assert client.get("/subscriptions").json()["code"] == "rest_no_route"


def test_the_host_throttles_past_25_requests_in_10_seconds_with_retry_after() -> None:
    shop = WooCommerceSandbox(people=5)
    client = _client(shop)
    answers = [client.get("/orders", params={"per_page": 1}) for _ in range(26)]
    assert [a.status_code for a in answers[:25]] == [200] * 25
    throttled = answers[25]
    assert throttled.status_code == 429
    assert 1 <= int(throttled.headers["Retry-After"]) <= 10
    assert (
        throttled.json()["code"] == "rest_limit_exceeded" or throttled.json()["code"] == "rate_limit_exceeded"
    )
    assert shop.stats.limit_throttled == 1


def test_basic_auth_header_is_what_the_connector_sends(sandbox: WooCommerceSandbox) -> None:
    key, secret = sandbox.token.split(":")
    header = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
    response = sandbox.handle(httpx.Request("GET", f"{API}/orders", headers={"Authorization": header}))
    assert response.status_code == 200
