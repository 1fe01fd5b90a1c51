"""attack13: Stripe's own example charge (``specs/stripe-fixtures3.json``), served by the sandbox and
synced, adds nothing to its buyer's lifetime value: it was never captured.

The example is an authorisation only: ``captured: false``, ``amount_captured: 0``, ``paid: true``,
``status: "succeeded"``. Stripe holds the money without taking it, and releases it when the hold
expires (https://docs.stripe.com/payments/place-a-hold-on-a-payment-method): an uncaptured charge is
no purchase until ``charge.captured``, and ``charge.expired`` ends it.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from profilesync.testing.spec_objects import _document
from tests.integration.test_attack4_pages_change_while_paged import PLUGINS, SETTINGS, _connect


def test_stripes_example_uncaptured_charge_adds_nothing_to_lifetime_value() -> None:
    resources = _document("stripe-fixtures3.json")["resources"]
    customer, charge = copy.deepcopy(resources["customer"]), copy.deepcopy(resources["charge"])
    assert (charge["captured"], charge["amount_captured"], charge["status"]) == (False, 0, "succeeded")
    customer["email"] = "jenny.rosen@example.com"  # (the example has none: it would be quarantined)
    charge["customer"] = customer["id"]
    plugin, options = PLUGINS["stripe"]
    assert plugin.sandbox is not None
    sandbox = plugin.sandbox(people=2, seed=5, **options)
    # GIVEN a Stripe account holding Stripe's example customer and her uncaptured example charge
    with sandbox.lock:
        sandbox.customers[customer["id"]] = customer
        sandbox._order[customer["id"]] = 10**6  # (listed after the seeded ones)
        sandbox._event("customer.created", customer, datetime(2026, 11, 1, tzinfo=UTC))
        sandbox.charges[charge["id"]] = charge
        sandbox._order[charge["id"]] = 10**6 + 1
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    connector = _connect("stripe", sandbox)
    try:
        # WHEN it is synced
        pull_into_store(connector, store, state, settings=SETTINGS)
    finally:
        connector.close()
    # THEN her profile holds both records, and no money: nothing was captured
    (profile,) = [p for p in store.iter_profiles() if any(customer["id"] in s.key for s in p.sources)]
    assert {s.key for s in profile.sources} == {
        f"stripe:customer:{customer['id']}",
        f"stripe:charge:{charge['id']}",
    }
    assert profile.computed.lifetime_value.get("USD", Decimal(0)) == 0
