"""Stripe charges on one second, in any order of captures, refunds, expiries and syncs.

The charge events (``charge.captured``, ``charge.refunded``, ``charge.expired``) carry ``created``
in whole seconds and are read as one stream (``charge_changes``). Whatever happens to a few
authorisations on a few seconds, and whenever the syncs run between the changes, the store ends
holding each charge as a full pull of Stripe now gives it (revC22: a capture and a refund on one
second, read by two syncs, tied, and the store kept either). The captures go through the sandbox's
``POST /v1/charges/{id}/capture`` (``_sandbox_charges.capture``), the expiries through its control.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.stripe import StripeConnector, make_sandbox
from connectors.stripe import _sandbox_charges as charge_api
from connectors.stripe import _sandbox_customers as customer_api
from connectors.stripe._sandbox import StripeSandbox
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from tests.unit.connectors.stripe.test_stripe_full_refresh_interleavings import UNPACED
from tests.unit.connectors.stripe.test_stripe_second_orders import AT as DAY_AGO
from tests.unit.connectors.stripe.test_stripe_second_orders import SETTINGS

AT = int(DAY_AGO.timestamp())

#: One step: which authorisation, what happens to it, whether Stripe's clock moves on a second
#: first, and whether a sync runs after it.
Step = tuple[int, str, bool, bool]
STEPS = st.lists(
    st.tuples(
        st.integers(0, 2), st.sampled_from(["capture", "refund", "expire"]), st.booleans(), st.booleans()
    ),
    min_size=1,
    max_size=10,
)


def _apply(sandbox: StripeSandbox, charge_id: str, action: str, at: datetime) -> None:
    charge = sandbox.charges[charge_id]
    if charge["refunded"] or (action == "capture" and charge["captured"]):
        return  # nothing Stripe would do: refunded whole, expired, or captured already
    if action == "expire" and charge["captured"]:
        action = "refund"
    with sandbox.lock:
        if action == "capture":
            clock = sandbox.clock
            sandbox.clock = type("_At", (), {"now": staticmethod(lambda: at)})()  # type: ignore[assignment]
            try:
                charge_api.capture(sandbox, charge_id, {})
            finally:
                sandbox.clock = clock
        elif action == "expire":
            charge_api.expire(sandbox, [charge_id], at)
    if action == "refund":
        sandbox.touch({f"charge:{charge_id}"}, at=at)


def _run(steps: list[Step], amount: int = 1000) -> None:
    sandbox = make_sandbox(people=0, seed=5, requests_per_second=10_000)
    with sandbox.lock:
        buyer = str(customer_api.create(sandbox, {"email": "ada.hold@example.com"})["id"])
        asked = {"currency": "eur", "customer": buyer, "capture": "false"}
        held = [str(charge_api.create(sandbox, {**asked, "amount": str(amount + i)})["id"]) for i in range(3)]
        # Authorised a day ago (the sandbox stamps creation by the real clock): a sync's watermark
        # is then its newest event, not the walk's start less the clock skew it allows.
        for event in sandbox.events.values():
            event["created"] = event["data"]["object"]["created"] = AT
        for object_id in [buyer, *held]:
            sandbox._changed[object_id] = AT
        for charge_id in held:
            sandbox.charges[charge_id]["created"] = AT
        sandbox.customers[buyer]["created"] = AT
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    with StripeConnector(UNPACED, sandbox.settings()) as connector:

        def sync() -> None:
            pull_into_store(connector, store, state, settings=SETTINGS)

        sync()
        for index, action, tick, then_sync in steps:
            last = max(e["created"] for e in sandbox.events.values())
            _apply(sandbox, held[index], action, datetime.fromtimestamp(last + int(tick), UTC))
            if then_sync:
                sync()
        sync()
        fresh = InMemoryProfileStore()
        pull_into_store(connector, fresh, InMemorySyncStateStore(), cursor=None, settings=SETTINGS)

    def versions(profiles: InMemoryProfileStore) -> dict[str, str | None]:
        keys = [f"source#stripe:charge:{c}" for c in held]
        return {k: o.record_hash for k, o in profiles.get_owners(keys).items()}

    assert versions(store) == versions(fresh)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(STEPS)
def test_any_order_of_captures_refunds_and_syncs_on_few_seconds_ends_as_stripe_holds_it(
    steps: list[Step],
) -> None:
    _run(steps)
