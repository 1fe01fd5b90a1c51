"""Stripe's ``page_size`` option: the customers and charges a list request asks for (``limit``, 1 to
100, https://docs.stripe.com/api/pagination); the connector asked for 100 and no other."""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.stripe import PLUGIN, make_sandbox
from core.connector import ConnectorSettings
from core.errors import ConnectorConfigError
from tests.unit.connectors.deadline import within


@pytest.mark.parametrize("size", [1, 7])
def test_an_instance_lists_customers_and_charges_in_pages_of_its_option(size: int) -> None:
    # GIVEN an account of a few dozen customers and their charges, and an instance asking for pages of
    # ``size`` (1: the smallest)
    sandbox = make_sandbox(people=30, seed=5, requests_per_second=10_000, page_size=size)
    asked: list[tuple[str, str]] = []
    inner = sandbox.transport()

    def recording(request: httpx.Request) -> httpx.Response:
        query = parse_qs(urlsplit(str(request.url)).query)
        asked.append((request.url.path, query.get("limit", [""])[0]))
        return inner.handle_request(request)

    settings = sandbox.settings(transport=False)
    settings = ConnectorSettings(
        credentials=settings.credentials, options=settings.options, transport=httpx.MockTransport(recording)
    )
    with PLUGIN.build(settings) as connector:
        # WHEN it pulls everything (to the end: a walk that makes no progress is stopped after 60 s)
        with within(60):
            pages = list(connector.pull(None))
        drafts = [d for page in pages for d in connector.to_records(page)]
    # THEN every customer and charge comes once, the lists asked ``size`` at a time (the events 100)
    keys = Counter(f"{d.object_type}:{d.source_id}" for d in drafts if not d.deleted)
    assert set(keys) == sandbox.record_keys()
    assert set(keys.values()) == {1}
    lists = {limit for path, limit in asked if path in ("/v1/customers", "/v1/charges")}
    assert lists == {str(size)}
    assert {limit for path, limit in asked if path == "/v1/events"} == {"100"}
    customers = sum(1 for k in keys if k.startswith("customer:"))
    assert sum(1 for path, _ in asked if path == "/v1/customers") >= customers / size


@pytest.mark.parametrize("size", ["0", "101", "many", "²"])
def test_a_page_size_outside_stripe_s_limit_is_refused(size: str) -> None:
    with pytest.raises(ConnectorConfigError, match="page_size must be a whole number from 1 to 100"):
        PLUGIN.build(ConnectorSettings(options={"page_size": size}))
