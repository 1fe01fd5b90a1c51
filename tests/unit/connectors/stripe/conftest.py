"""Stripe's own Python SDK (stripe) against the served sandbox, every answer checked against
Stripe's published spec: the fixtures ``sandbox``, ``server`` and ``client``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from connectors.stripe import make_sandbox
from connectors.stripe._sandbox import StripeSandbox
from profilesync.testing.specs import OpenApiSpec
from tests.unit.connectors.served import Served, served

SPEC = "stripe-api.json.gz"


def _check(request: httpx.Request, response: httpx.Response) -> None:
    # Stripe's requests are form-encoded, so only the answers are checked.
    body = json.loads(response.content) if response.content else None
    OpenApiSpec.load(SPEC).validate_response(request.method, request.url.path, response.status_code, body)


@pytest.fixture
def sandbox() -> StripeSandbox:
    return make_sandbox(people=40, seed=7, requests_per_second=10_000)


@pytest.fixture
def server(sandbox: StripeSandbox) -> Iterator[Served]:
    with served(sandbox, _check) as running:
        yield running
        running.assert_clean()


@pytest.fixture
def client(server: Served) -> Any:
    stripe = pytest.importorskip("stripe")
    # max_network_retries=0: a 429 or 5xx must fail the test, not be retried away by the SDK.
    return stripe.StripeClient(
        server.sandbox.token, base_addresses={"api": server.url}, max_network_retries=0
    )
