"""Push to WooCommerce: customer meta data upserted in batches of 100, per-item failures, and nobody
pushed to who has no account (a guest's orders cannot hold meta data)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import httpx

from connectors.woocommerce import WooCommerceConnector, WooCommerceSandbox
from core.schema import ComputedTraits, Identifier, Profile, SourceRef
from core.storage.memory import InMemorySyncStateStore
from core.sync import push_profiles

from .conftest import connect

T = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _profile(n: int, *refs: tuple[str, str]) -> Profile:
    return Profile(
        customer_id=f"cus_{n:05d}",
        identifiers=(Identifier(kind="email", value=f"p{n}@example.com"),),
        sources=tuple(SourceRef(source="woocommerce", object_type=t, id=i, updated_at=T) for t, i in refs),
        computed=ComputedTraits(
            lifetime_value={"EUR": Decimal("10.50") + n}, order_count=1, segment="customer"
        ),
    )


def _batches(sandbox: WooCommerceSandbox) -> list[dict[str, object]]:
    seen: list[dict[str, object]] = []
    route = sandbox.route

    def recording(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/customers/batch"):
            seen.append(json.loads(request.content))
        return route(request)

    sandbox.route = recording  # type: ignore[method-assign]
    return seen


def test_250_customers_go_in_three_batch_requests_and_again_in_none(
    sandbox: WooCommerceSandbox, woo: WooCommerceConnector
) -> None:
    # GIVEN 250 accounts in the store and a profile for each
    sandbox.add_records(250 - len(sandbox.shop.customers))
    ids = sorted(sandbox.shop.customers)[:250]
    profiles = [_profile(n, ("customer", str(i))) for n, i in enumerate(ids)]
    batches = _batches(sandbox)
    state = InMemorySyncStateStore()
    # WHEN they are pushed, twice
    first = push_profiles(woo, profiles, state)
    second = push_profiles(woo, profiles, state)
    # THEN three requests of at most 100 updates carried the meta data, and the second push sent nothing
    assert [len(b["update"]) for b in batches] == [100, 100, 50]  # type: ignore[arg-type]
    assert first.failed == []
    assert first.pushed == 250
    assert second.calls == 0
    assert len(batches) == 3
    meta = {m["key"]: m["value"] for m in sandbox.shop.customers[ids[7]]["meta_data"]}
    assert meta["profilesync_customer_id"] == "cus_00007"
    assert meta["profilesync_lifetime_value_currency"] == "EUR"


def test_meta_data_is_replaced_by_key_not_added_again(
    sandbox: WooCommerceSandbox, woo: WooCommerceConnector
) -> None:
    customer = sorted(sandbox.shop.customers)[0]
    state = InMemorySyncStateStore()
    push_profiles(woo, [_profile(1, ("customer", str(customer)))], state)
    push_profiles(woo, [_profile(2, ("customer", str(customer)))], state)
    keys = [m["key"] for m in sandbox.shop.customers[customer]["meta_data"]]
    assert len(keys) == len(set(keys)) == 7
    assert {m["key"]: m["value"] for m in sandbox.shop.customers[customer]["meta_data"]}[
        "profilesync_customer_id"
    ] == "cus_00002"


def test_a_customer_deleted_in_the_store_fails_alone_with_woocommerces_reason(
    sandbox: WooCommerceSandbox, woo: WooCommerceConnector
) -> None:
    # GIVEN three profiles, one of whose account was deleted in WooCommerce since the last pull
    ids = sorted(sandbox.shop.customers)[:3]
    del sandbox.shop.customers[ids[1]]
    profiles = [_profile(n, ("customer", str(i))) for n, i in enumerate(ids)]
    # WHEN pushed
    report = push_profiles(woo, profiles, InMemorySyncStateStore())
    # THEN the other two are pushed, and the failure names the customer and what WooCommerce said
    assert report.pushed == 2
    assert [(f.customer_id, f.retryable) for f in report.failed] == [("cus_00001", False)]
    assert report.failed[0].error == f"customer {ids[1]}: Invalid resource ID."


def test_guests_get_no_payload_and_a_person_with_two_accounts_gets_both(sandbox: WooCommerceSandbox) -> None:
    ids = sorted(sandbox.shop.customers)
    order = sorted(sandbox.shop.orders)[0]
    with connect(sandbox) as woo:
        assert woo.from_profile(_profile(1, ("order", str(order)))) is None
        both = woo.from_profile(
            _profile(2, ("customer", str(ids[4])), ("customer", str(ids[3])), ("order", str(order)))
        )
        assert both is not None
        assert both.body["customers"] == [ids[3], ids[4]]
        report = push_profiles(
            woo, [_profile(2, ("customer", str(ids[4])), ("customer", str(ids[3])))], InMemorySyncStateStore()
        )
    assert report.failed == []
    assert all(
        any(m["key"] == "profilesync_customer_id" for m in sandbox.shop.customers[i]["meta_data"])
        for i in ids[3:5]
    )


def test_101_updates_from_100_payloads_are_split_under_the_batch_limit(
    sandbox: WooCommerceSandbox, woo: WooCommerceConnector
) -> None:
    # GIVEN 100 payloads, one of a person with two accounts: 101 customer updates
    for _ in range(110):
        sandbox.add_records(1)
    ids = sorted(sandbox.shop.customers)
    profiles = [_profile(n, ("customer", str(ids[n]))) for n in range(99)]
    profiles.append(_profile(99, ("customer", str(ids[99])), ("customer", str(ids[100]))))
    batches = _batches(sandbox)
    # WHEN pushed as one batch of 100 THEN no request goes over WooCommerce's limit of 100 items
    report = push_profiles(woo, profiles, InMemorySyncStateStore())
    assert report.calls == 1
    assert report.failed == []
    assert [len(b["update"]) for b in batches] == [100, 1]  # type: ignore[arg-type]
