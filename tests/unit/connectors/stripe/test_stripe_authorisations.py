"""Stripe authorisations: a charge created with ``capture=false`` is no purchase until it is captured.

Stripe's Charge object (``specs/stripe-api.json``): ``captured`` says whether a charge created without
capturing has since been captured; ``amount_captured`` is what was taken; a capture of less than the
amount releases the rest: "Any additional amount will be automatically refunded" (the capture's
``amount``); an authorisation never captured expires and is "marked as refunded and will no longer be
capturable" (``POST /v1/charges/{charge}/capture``). The events ``charge.captured`` and
``charge.expired`` say so to a sync that read the charge before (``specs/stripe-api.json``'s event
types). The charges are made and captured with Stripe's own SDK against the served sandbox, every
answer checked against Stripe's spec.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.stripe import charge_order
from connectors.stripe._declaration import EVENT_STREAMS, STREAMS, event_types
from connectors.stripe._sandbox import StripeSandbox
from core.schema import Profile
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from profilesync.testing.spec_objects import _document
from tests.integration.test_attack4_pages_change_while_paged import SETTINGS, _connect

stripe = pytest.importorskip("stripe")


def _example() -> dict[str, Any]:
    charge: dict[str, Any] = copy.deepcopy(_document("stripe-fixtures3.json")["resources"]["charge"])
    return charge


def _spec_event_types() -> set[str]:
    schema = _document("stripe-api.json")["paths"]["/v1/webhook_endpoints"]["post"]["requestBody"]
    props = schema["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]
    return set(props["enabled_events"]["items"]["enum"])


def test_the_event_types_followed_are_stripes_and_cover_capture_expiry_and_refund() -> None:
    followed = {kind for s in STREAMS if s.object_type in EVENT_STREAMS for kind in event_types(s)}
    assert {"charge.captured", "charge.expired", "charge.refunded"} <= followed
    assert followed <= _spec_event_types()


def test_stripes_example_authorisation_is_a_pending_order() -> None:
    charge = _example()
    assert (charge["captured"], charge["amount_captured"], charge["paid"]) == (False, 0, True)
    order = charge_order(charge)
    assert (order["status"], order["total"]) == ("pending", Decimal("1.00"))


@pytest.mark.parametrize(
    ("changes", "status", "total"),
    [
        # captured whole
        ({"captured": True, "amount_captured": 10000}, "paid", "100.00"),
        # captured 60.00 of 100.00: the other 40.00 released, i.e. refunded
        ({"captured": True, "amount_captured": 6000, "amount_refunded": 4000}, "paid", "60.00"),
        # ... then 10.00 of what was taken refunded
        ({"captured": True, "amount_captured": 6000, "amount_refunded": 5000}, "paid", "50.00"),
        # captured whole, all of it refunded
        (
            {"captured": True, "amount_captured": 10000, "amount_refunded": 10000, "refunded": True},
            "refunded",
            "100.00",
        ),
        # never captured, expired: marked refunded, nothing was taken
        ({"amount_refunded": 10000, "refunded": True}, "cancelled", "100.00"),
        # never captured, still held
        ({}, "pending", "100.00"),
        # captured, still pending (a bank debit)
        ({"captured": True, "amount_captured": 10000, "status": "pending"}, "pending", "100.00"),
        ({"status": "failed"}, "cancelled", "100.00"),
    ],
)
def test_an_authorisation_in_each_state_is_the_order_it_is(
    changes: dict[str, Any], status: str, total: str
) -> None:
    charge = {**_example(), "amount": 10000, **changes}
    order = charge_order(charge)
    assert (order["status"], order["total"]) == (status, Decimal(total))


class _Syncs:
    """Syncs of one Stripe account into one store, each after the one before (its cursor kept)."""

    def __init__(self, sandbox: StripeSandbox) -> None:
        self.sandbox = sandbox
        self.store, self.state = InMemoryProfileStore(), InMemorySyncStateStore()

    def run(self) -> None:
        connector = _connect("stripe", self.sandbox)
        try:
            pull_into_store(connector, self.store, self.state, settings=SETTINGS)
        finally:
            connector.close()

    def profile(self, customer_id: str) -> Profile:
        (found,) = [
            p
            for p in self.store.iter_profiles()
            if any(s.key == f"stripe:customer:{customer_id}" for s in p.sources)
        ]
        return found


def _buyer(client: Any) -> Any:
    return client.v1.customers.create({"email": "ada.hold@example.com", "name": "Ada Hold"})


def _held_and_synced(
    client: Any, sandbox: StripeSandbox, amount: int, currency: str
) -> tuple[Any, Any, _Syncs]:
    """A new customer, an authorisation of hers (``capture=false``), and the account synced."""
    buyer = _buyer(client)
    held = client.v1.charges.create(
        {"amount": amount, "currency": currency, "customer": buyer.id, "capture": False}
    )
    assert (held.captured, held.amount_captured, held.status) == (False, 0, "succeeded")
    syncs = _Syncs(sandbox)
    syncs.run()
    assert f"stripe:charge:{held.id}" in {s.key for s in syncs.profile(buyer.id).sources}
    assert syncs.profile(buyer.id).computed.lifetime_value == {}
    return buyer, held, syncs


def test_a_charge_captured_between_two_syncs_reaches_lifetime_value_on_the_second(
    client: Any, sandbox: StripeSandbox
) -> None:
    # GIVEN a customer and a 42.00 EUR authorisation of hers, synced (no lifetime value)
    buyer, held, syncs = _held_and_synced(client, sandbox, 4200, "eur")
    # WHEN it is captured, and the account synced again
    captured = client.v1.charges.capture(held.id)
    assert (captured.captured, captured.amount_captured) == (True, 4200)
    syncs.run()
    # THEN the second sync counts it
    assert syncs.profile(buyer.id).computed.lifetime_value == {"EUR": Decimal("42.00")}


def test_a_partial_capture_counts_what_was_taken(client: Any, sandbox: StripeSandbox) -> None:
    buyer, held, syncs = _held_and_synced(client, sandbox, 5000, "usd")
    taken = client.v1.charges.capture(held.id, {"amount": 3000})
    assert (taken.amount_captured, taken.amount_refunded, taken.refunded) == (3000, 2000, False)
    syncs.run()
    assert syncs.profile(buyer.id).computed.lifetime_value == {"USD": Decimal("30.00")}


def test_an_expired_authorisation_never_reaches_lifetime_value(client: Any, sandbox: StripeSandbox) -> None:
    # GIVEN a customer's authorisation, synced
    buyer, held, syncs = _held_and_synced(client, sandbox, 4200, "eur")
    # WHEN it expires uncaptured (Stripe: refunded, no longer capturable), then syncs run
    sandbox.expire_charges({held.id})
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.charges.capture(held.id)
    assert refused.value.code == "charge_expired_for_capture"
    syncs.run()
    syncs.run()
    # THEN it never counts
    assert syncs.profile(buyer.id).computed.lifetime_value == {}
    assert syncs.profile(buyer.id).computed.order_count == 0


def test_a_full_pull_after_the_capture_counts_it(client: Any, sandbox: StripeSandbox) -> None:
    buyer = _buyer(client)
    held = client.v1.charges.create(
        {"amount": 700, "currency": "usd", "customer": buyer.id, "capture": False}
    )
    client.v1.charges.capture(held.id)
    syncs = _Syncs(sandbox)
    syncs.run()
    assert syncs.profile(buyer.id).computed.lifetime_value == {"USD": Decimal("7.00")}


@pytest.mark.parametrize("rename", ["Ada Renamed", "Ada Other", "Zed Hold", "A"])
def test_a_customer_renamed_just_after_a_sync_is_renamed_by_the_next(
    client: Any, sandbox: StripeSandbox, rename: str
) -> None:
    # (the same root as a capture's: an incremental pull lists again the objects created since its
    # watermark, dated ``created`` like the version stored, and dropped the event that dated the change after)
    buyer = _buyer(client)
    syncs = _Syncs(sandbox)
    syncs.run()
    client.v1.customers.update(buyer.id, {"name": rename})
    syncs.run()
    assert syncs.profile(buyer.id).traits["full_name"].value == rename


def test_a_charge_captured_then_refunded_between_two_syncs_ends_refunded(
    client: Any, sandbox: StripeSandbox
) -> None:
    # (two event streams carry the charge in one pull, charge.refunded read before charge.captured:
    # the newest, the refund, must win)
    buyer, held, syncs = _held_and_synced(client, sandbox, 4200, "eur")
    client.v1.charges.capture(held.id)
    sandbox.touch({f"charge:{held.id}"})  # refunded whole: charge.refunded
    syncs.run()
    assert syncs.profile(buyer.id).computed.lifetime_value == {}


@given(
    amount=st.integers(1, 10**8),
    captured=st.one_of(st.none(), st.booleans()),
    taken=st.one_of(st.none(), st.integers(0, 10**8)),
    given_back=st.one_of(st.none(), st.integers(0, 10**8)),
    refunded=st.booleans(),
    status=st.sampled_from(["succeeded", "pending", "failed", "odd"]),
)
def test_no_charge_counts_more_than_was_taken_and_kept(
    amount: int, captured: bool | None, taken: int | None, given_back: int | None, refunded: bool, status: str
) -> None:
    charge: dict[str, Any] = {
        "id": "ch_h",
        "currency": "usd",
        "created": 1,
        "amount": amount,
        "status": status,
    }
    charge.update(refunded=refunded, amount_refunded=given_back, amount_captured=taken)
    if captured is not None:
        charge["captured"] = captured
    order = charge_order(charge)
    if order["status"] != "paid":
        return
    # THEN a paid order is a captured, succeeded, not wholly refunded charge, for no more than was
    # taken nor than the charge less its refunds, and more than nothing
    assert captured is not False
    assert status == "succeeded"
    assert not refunded
    total = int(order["total"] * 100)
    assert 0 < total <= amount - (given_back or 0)
    assert total <= (amount if taken is None else taken)
