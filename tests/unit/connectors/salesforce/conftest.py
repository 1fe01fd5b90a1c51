"""Fixtures for the Salesforce tests: a seeded org and connectors wired to it in-process."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from connectors._http import RetryPolicy
from connectors.salesforce import SalesforceConnector, SalesforceSandbox


class RecordingSandbox(SalesforceSandbox):
    """Keeps every exchange, so tests can say which calls were made and in what order."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = super().handle(request)
        response.read()
        self.exchanges.append((request, response))
        return response

    def calls(self, method: str | None = None, contains: str = "") -> list[httpx.Request]:
        return [
            r for r, _ in self.exchanges if (method is None or r.method == method) and contains in r.url.path
        ]


Connect = Callable[..., SalesforceConnector]


@pytest.fixture
def sandbox() -> RecordingSandbox:
    return RecordingSandbox(people=60, seed=7)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def connect(sleeps: list[float]) -> Iterator[Connect]:
    made: list[SalesforceConnector] = []

    def build(org: SalesforceSandbox, **options: str) -> SalesforceConnector:
        retry = RetryPolicy(max_attempts=6, backoff_floor=0.01, backoff_cap=0.05, sleep=sleeps.append)
        base = org.settings()
        settings = dataclasses.replace(base, retry=retry, options={**base.options, **options})
        connector = SalesforceConnector(settings)
        made.append(connector)
        return connector

    yield build
    for connector in made:
        connector.close()
