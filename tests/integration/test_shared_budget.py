"""The DynamoDB token bucket: runs sharing one vendor account stay under its limit together."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.dynamodb_budget import DynamoDBTokenBucket
from tests.integration.conftest import TABLE, RequestLog


class Clock:
    """Shared wall time that moves only when someone sleeps (so the test does not)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_two_runs_share_one_budget_instead_of_each_taking_the_whole_limit(
    dynamo: tuple[DynamoDBProfileStore, RequestLog],
) -> None:
    store, _ = dynamo
    client = store._client
    clock = Clock()
    # GIVEN HubSpot's 100 requests per 10 s as a bucket of 100 refilling at 10/s, and two runs on it
    runs = [
        DynamoDBTokenBucket(
            client, TABLE, "hubspot:portal-1", rate_per_second=10, burst=100, clock=clock, sleep=clock.sleep
        )
        for _ in range(2)
    ]
    start = clock()
    # WHEN each run sends 150 requests (300 in all)
    for _ in range(150):
        for run in runs:
            run.acquire()
    # THEN together they took at least (300 - 100 burst) / 10 per second = 20 s, not the 5 s each
    # would have taken alone with its own bucket
    assert clock() - start >= 20.0 - 1e-6
    # AND reservations keep DynamoDB writes to a fraction of the requests
    assert sum(r.writes for r in runs) <= 300 / runs[0].reserve + 4


def test_accounts_have_separate_budgets(dynamo: tuple[DynamoDBProfileStore, RequestLog]) -> None:
    store, _ = dynamo
    client = store._client
    clock = Clock()
    a = DynamoDBTokenBucket(
        client, TABLE, "shopify:acme", rate_per_second=100, burst=2000, clock=clock, sleep=clock.sleep
    )
    b = DynamoDBTokenBucket(
        client, TABLE, "shopify:other", rate_per_second=100, burst=2000, clock=clock, sleep=clock.sleep
    )
    a.acquire(1000)
    a.acquire(1000)
    b.acquire(1000)  # another store's bucket is still full
    assert clock() == 1_800_000_000.0
    a.acquire(100)  # acme's bucket is empty: waits for 100 points at 100/s
    assert clock() - 1_800_000_000.0 >= 1.0 - 1e-6


class CountingLimiter:
    def __init__(self) -> None:
        self.costs: list[float] = []

    def acquire(self, cost: float = 1.0) -> None:
        self.costs.append(cost)

    def observe(self, response: object) -> None:
        pass


def test_hubspot_and_shopify_spend_from_a_shared_limiter_given_in_their_settings() -> None:
    import dataclasses

    from connectors.hubspot import PLUGIN as HUBSPOT
    from connectors.shopify import PLUGIN as SHOPIFY

    for plugin in (HUBSPOT, SHOPIFY):
        assert plugin.sandbox is not None
        assert plugin.spec.shared_budget is not None
        sandbox = plugin.sandbox(people=20, seed=3)
        shared = CountingLimiter()
        connector = plugin.build(dataclasses.replace(sandbox.settings(), limiters=(shared,)))
        try:
            for _ in connector.pull(None):
                pass
        finally:
            connector.close()
        # every request that spends the vendor's main limit also spends from the shared budget
        assert len(shared.costs) >= 1, plugin.spec.name
        assert sum(shared.costs) <= plugin.spec.shared_budget[1]


def test_lambda_wiring_gives_each_vendor_account_one_budget_in_the_table(
    dynamo: tuple[DynamoDBProfileStore, RequestLog],
) -> None:
    import dataclasses

    from connectors.hubspot import PLUGIN as HUBSPOT
    from functions._wiring import Settings, Wiring, parse_connectors

    store, _ = dynamo
    client = store._client
    assert HUBSPOT.sandbox is not None
    sandbox = HUBSPOT.sandbox(people=10, seed=5)

    def plugin(name: str) -> Any:
        # the real HubSpot plugin, reaching its sandbox in-process
        return dataclasses.replace(
            HUBSPOT, build=lambda s: HUBSPOT.build(dataclasses.replace(s, transport=sandbox.transport()))
        )

    settings = Settings(table_name=TABLE, connectors=parse_connectors('{"hubspot": {}}'))
    env = {"PROFILESYNC_HUBSPOT_TOKEN": sandbox.settings().credentials["hubspot_token"]}
    wiring = Wiring(settings, dynamodb=client, plugins=plugin, secrets_env=env)
    connector = wiring.connector("hubspot")
    # WHEN the wired connector pulls
    for _ in connector.pull(None):
        pass
    # THEN it spent from a BUDGET# item of its account in the table
    items = client.scan(TableName=TABLE)["Items"]
    budgets = [i for i in items if i["PK"]["S"].startswith("BUDGET#hubspot:")]
    assert len(budgets) == 1
    assert float(budgets[0]["tokens"]["N"]) < 100


def test_a_connector_entry_can_raise_the_budget_to_its_plan_and_a_budget_without_one_is_refused(
    dynamo: tuple[DynamoDBProfileStore, RequestLog],
) -> None:
    import dataclasses

    from connectors.hubspot import PLUGIN as HUBSPOT
    from connectors.mailchimp import PLUGIN as MAILCHIMP
    from functions._wiring import ConnectorConfigError, Settings, Wiring, parse_connectors

    store, _ = dynamo
    client = store._client
    from connectors.hubspot._sandbox import HubSpotSandbox

    sandbox = HubSpotSandbox(people=10, seed=5, rate_limit_per_10s=190)
    assert sandbox.account_budget() == (19.0, 190.0)

    def plugin(name: str) -> Any:
        chosen = HUBSPOT if name == "hubspot" else MAILCHIMP
        return dataclasses.replace(
            chosen, build=lambda s: chosen.build(dataclasses.replace(s, transport=sandbox.transport()))
        )

    config = '{"hubspot": {"rate_budget": [19, 190]}, "mailchimp": {"rate_budget": [1, 10]}}'
    settings = Settings(table_name=TABLE, connectors=parse_connectors(config))
    env = {"PROFILESYNC_HUBSPOT_TOKEN": sandbox.settings().credentials["hubspot_token"]}
    wiring = Wiring(settings, dynamodb=client, plugins=plugin, secrets_env=env)
    for _ in wiring.connector("hubspot").pull(None):
        pass
    # the Professional plan's 190 per 10 s: more than the default bucket of 100 is left after a pull
    items = client.scan(TableName=TABLE)["Items"]
    (budget,) = [i for i in items if i["PK"]["S"].startswith("BUDGET#hubspot:")]
    assert 100 < float(budget["tokens"]["N"]) <= 190
    # Mailchimp limits connections, not an account-wide rate: a rate_budget for it is a config error
    with pytest.raises(ConnectorConfigError, match="rate_budget"):
        wiring.connector("mailchimp")


def test_a_bad_rate_budget_is_a_clear_config_error() -> None:
    from functions._wiring import WiringError, parse_connectors

    with pytest.raises(WiringError, match="rate_budget"):
        parse_connectors('{"hubspot": {"rate_budget": [0, 100]}}')
