"""Fixtures for the Shopify connector tests: a sandbox, a fast connector, and a transport that checks
every exchange against Shopify's published Admin schema (2026-01).

``SchemaCheckedTransport`` validates each GraphQL document the connector sends (and each bulk query it
asks Shopify to run) with ``GraphQLSchema.validate``, and each ``data`` the sandbox answers with
``validate_result``; error answers are checked for Shopify's error shapes. Tests read ``exchanges`` to
see what was sent.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from connectors._http import RetryPolicy
from connectors.shopify import ShopifyConnector, ShopifySandbox, make_sandbox
from profilesync.testing.specs import GraphQLSchema


@dataclass
class Exchange:
    query: str
    variables: dict[str, Any]
    status: int
    body: Any


@dataclass
class SchemaCheckedTransport(httpx.BaseTransport):
    sandbox: ShopifySandbox
    schema: GraphQLSchema
    exchanges: list[Exchange] = field(default_factory=list)
    validated_results: int = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/graphql.json"):
            sent = json.loads(request.content)
            query, variables = sent["query"], sent.get("variables") or {}
            self.schema.validate(query, variables)
            if "bulkOperationRunQuery" in query:
                self.schema.validate(variables["query"])
        response = self.sandbox.handle(request)
        response.read()
        if not request.url.path.endswith("/graphql.json"):
            return response
        try:
            body = json.loads(response.content) if response.content else None
        except ValueError:
            return response  # a body the sandbox cut short on purpose (Faults.truncate)
        self.exchanges.append(Exchange(query, variables, response.status_code, body))
        if response.status_code == 200 and isinstance(body, dict):
            if "errors" in body:
                check_graphql_errors(body["errors"])
            else:
                self.schema.validate_result(query, body["data"], variables)
                self.validated_results += 1
            check_cost(body.get("extensions", {}).get("cost"), throttled="errors" in body)
        elif response.status_code == 401:
            assert isinstance(body, dict)
            assert isinstance(body.get("errors"), str)
        return response

    def operations(self) -> list[str]:
        """The operation name of each GraphQL request sent, in order."""
        return [e.query.split("(", 1)[0].split()[-1] for e in self.exchanges]


def check_graphql_errors(errors: Any) -> None:
    """Shopify's GraphQL errors: a list of objects with a message, optional locations and extensions.code."""
    assert isinstance(errors, list)
    assert errors
    for error in errors:
        assert isinstance(error["message"], str)
        assert error["message"]
        for location in error.get("locations", []):
            assert isinstance(location["line"], int)
            assert isinstance(location["column"], int)
        if "extensions" in error:
            assert isinstance(error["extensions"]["code"], str)


def check_cost(cost: Any, *, throttled: bool) -> None:
    """``extensions.cost`` as Shopify sends it on every GraphQL answer that was costed."""
    if cost is None:
        return
    assert isinstance(cost["requestedQueryCost"], int)
    assert cost["actualQueryCost"] is None or isinstance(cost["actualQueryCost"], int)
    status = cost["throttleStatus"]
    assert isinstance(status["maximumAvailable"], float)
    assert isinstance(status["currentlyAvailable"], int)
    assert isinstance(status["restoreRate"], float)
    assert 0 <= status["currentlyAvailable"] <= status["maximumAvailable"]


class FakeClock:
    """Monotonic seconds that move only when something sleeps: the limiter and the sandbox's bucket
    share it, so pacing is exact and tests never wait."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture(scope="session")
def schema() -> GraphQLSchema:
    return GraphQLSchema.load()


@pytest.fixture
def sandbox() -> ShopifySandbox:
    return make_sandbox(people=60, seed=7, rate_scale=1000.0)


@pytest.fixture
def transport(sandbox: ShopifySandbox, schema: GraphQLSchema) -> SchemaCheckedTransport:
    return SchemaCheckedTransport(sandbox, schema)


@pytest.fixture
def waits() -> list[float]:
    return []


def fast_retry(waits: list[float]) -> RetryPolicy:
    return RetryPolicy(max_attempts=8, backoff_floor=0.01, backoff_cap=0.05, sleep=waits.append)


def connect(
    sandbox: ShopifySandbox, transport: httpx.BaseTransport, waits: list[float], **options: str
) -> ShopifyConnector:
    settings = sandbox.settings(transport=False)
    settings = dataclasses.replace(
        settings, transport=transport, retry=fast_retry(waits), options={**settings.options, **options}
    )
    return ShopifyConnector(settings)


@pytest.fixture
def connector(
    sandbox: ShopifySandbox, transport: SchemaCheckedTransport, waits: list[float]
) -> Iterator[ShopifyConnector]:
    with connect(sandbox, transport, waits) as shopify:
        yield shopify
