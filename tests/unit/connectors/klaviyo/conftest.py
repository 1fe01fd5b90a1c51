"""Fixtures for the Klaviyo tests: a sandbox whose every exchange is checked against Klaviyo's published
OpenAPI spec (revision 2026-07-15), and a connector wired to it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest

from connectors._http import RetryPolicy
from connectors.klaviyo import PLUGIN, KlaviyoSandbox
from connectors.sdk import RestConnector
from profilesync.testing.specs import OpenApiSpec

SPEC = "klaviyo-profiles-2026-07-15.json.gz"
#: Documented by Klaviyo's Data Privacy API, which the bundled profiles spec does not cover.
OUTSIDE_THE_SPEC = ("/api/data-privacy-deletion-jobs",)


class CheckedKlaviyoSandbox(KlaviyoSandbox):
    """Validates every request body and response against the spec; records each exchange."""

    def __init__(self, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = super().handle(request)
        response.read()
        self.exchanges.append((request, response))
        if not request.url.path.rstrip("/").endswith(OUTSIDE_THE_SPEC):
            OpenApiSpec.load(SPEC).validate_httpx(request, response)
        return response


@pytest.fixture
def sandbox() -> CheckedKlaviyoSandbox:
    return CheckedKlaviyoSandbox(people=60, seed=7)


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def klaviyo(sandbox: CheckedKlaviyoSandbox, waits: list[float]) -> Iterator[RestConnector]:
    retry = RetryPolicy(max_attempts=6, backoff_floor=0.01, backoff_cap=0.05, sleep=waits.append)
    connector = PLUGIN.build(dataclasses.replace(sandbox.settings(), retry=retry))
    assert isinstance(connector, RestConnector)
    try:
        yield connector
    finally:
        connector.close()
