"""Fixtures for the HTTP kit tests: a fake clock, and clients on a MockTransport that never really sleep."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from http_fakes import FakeClock

from connectors._http import ConnectorHttpClient, HttpClientConfig, RetryPolicy, build_client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_client(clock: FakeClock) -> Callable[..., ConnectorHttpClient]:
    """Build a client on a MockTransport whose retries sleep on the fake clock (so nothing really waits)."""

    def make(handler: Callable[[httpx.Request], httpx.Response], **overrides: Any) -> ConnectorHttpClient:
        policy_overrides = overrides.pop("retry", {})
        policy = RetryPolicy(
            sleep=clock.sleep,
            jitter=random.Random(7).random,
            wall_clock=lambda: 1_700_000_000.0,
            **policy_overrides,
        )
        config = HttpClientConfig(
            connector=overrides.pop("connector", "hubspot"),
            base_url=overrides.pop("base_url", "https://api.example.com"),
            retry=policy,
            **overrides,
        )
        return build_client(config, transport=httpx.MockTransport(handler))

    return make
