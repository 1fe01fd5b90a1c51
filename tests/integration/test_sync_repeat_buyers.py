"""``sync``'s pull path on DynamoDB (moto): Shopify customers with all their orders are one profile each.

The Shopify sandbox holds the population's repeat buyers (10 to 60 more orders); every order names
its customer. On main, an order counted as a holder of its buyer's email and phone, so a shopper's
orders beyond the guardrail's limit founded profiles of their own.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from connectors._http import RetryPolicy
from connectors.shopify import PLUGIN
from connectors.shopify._mapping import customer_draft
from core.normalise import normalise_record
from core.pipeline import IngestSettings
from core.schema import SourceRecord
from core.storage.memory import InMemorySyncStateStore
from core.sync import pull_into_store
from tests.integration.test_dynamodb_store import Dynamo


def test_a_shopify_sync_makes_one_profile_per_customer_with_every_order(dynamo: Dynamo) -> None:
    # GIVEN a Shopify sandbox with repeat buyers, pulled in pages into DynamoDB
    store, _ = dynamo
    # (its bucket restored fast and the bulk operations' polls not waited for: nothing here is timed)
    sandbox = PLUGIN.sandbox(people=120, seed=7, rate_scale=1000.0)
    unwaited = RetryPolicy(max_attempts=8, backoff_floor=0.01, backoff_cap=0.05, sleep=lambda _: None)
    connector = PLUGIN.build(dataclasses.replace(sandbox.settings(), retry=unwaited))
    orders_of = Counter(o["_customer"] for o in sandbox.orders.values())
    assert max(orders_of.values()) >= 10
    # WHEN synced
    try:
        report = pull_into_store(
            connector, store, InMemorySyncStateStore(), settings=IngestSettings(sleep=lambda _: None)
        )
    finally:
        connector.close()
    assert report.pulled == report.normalised + report.quarantined
    # THEN each customer is in exactly one profile, with exactly its orders; orders make a profile
    # of their own only when their customer itself was quarantined (they wait for it, joined)
    pulled = {str(n): c for n, c in sandbox.customers.items()}
    kept = {
        n for n, c in pulled.items() if isinstance(normalise_record(customer_draft(_node(c))), SourceRecord)
    }
    customer_profiles: Counter[str] = Counter()
    for profile in store.iter_profiles():
        customers = [s.id for s in profile.sources if s.object_type == "customer"]
        orders = [s for s in profile.sources if s.object_type == "order"]
        owners = {str(sandbox.orders[int(o.id)]["_customer"]) for o in orders}
        if not customers:
            assert len(owners) == 1, owners
            assert not owners & kept, owners
            continue
        customer_profiles.update(customers)
        assert owners <= set(customers)
        assert len(orders) == sum(orders_of.get(int(c), 0) for c in customers)
    assert set(customer_profiles) == kept
    assert all(n == 1 for n in customer_profiles.values())


def _node(customer: dict[str, Any]) -> dict[str, Any]:
    """A sandbox customer as the API shows it (the sandbox keeps private fields with a leading _)."""
    return {k: v for k, v in customer.items() if not k.startswith("_")}
