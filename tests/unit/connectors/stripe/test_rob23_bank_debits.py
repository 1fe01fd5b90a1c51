"""Stripe asynchronous payments: a bank debit is ``pending`` when made and settles days later.

Stripe's Charge object (``specs/stripe-api.json``): ``status`` is ``succeeded``, ``pending`` or
``failed``; a bank debit (ACH Direct Debit, SEPA, BACS) is created ``pending`` (``charge.pending``)
and later either succeeds (``charge.succeeded``) or fails (``charge.failed``), the three among the
spec's event types (https://docs.stripe.com/payments/payment-methods#payment-notification). A sync
that read the charge while pending must learn how it ended. The debits are made with Stripe's own
SDK against the served sandbox (a bank account token as ``source``), every answer checked against
Stripe's spec; the bank answers through the sandbox's ``settle_charges``.

Red before (rob23): the connector followed only ``charge.refunded``, ``charge.captured`` and
``charge.expired``: a settled debit stayed a pending order (lifetime value ``{}``), a failed one
stayed pending (three of the four red; a debit settled before the first sync was right).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.stripe._declaration import EVENT_STREAMS, STREAMS, event_types
from connectors.stripe._sandbox import StripeSandbox
from tests.unit.connectors.stripe.test_stripe_authorisations import _spec_event_types, _Syncs

pytest.importorskip("stripe")


def _debited_and_synced(client: Any, sandbox: StripeSandbox, amount: int) -> tuple[Any, Any, _Syncs]:
    """A customer, a bank debit of hers (pending), and the account synced (no lifetime value)."""
    buyer = client.v1.customers.create({"email": "bo.debit@example.com", "name": "Bo Debit"})
    debit = client.v1.charges.create(
        {"amount": amount, "currency": "usd", "customer": buyer.id, "source": "btok_us_verified"}
    )
    assert (debit.status, debit.paid, debit.captured) == ("pending", False, True)
    _an_hour_ago(sandbox, debit.id)
    # (a later charge: the charges list's watermark is past the debit, so only its events tell)
    other = client.v1.customers.create({"email": "al.card@example.com", "name": "Al Card"})
    client.v1.charges.create({"amount": 100, "currency": "usd", "customer": other.id})
    syncs = _Syncs(sandbox)
    syncs.run()
    held = syncs.profile(buyer.id)
    assert f"stripe:charge:{debit.id}" in {s.key for s in held.sources}
    assert held.computed.lifetime_value == {}
    return buyer, debit, syncs


def _an_hour_ago(sandbox: StripeSandbox, charge_id: str) -> None:
    """The charge, and its events, as if made an hour ago (the sandbox's clock is real time)."""
    with sandbox.lock:
        sandbox.charges[charge_id]["created"] -= 3600
        for event in sandbox.events.values():
            if event["data"]["object"]["id"] == charge_id:
                event["created"] -= 3600
                event["data"]["object"]["created"] -= 3600


def test_the_settlement_event_types_followed_are_stripes() -> None:
    followed = {kind for s in STREAMS if s.object_type in EVENT_STREAMS for kind in event_types(s)}
    assert {"charge.succeeded", "charge.failed"} <= followed
    assert followed <= _spec_event_types()


def test_a_debit_settled_between_two_syncs_reaches_lifetime_value(
    client: Any, sandbox: StripeSandbox
) -> None:
    # GIVEN a pending bank debit of 25.00 USD, synced
    buyer, debit, syncs = _debited_and_synced(client, sandbox, 2500)
    # WHEN the bank settles it, and the account is synced again
    sandbox.settle_charges({debit.id})
    assert client.v1.charges.retrieve(debit.id).status == "succeeded"
    syncs.run()
    # THEN the order is paid and counted
    assert syncs.profile(buyer.id).computed.lifetime_value == {"USD": Decimal("25.00")}
    assert syncs.profile(buyer.id).computed.order_count == 1


def test_a_failed_debit_never_reaches_lifetime_value(client: Any, sandbox: StripeSandbox) -> None:
    # GIVEN a pending bank debit, synced
    buyer, debit, syncs = _debited_and_synced(client, sandbox, 2500)
    # WHEN the bank refuses it, and the account is synced twice
    sandbox.settle_charges({debit.id}, succeeded=False)
    failed = client.v1.charges.retrieve(debit.id)
    assert (failed.status, failed.failure_code) == ("failed", "account_closed")
    syncs.run()
    syncs.run()
    # THEN its order is cancelled: stored so (it was pending), never counted
    profile = syncs.profile(buyer.id)
    (state,) = syncs.store.get_customers([profile.customer_id]).values()
    (order,) = state.snapshots[f"stripe:charge:{debit.id}"].orders
    assert order.status == "cancelled"
    assert profile.computed.lifetime_value == {}
    assert profile.computed.order_count == 0


def test_a_debit_settled_before_the_first_sync_is_paid(client: Any, sandbox: StripeSandbox) -> None:
    buyer = client.v1.customers.create({"email": "cy.debit@example.com", "name": "Cy Debit"})
    debit = client.v1.charges.create(
        {"amount": 900, "currency": "usd", "customer": buyer.id, "source": "ba_1Sbx"}
    )
    sandbox.settle_charges({debit.id})
    syncs = _Syncs(sandbox)
    syncs.run()
    assert syncs.profile(buyer.id).computed.lifetime_value == {"USD": Decimal("9.00")}
