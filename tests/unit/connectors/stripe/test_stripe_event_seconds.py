"""Stripe's events on one second: ``created`` has a resolution of a second.

The sandbox stamps an object's events by Stripe's clock: never before the object's previous event
(Stripe applies the changes of one object one after another), so the newest event of an object
carries the object as it is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.stripe import PLUGIN, make_sandbox
from connectors.stripe._sandbox import StripeSandbox

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _customers(sandbox: StripeSandbox) -> list[str]:
    return sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))


def test_a_customer_changed_again_stamped_before_its_last_change_is_stamped_at_it() -> None:
    # GIVEN a customer renamed at :01
    sandbox = make_sandbox(people=30, seed=3)
    key = _customers(sandbox)[0]
    customer_id = key.split(":", 1)[1]
    sandbox.touch({key}, at=AT + timedelta(seconds=1))
    # WHEN it is renamed again, asked to be stamped a second earlier
    sandbox.touch({key}, at=AT)
    # THEN the second event is on the first one's second, and is listed first (newest first), with
    # the customer as it is now
    listed = [e for e in sandbox.events.values() if e["data"]["object"]["id"] == customer_id]
    assert [e["created"] for e in listed] == [int((AT + timedelta(seconds=1)).timestamp())] * 2
    with PLUGIN.build(sandbox.settings()) as connector:
        body = connector.context.client("pull").get_json(
            "/v1/events", params={"type": "customer.updated", "limit": 1}
        )
    assert body["data"][0]["data"]["object"]["name"] == sandbox.customers[customer_id]["name"]
