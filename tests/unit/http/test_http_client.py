"""The client itself: configuration, headers, JSON parsing, origin checks, limiter wiring."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest
from http_fakes import TOKEN, ScriptedApi

from connectors._http import (
    USER_AGENT,
    ApiKeyHeader,
    ConcurrencyLimiter,
    ConnectorHttpClient,
    HttpClientConfig,
    shopify_graphql_throttled,
)
from core.errors import ConnectorConfigError

MakeClient = Callable[..., ConnectorHttpClient]


class RecordingLimiter:
    """A RateLimiter that records what it was asked, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def acquire(self, cost: float = 1.0) -> None:
        self.events.append(f"acquire {cost}")

    def observe(self, response: httpx.Response) -> None:
        self.events.append(f"observe {response.status_code}")


def test_every_request_carries_user_agent_accept_auth_and_config_headers(make_client: MakeClient) -> None:
    # GIVEN Klaviyo's setup: prefixed key and a mandatory revision header
    api = ScriptedApi(httpx.Response(200, json={}))
    client = make_client(
        api,
        auth=ApiKeyHeader("Authorization", TOKEN, prefix="Klaviyo-API-Key"),
        headers={"revision": "2024-10-15"},
    )
    # WHEN a GET is made
    client.get_json("/api/profiles")
    # THEN the request has the project's User-Agent, JSON Accept, the auth and the extra header
    sent = api.requests[0]
    assert sent.headers["User-Agent"] == USER_AGENT
    assert USER_AGENT.startswith("profilesync/")
    assert USER_AGENT.endswith("(+https://github.com/profilesync/profilesync)")
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["Authorization"] == f"Klaviyo-API-Key {TOKEN}"
    assert sent.headers["revision"] == "2024-10-15"
    assert str(sent.url) == "https://api.example.com/api/profiles"


def test_base_url_with_a_path_prefix_is_kept(make_client: MakeClient) -> None:
    # GIVEN Mailchimp's versioned base URL WHEN requesting a relative path THEN the prefix stays
    api = ScriptedApi(httpx.Response(200, json={}))
    make_client(api, base_url="https://us6.api.mailchimp.com/3.0").get_json("/lists", params={"count": 10})
    assert str(api.requests[0].url) == "https://us6.api.mailchimp.com/3.0/lists?count=10"


def test_json_can_be_parsed_with_decimal_floats(make_client: MakeClient) -> None:
    # GIVEN an order total WHEN parsed with parse_float=Decimal THEN it stays exact
    api = ScriptedApi(httpx.Response(200, content=b'{"total_price": 19.99}'))
    body = make_client(api).get_json("/orders/1", parse_float=Decimal)
    assert body == {"total_price": Decimal("19.99")}


def test_an_empty_2xx_body_parses_to_none(make_client: MakeClient) -> None:
    # GIVEN a 204 WHEN parsed THEN None, not a retry
    api = ScriptedApi(httpx.Response(204))
    assert make_client(api).exchange_json("DELETE", "/things/1")[1] is None
    assert len(api.requests) == 1


def test_request_returns_the_raw_response(make_client: MakeClient) -> None:
    # GIVEN any 2xx WHEN using request() THEN the httpx.Response comes back unparsed
    api = ScriptedApi(httpx.Response(201, text="created"))
    response = make_client(api).request("PUT", "/things/1", json={"a": 1})
    assert response.status_code == 201
    assert response.text == "created"
    assert api.requests[0].content == b'{"a":1}'


def test_an_absolute_url_to_another_host_is_refused_before_sending(make_client: MakeClient) -> None:
    # GIVEN a next-page link pointing somewhere else WHEN followed THEN the token is not sent there
    api = ScriptedApi(httpx.Response(200, json={}))
    client = make_client(api, auth=ApiKeyHeader("X-Key", TOKEN))
    with pytest.raises(ConnectorConfigError, match=r"refusing to send credentials to https://evil\.example"):
        client.get_json("https://evil.example/api/profiles?page=2")
    assert api.requests == []
    # AND a link on the configured host is followed as given
    client.get_json("https://api.example.com/api/profiles?page[cursor]=abc")
    assert api.requests[0].url.params["page[cursor]"] == "abc"


@pytest.mark.parametrize(
    ("base_url", "fragment"),
    [
        ("http://api.hubapi.com", "must use https"),
        ("ftp://x", r"not an http\(s\) URL"),
        ("api.hubapi.com", "not an"),
    ],
)
def test_config_rejects_unsafe_or_malformed_base_urls(base_url: str, fragment: str) -> None:
    # GIVEN a base URL that would leak tokens or cannot work WHEN configuring THEN a clear error
    with pytest.raises(ConnectorConfigError, match=fragment):
        HttpClientConfig(connector="hubspot", base_url=base_url)


def test_config_allows_plain_http_to_localhost() -> None:
    # GIVEN a local mock server WHEN configuring THEN plain http is fine
    assert HttpClientConfig(connector="hubspot", base_url="http://localhost:4010").base_url.startswith(
        "http:"
    )


def test_limiters_are_acquired_with_the_cost_and_observe_every_response(make_client: MakeClient) -> None:
    # GIVEN two limiters and an API that throttles once
    first, second = RecordingLimiter(), RecordingLimiter()
    api = ScriptedApi(httpx.Response(429), httpx.Response(200, json={}))
    # WHEN a request with cost 42 is made
    make_client(api, limiters=(first, second)).post_json("/graphql.json", json={}, cost=42)
    # THEN each attempt acquires before sending and observes after, the 429 included
    assert first.events == ["acquire 42", "observe 429", "acquire 42", "observe 200"]
    assert second.events == first.events


def test_a_throttled_body_on_a_200_is_retried(make_client: MakeClient) -> None:
    # GIVEN Shopify answering a throttled GraphQL query with HTTP 200 and a THROTTLED error
    throttled = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
    api = ScriptedApi(httpx.Response(200, json=throttled), httpx.Response(200, json={"data": {"shop": {}}}))
    client = make_client(api, is_throttled=shopify_graphql_throttled)
    # WHEN the query is posted THEN the throttled answer is retried, the real one returned
    assert client.post_json("/admin/api/2024-10/graphql.json", json={"query": "{shop{name}}"}) == {
        "data": {"shop": {}}
    }
    assert len(api.requests) == 2


def test_requests_hold_a_concurrency_slot_while_in_flight(make_client: MakeClient) -> None:
    # GIVEN a limit of 2 in flight and a slow API
    in_flight, peak, lock = 0, 0, threading.Lock()
    release = threading.Event()

    def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        release.wait(0.05)
        with lock:
            in_flight -= 1
        return httpx.Response(200, json={})

    client = make_client(slow, concurrency=ConcurrencyLimiter(2))
    # WHEN six threads send at once
    threads = [threading.Thread(target=client.get_json, args=("/things",)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # THEN never more than two were in flight
    assert peak == 2


def test_client_closes_as_a_context_manager(make_client: MakeClient) -> None:
    # GIVEN a client used in a with block WHEN the block ends THEN its pool is closed
    with make_client(ScriptedApi(httpx.Response(200))) as client:
        pass
    with pytest.raises(RuntimeError):
        client.request("GET", "/things")
