"""The standard WooCommerce Python client (``woocommerce.API``) against the served sandbox: the calls an
integration makes most, over plain HTTP, so every request is signed with OAuth 1.0a as the client does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from connectors._sandbox import serve
from connectors.woocommerce import WooCommerceSandbox

woocommerce = pytest.importorskip("woocommerce")


@pytest.fixture
def served() -> Iterator[tuple[WooCommerceSandbox, Any]]:
    sandbox = WooCommerceSandbox(people=150, seed=5, requests_per_10s=5000)
    key, secret = sandbox.token.split(":")
    with serve(sandbox) as server:
        yield (
            sandbox,
            woocommerce.API(
                url=server.url, consumer_key=key, consumer_secret=secret, version="wc/v3", timeout=10
            ),
        )


def test_list_customers_page_by_page_with_the_paging_headers(served: tuple[WooCommerceSandbox, Any]) -> None:
    sandbox, api = served
    first = api.get("customers", params={"per_page": 20, "page": 1, "orderby": "id", "order": "asc"})
    assert first.status_code == 200, first.text
    total, pages = int(first.headers["X-WP-Total"]), int(first.headers["X-WP-TotalPages"])
    assert total == len(sandbox.shop.customers)
    seen = [c["id"] for c in first.json()]
    for page in range(2, pages + 1):
        seen += [
            c["id"]
            for c in api.get(
                "customers", params={"per_page": 20, "page": page, "orderby": "id", "order": "asc"}
            ).json()
        ]
    assert seen == sorted(sandbox.shop.customers)
    assert 'rel="next"' in first.headers["Link"]


def test_list_orders_changed_since_a_date_in_gmt(served: tuple[WooCommerceSandbox, Any]) -> None:
    _, api = served
    response = api.get(
        "orders",
        params={
            "per_page": 100,
            "modified_after": "2026-06-01T00:00:00",
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
        },
    )
    assert response.status_code == 200, response.text
    got = response.json()
    assert got
    assert all(o["date_modified_gmt"] > "2026-06-01T00:00:00" for o in got)
    assert [o["date_modified_gmt"] for o in got] == sorted(o["date_modified_gmt"] for o in got)


def test_batch_update_customer_meta_data_and_read_it_back(served: tuple[WooCommerceSandbox, Any]) -> None:
    sandbox, api = served
    ids = sorted(sandbox.shop.customers)[:3]
    body = {
        "update": [{"id": i, "meta_data": [{"key": "profilesync_segment", "value": "vip"}]} for i in ids]
        + [{"id": 999999}]
    }
    response = api.post("customers/batch", body)
    assert response.status_code == 200, response.text
    results = response.json()["update"]
    assert [r["id"] for r in results] == [*ids, 999999]
    assert results[-1]["error"]["code"] == "woocommerce_rest_invalid_id"
    again = api.get(f"customers/{ids[0]}").json()
    assert {m["key"]: m["value"] for m in again["meta_data"]}["profilesync_segment"] == "vip"


def test_update_then_delete_a_customer(served: tuple[WooCommerceSandbox, Any]) -> None:
    sandbox, api = served
    customer = sorted(sandbox.shop.customers)[0]
    updated = api.put(f"customers/{customer}", {"first_name": "Renamed"})
    assert updated.json()["first_name"] == "Renamed"
    assert api.delete(f"customers/{customer}").status_code == 501  # customers cannot be trashed
    deleted = api.delete(f"customers/{customer}", params={"force": True})
    assert deleted.status_code == 200
    assert deleted.json()["id"] == customer
    assert api.get(f"customers/{customer}").status_code == 404


def test_order_notes_are_listed_added_and_deleted(served: tuple[WooCommerceSandbox, Any]) -> None:
    sandbox, api = served
    order = sorted(sandbox.shop.orders)[0]
    added = api.post(f"orders/{order}/notes", {"note": "Called the customer."})
    assert added.status_code == 201
    notes = api.get(f"orders/{order}/notes").json()
    assert notes[0]["note"] == "Called the customer."
    assert api.delete(f"orders/{order}/notes/{added.json()['id']}", params={"force": True}).status_code == 200


def test_a_wrong_secret_is_refused_by_the_oauth_signature(served: tuple[WooCommerceSandbox, Any]) -> None:
    _, api = served
    wrong = woocommerce.API(
        url=api.url, consumer_key=api.consumer_key, consumer_secret="cs_wrong", version="wc/v3"
    )
    response = wrong.get("customers")
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid signature - provided signature does not match."
