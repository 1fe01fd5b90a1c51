"""Fixtures for the HubSpot connector tests: a sandbox whose every exchange is checked against HubSpot's
published OpenAPI specs, connectors wired to it, and a fake clock for the rate limiters."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors._http import RetryPolicy
from connectors.hubspot import HubSpotConnector, HubSpotSandbox
from core.connector import ConnectorSettings
from profilesync.testing.specs import OpenApiSpec

CONTACTS_SPEC = "hubspot-crm-contacts-v3.json.gz"
PROPERTIES_SPEC = "hubspot-crm-properties-v3.json.gz"


class FakeClock:
    """Monotonic seconds that move only when something sleeps on them."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class SleepRecorder:
    """Stands in for ``time.sleep`` in retry policies: records each wait, never blocks."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def spec_for(path: str) -> OpenApiSpec:
    return OpenApiSpec.load(PROPERTIES_SPEC if path.startswith("/crm/v3/properties/") else CONTACTS_SPEC)


def as_published(method: str, path: str, body: Any) -> Any:
    """The request body as HubSpot's published spec types it. Its ``PublicObjectSearchRequest`` declares
    ``sorts`` as strings, while the API and its guide take ``{propertyName, direction}`` objects
    (https://developers.hubspot.com/docs/api-reference/search/guide): those are checked here, and
    replaced by their property name for the spec check."""
    if method == "POST" and path.endswith("/search") and isinstance(body, dict):
        sorts = body.get("sorts")
        if isinstance(sorts, list):
            for sort in sorts:
                if isinstance(sort, dict):
                    assert set(sort) <= {"propertyName", "direction"}, sort
                    assert sort.get("direction", "ASCENDING") in ("ASCENDING", "DESCENDING"), sort
            body = copy.deepcopy(body)
            body["sorts"] = [s["propertyName"] if isinstance(s, dict) else s for s in sorts]
    return body


class SpecChecked:
    """A transport handler that validates every request body and every response against the spec."""

    def __init__(self, sandbox: HubSpotSandbox) -> None:
        self.sandbox = sandbox
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        spec = spec_for(request.url.path)
        if request.content:
            body = json.loads(request.content)
            spec.validate_request(
                request.method, request.url.path, as_published(request.method, request.url.path, body)
            )
        response = self.sandbox.handle(request)
        response.read()
        spec.validate_httpx(request, response, check_request=False)
        self.exchanges.append((request, response))
        return response

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def routes(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r, _ in self.exchanges]


def fast_sandbox(people: int = 60, **limits: Any) -> HubSpotSandbox:
    """A sandbox whose limits are high enough that no test waits on a limiter."""
    limits.setdefault("rate_limit_per_10s", 100_000)
    limits.setdefault("search_requests_per_second", 100_000)
    return HubSpotSandbox(people=people, seed=7, **limits)


def connect(
    sandbox: HubSpotSandbox,
    checked: SpecChecked | None = None,
    sleeps: SleepRecorder | None = None,
    **kw: Any,
) -> HubSpotConnector:
    """A connector reaching ``sandbox`` in-process (through ``checked`` when given), never really sleeping
    in retries."""
    retry = RetryPolicy(max_attempts=8, backoff_floor=0.01, backoff_cap=0.05, sleep=sleeps or SleepRecorder())
    transport = checked.transport() if checked is not None else sandbox.transport()
    settings: ConnectorSettings = dataclasses.replace(
        sandbox.settings(transport=False), transport=transport, retry=retry
    )
    return HubSpotConnector(settings, **kw)


@pytest.fixture
def sandbox() -> HubSpotSandbox:
    return fast_sandbox()


@pytest.fixture
def checked(sandbox: HubSpotSandbox) -> SpecChecked:
    return SpecChecked(sandbox)


@pytest.fixture
def hubspot(sandbox: HubSpotSandbox, checked: SpecChecked) -> Iterator[HubSpotConnector]:
    connector = connect(sandbox, checked)
    try:
        yield connector
    finally:
        connector.close()
