"""The sandbox's ``GET /v1/events`` filters and retention, as Stripe's API reference describes them
(https://docs.stripe.com/api/events/list): ``type`` (with ``*``), ``types[]`` (up to 20, not with
``type``), and "going back up to 30 days" when ``event_retention`` is set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connectors.stripe import make_sandbox
from connectors.stripe._sandbox import StripeSandbox
from connectors.stripe._sandbox_events import RETENTION

AT = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _events(sandbox: StripeSandbox, query: str) -> httpx.Response:
    with httpx.Client(transport=sandbox.transport(), base_url="https://api.stripe.com") as http:
        return http.get(f"/v1/events?{query}", headers={"Authorization": f"Bearer {sandbox.token}"})


def _types(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return [e["type"] for e in body["data"]]


@pytest.fixture
def sandbox() -> StripeSandbox:
    sandbox = make_sandbox(people=30, seed=3, requests_per_second=10_000)
    customers = sorted(k for k in sandbox.record_keys() if k.startswith("customer:"))
    charge = sorted(k for k in sandbox.record_keys() if k.startswith("charge:"))[0]
    sandbox.touch({customers[0]}, at=AT)
    sandbox.touch({charge}, at=AT + timedelta(seconds=1))
    sandbox.delete_records({customers[1]}, at=AT + timedelta(seconds=2))
    return sandbox


def test_types_in_either_spelling_return_those_types_only(sandbox: StripeSandbox) -> None:
    both = ["customer.deleted", "customer.updated"]
    assert _types(_events(sandbox, "types[]=customer.updated&types[]=customer.deleted")) == both
    assert _types(_events(sandbox, "types[0]=customer.updated&types[1]=customer.deleted")) == both
    assert _types(_events(sandbox, "types[0]=charge.refunded")) == ["charge.refunded"]


def test_type_takes_a_wildcard(sandbox: StripeSandbox) -> None:
    assert _types(_events(sandbox, "type=customer.*")) == ["customer.deleted", "customer.updated"]
    assert _types(_events(sandbox, "type=customer.updated")) == ["customer.updated"]


@pytest.mark.parametrize(
    "query",
    ["type=customer.updated&types[]=customer.deleted", "&".join(f"types[]=t{n}" for n in range(21))],
)
def test_type_with_types_or_more_than_twenty_types_is_refused(sandbox: StripeSandbox, query: str) -> None:
    answer = _events(sandbox, query)
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == "types"


def test_events_older_than_the_retention_are_gone(sandbox: StripeSandbox) -> None:
    # GIVEN an account that keeps events 30 days, as Stripe does
    sandbox.event_retention = RETENTION
    # WHEN Stripe's clock is 30 days after the refund (the rename is a second older than that)
    sandbox.clock.set(AT + timedelta(seconds=1) + RETENTION)
    # THEN the rename is no longer listed
    assert _types(_events(sandbox, "limit=100")) == ["customer.deleted", "charge.refunded"]
