"""Erasing a person from WooCommerce as its privacy eraser does: orders anonymised field by field,
notes replaced, the account deleted; guests, retained orders, phones, and an erase cut short."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from connectors._http import ConnectorUnavailableError
from connectors.woocommerce import WooCommerceSandbox, anonymised_update
from core.normalise import normalise_email
from core.schema import Identifier

from .conftest import connect, fixture


def _registered(sandbox: WooCommerceSandbox) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    for customer in sandbox.shop.customers.values():
        orders = [o for o in sandbox.shop.orders.values() if o["customer_id"] == customer["id"]]
        if customer["email"] and len(orders) >= 2 and all(o["billing"]["phone"] for o in orders):
            return customer, orders
    raise AssertionError("the seeded store has a registered customer with two orders and a phone")


def _email(value: str) -> Identifier:
    return Identifier(kind="email", value=normalise_email(value))


def test_a_registered_customer_is_deleted_and_their_orders_anonymised_as_the_eraser_does(
    sandbox: WooCommerceSandbox,
) -> None:
    # GIVEN a customer with orders, one paid through a gateway that left payment meta, and someone else
    customer, orders = _registered(sandbox)
    orders[0]["meta_data"] = [
        {"id": 1, "key": "Payer first name", "value": "Ann"},
        {"id": 2, "key": "Transaction ID", "value": "PAYID-123"},
        {"id": 3, "key": "_shipping_label", "value": "keep me"},
    ]
    other = next(o for o in sandbox.shop.orders.values() if o["customer_id"] not in (0, customer["id"]))
    other_before = dict(other["billing"])
    ip = orders[0]["customer_ip_address"]
    phone = orders[0]["billing"]["phone"]
    # WHEN they are erased by email
    with connect(sandbox) as woo:
        (outcome,) = woo.erase([_email(customer["email"])])
    # THEN the account is gone, and each order keeps only what the eraser keeps
    assert outcome.found
    assert outcome.detail == f"anonymised {len(orders)} order(s); deleted 1 customer(s)"
    assert customer["id"] not in sandbox.shop.customers
    for order in orders:
        billing = order["billing"]
        assert billing["email"] == "deleted@site.invalid"
        assert billing["first_name"] == billing["address_1"] == billing["postcode"] == "[deleted]"
        assert billing["country"] == billing["state"] == ""
        assert billing["address_2"] == ""  # empty stays empty
        assert order["customer_id"] == 0
        assert order["transaction_id"] in ("", "0")
        assert {m["key"]: m["value"] for m in order["meta_data"]}["_anonymized"] == "yes"
        assert [n["note"] for n in sandbox.shop.notes[order["id"]]] == ["Personal data removed."]
    assert orders[0]["billing"]["phone"] == re.sub(r"\d", "0", phone)
    meta = {m["key"]: m["value"] for m in orders[0]["meta_data"]}
    assert meta["Payer first name"] == "[deleted]"
    assert "Transaction ID" not in meta
    assert meta["_shipping_label"] == "keep me"
    # AND the fields the REST API cannot write stay (WordPress's own tool clears them), others' orders too
    assert orders[0]["customer_ip_address"] == ip
    assert other["billing"] == other_before
    assert not sandbox.holds(customer["email"])


def test_erasing_again_finds_nobody(sandbox: WooCommerceSandbox) -> None:
    customer, _ = _registered(sandbox)
    with connect(sandbox) as woo:
        woo.erase([_email(customer["email"])])
        (again,) = woo.erase([_email(customer["email"])])
    assert not again.found
    assert "no WooCommerce customer or order" in again.detail


def test_a_guest_is_erased_through_the_orders_billing_email_only(sandbox: WooCommerceSandbox) -> None:
    guest = next(o for o in sandbox.shop.orders.values() if o["customer_id"] == 0 and o["billing"]["email"])
    email = guest["billing"]["email"]
    theirs = [o for o in sandbox.shop.orders.values() if o["billing"]["email"].lower() == email.lower()]
    with connect(sandbox) as woo:
        (outcome,) = woo.erase([_email(email)])
    assert outcome.found
    assert outcome.detail == f"anonymised {len(theirs)} order(s); deleted 0 customer(s)"
    assert all(o["billing"]["email"] == "deleted@site.invalid" for o in theirs)
    assert not sandbox.holds(email)


def test_an_order_of_the_account_billed_to_another_address_is_anonymised_too(
    sandbox: WooCommerceSandbox,
) -> None:
    customer, orders = _registered(sandbox)
    orders[0]["billing"]["email"] = "accounts@elsewhere.example"
    with connect(sandbox) as woo:
        woo.erase([_email(customer["email"])])
    assert orders[0]["billing"]["email"] == "deleted@site.invalid"


def test_a_shop_that_keeps_orders_has_the_account_deleted_and_the_orders_left(
    sandbox: WooCommerceSandbox,
) -> None:
    customer, orders = _registered(sandbox)
    billing = [dict(o["billing"]) for o in orders]
    with connect(sandbox, erase_orders="retain") as woo:
        (outcome,) = woo.erase([_email(customer["email"])])
    assert outcome.detail == f"retained {len(orders)} order(s); deleted 1 customer(s)"
    assert customer["id"] not in sandbox.shop.customers
    assert [o["billing"] for o in orders] == billing


def test_a_phone_number_is_not_something_woocommerce_erases_by(sandbox: WooCommerceSandbox) -> None:
    with connect(sandbox) as woo:
        (outcome,) = woo.erase([Identifier(kind="phone", value="+442030000109")])
    assert not outcome.found
    assert "by email" in outcome.detail


def test_an_erase_cut_short_before_the_account_went_is_finished_by_the_next_one(
    sandbox: WooCommerceSandbox,
) -> None:
    # GIVEN a store that fails every account deletion (the host is down for that moment)
    customer, orders = _registered(sandbox)
    route = sandbox.route

    def failing(request: httpx.Request) -> httpx.Response:
        if request.method == "DELETE" and "/customers/" in request.url.path:
            return httpx.Response(
                503, json={"code": "down", "message": "Service unavailable", "data": {"status": 503}}
            )
        return route(request)

    sandbox.route = failing  # type: ignore[method-assign]
    with connect(sandbox) as woo, pytest.raises(ConnectorUnavailableError):
        woo.erase([_email(customer["email"])])
    assert all(o["billing"]["email"] == "deleted@site.invalid" for o in orders)  # the orders went first
    # WHEN the store is back and the erase runs again
    sandbox.route = route  # type: ignore[method-assign]
    with connect(sandbox) as woo:
        (outcome,) = woo.erase([_email(customer["email"])])
    # THEN it finds the account and deletes it
    assert outcome.found
    assert customer["id"] not in sandbox.shop.customers


def test_the_update_touches_only_fields_that_hold_something() -> None:
    order = fixture("order.json")
    update = anonymised_update(order)
    assert update["billing"] == {
        "first_name": "[deleted]",
        "last_name": "[deleted]",
        "company": "[deleted]",
        "address_1": "[deleted]",
        "city": "[deleted]",
        "postcode": "[deleted]",
        "country": "",
        "phone": "+000 0 0000 000",
        "email": "deleted@site.invalid",
    }
    assert "address_2" not in update["shipping"]
    assert "phone" not in update["shipping"]
    assert update["customer_id"] == 0
    assert update["transaction_id"] == "0"
    assert update["meta_data"] == [
        {"key": "Transaction ID", "value": None},
        {"key": "_anonymized", "value": "yes"},
    ]


def test_an_account_woocommerce_will_not_delete_is_reported_not_taken_for_a_wrong_key(
    sandbox: WooCommerceSandbox,
) -> None:
    # GIVEN the shop's administrator, who also bought something with the same email
    customer, orders = _registered(sandbox)
    customer["role"] = "administrator"
    # WHEN they are erased
    with connect(sandbox) as woo:
        (outcome,) = woo.erase([_email(customer["email"])])
    # THEN the orders are anonymised, the account stays, and the detail says why and what to do
    assert outcome.found
    assert customer["id"] in sandbox.shop.customers
    assert all(o["billing"]["email"] == "deleted@site.invalid" for o in orders)
    assert "role administrator" in outcome.detail
    assert "remove it in WordPress" in outcome.detail
