"""Attack (attack4): Stripe's own SDK renames and deletes customers while our full pull pages.

Written through ``stripe.StripeClient`` against the served sandbox (Stripe's shapes, its events),
synced through our connector in-process against the same sandbox. A full pull read Stripe's events
only to set its watermark, so a customer renamed or deleted after its page was read never reached
the store: the old name stayed for good, and the deleted customer stayed in its profile.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from connectors._http import RetryPolicy
from connectors.stripe import PLUGIN, make_sandbox
from connectors.stripe._sandbox import StripeSandbox
from core.pipeline import IngestSettings
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemoryErasureStore
from core.sync import PullReport, pull_into_store
from tests.unit.connectors.served import Served, served

stripe = pytest.importorskip("stripe")

SETTINGS = IngestSettings(sleep=lambda _: None)


@pytest.fixture
def sandbox() -> StripeSandbox:
    return make_sandbox(people=260, seed=5, requests_per_second=10_000)


@pytest.fixture
def server(sandbox: StripeSandbox) -> Iterator[Served]:
    with served(sandbox) as running:
        yield running


def test_customers_renamed_and_deleted_through_the_sdk_behind_a_full_pull_reach_the_store(
    server: Served, sandbox: StripeSandbox
) -> None:
    client: Any = stripe.StripeClient(
        sandbox.token, base_addresses={"api": server.url}, max_network_retries=0
    )
    retry = RetryPolicy(max_attempts=5, backoff_floor=0.01, backoff_cap=0.05, sleep=lambda _: None)
    connector = PLUGIN.build(dataclasses.replace(sandbox.settings(), retry=retry))
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(store, state)
    first_page: list[str] = []

    def behind_the_walk(report: PullReport) -> None:
        if report.pages != 1:
            return
        # WHEN, once the first page of customers is in, the business renames two of them and
        # deletes a third through Stripe's SDK
        first_page.extend(
            sorted(r.id for p in store.iter_profiles() for r in p.sources if r.object_type == "customer")
        )
        for customer_id in first_page[:2]:
            client.v1.customers.update(customer_id, {"name": "Renamed Behind"})
        client.v1.customers.delete(first_page[2])

    try:
        # GIVEN a full pull of more than one page of customers
        walk = pull_into_store(
            connector, store, state, settings=SETTINGS, erasure=erasure, progress=behind_the_walk
        )
        assert walk.pages > 1
        # AND the next incremental pull
        pull_into_store(connector, store, state, settings=SETTINGS, erasure=erasure)
    finally:
        connector.close()
    # THEN the renamed customers carry their new name, and the deleted one is in no profile
    names = {
        r.id: p.traits["full_name"].value
        for p in store.iter_profiles()
        for r in p.sources
        if r.key in {f"stripe:customer:{c}" for c in first_page[:2]} and "full_name" in p.traits
    }
    assert names == dict.fromkeys(first_page[:2], "Renamed Behind")
    held = {r.id for p in store.iter_profiles() for r in p.sources}
    assert first_page[2] not in held
