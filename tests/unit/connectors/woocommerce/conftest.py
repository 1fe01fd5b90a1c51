"""Fixtures for the WooCommerce tests: a sandbox whose host allows plenty of requests (the real pace
is measured in bench/woocommerce_efficiency.py), a connector wired to it, and the vendor fixtures."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors._http import RetryPolicy
from connectors.woocommerce import PLUGIN, WooCommerceConnector, WooCommerceSandbox

FIXTURES = Path(__file__).resolve().parents[4] / "connectors" / "woocommerce" / "fixtures"
FAST = 5000


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture
def sandbox() -> WooCommerceSandbox:
    return WooCommerceSandbox(people=60, seed=7, requests_per_10s=FAST)


@pytest.fixture
def waits() -> list[float]:
    return []


def connect(
    sandbox: WooCommerceSandbox, waits: list[float] | None = None, **options: str
) -> WooCommerceConnector:
    retry = RetryPolicy(
        max_attempts=6,
        backoff_floor=0.01,
        backoff_cap=0.05,
        sleep=(waits if waits is not None else []).append,
    )
    settings = sandbox.settings()
    settings = dataclasses.replace(settings, retry=retry, options={**settings.options, **options})
    connector = PLUGIN.build(settings)
    assert isinstance(connector, WooCommerceConnector)
    return connector


@pytest.fixture
def woo(sandbox: WooCommerceSandbox, waits: list[float]) -> Iterator[WooCommerceConnector]:
    connector = connect(sandbox, waits)
    try:
        yield connector
    finally:
        connector.close()
