"""Retries through the client: what is retried, how long it waits, and what it raises when done.

Every test runs on a MockTransport and a fake sleep, so the recorded sleeps are the waits a real run
would have made.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from http_fakes import TOKEN, FakeClock, ScriptedApi

from connectors._http import (
    BearerToken,
    ConnectorAuthError,
    ConnectorHttpClient,
    ConnectorRequestError,
    ConnectorUnavailableError,
    RetryPolicy,
    parse_retry_after,
)
from core.errors import RetryableError

MakeClient = Callable[..., ConnectorHttpClient]

OK = httpx.Response(200, json={"ok": True})


def test_429_with_retry_after_waits_exactly_that_long(make_client: MakeClient, clock: FakeClock) -> None:
    # GIVEN an API that throttles once and asks for 2 seconds
    api = ScriptedApi(httpx.Response(429, headers={"Retry-After": "2"}), OK)
    # WHEN a GET is made
    body = make_client(api).get_json("/things")
    # THEN the client slept 2 s once and then succeeded
    assert body == {"ok": True}
    assert clock.sleeps == [2.0]
    assert len(api.requests) == 2


def test_retry_after_as_http_date_is_honoured(make_client: MakeClient, clock: FakeClock) -> None:
    # GIVEN a Retry-After HTTP-date 5 s after the (fake) wall clock's now, 1 700 000 000
    api = ScriptedApi(httpx.Response(503, headers={"Retry-After": "Tue, 14 Nov 2023 22:13:25 GMT"}), OK)
    # WHEN a GET is made THEN the client waits those 5 s
    make_client(api).get_json("/things")
    assert clock.sleeps == [pytest.approx(5.0)]


@pytest.mark.parametrize("headers", [{"Retry-After": "0"}, {}], ids=["retry-after-0", "no-retry-after"])
def test_without_a_usable_retry_after_backoff_has_a_floor_and_grows(
    make_client: MakeClient, clock: FakeClock, headers: dict[str, str]
) -> None:
    # GIVEN an API that throttles four times without a usable hint
    api = ScriptedApi(*[httpx.Response(429, headers=headers)] * 4, OK)
    # WHEN a GET is made
    make_client(api).get_json("/things")
    # THEN there were four waits, none below the floor, each longer than the one before: no tight loop
    assert len(clock.sleeps) == 4
    assert min(clock.sleeps) >= 0.2
    assert all(later > earlier for earlier, later in zip(clock.sleeps, clock.sleeps[1:], strict=False))


def test_backoff_is_capped() -> None:
    # GIVEN the default policy WHEN asking for the wait after many attempts THEN it never exceeds 30 s
    policy = RetryPolicy(jitter=lambda: 0.999)
    assert policy.backoff(1) == pytest.approx(0.3998)
    assert policy.backoff(40) == 30.0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_then_succeed(
    make_client: MakeClient, clock: FakeClock, status: int
) -> None:
    # GIVEN a server hiccup twice WHEN a GET is made THEN it is retried and succeeds
    api = ScriptedApi(httpx.Response(status), httpx.Response(status), OK)
    assert make_client(api).get_json("/things") == {"ok": True}
    assert len(api.requests) == 3
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize(
    "error",
    [
        httpx.ReadTimeout("read timed out"),
        httpx.ConnectTimeout("connect timed out"),
        httpx.ConnectError("connection refused"),
        httpx.RemoteProtocolError("peer closed connection without sending complete message body"),
        httpx.ReadError("connection reset by peer"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_network_failures_are_retried_then_succeed(make_client: MakeClient, error: Exception) -> None:
    # GIVEN a network failure once WHEN a GET is made THEN the second attempt's answer is returned
    api = ScriptedApi(error, OK)
    assert make_client(api).get_json("/things") == {"ok": True}
    assert len(api.requests) == 2


def test_truncated_json_on_a_200_is_retried(make_client: MakeClient) -> None:
    # GIVEN a 200 whose body was cut mid-JSON, then a whole one
    api = ScriptedApi(
        httpx.Response(200, content=b'{"results": [{"id": "1"}, {"id'),
        httpx.Response(200, json={"results": []}),
    )
    # WHEN parsing THEN the cut body is retried, not returned and not raised
    assert make_client(api).get_json("/things") == {"results": []}
    assert len(api.requests) == 2


def test_exhausted_retries_raise_unavailable_naming_connector_request_and_status(
    make_client: MakeClient, clock: FakeClock
) -> None:
    # GIVEN an API that is down for good, and a key passed in the query string
    api = ScriptedApi(httpx.Response(503, json={"message": "Service Unavailable"}))
    client = make_client(api, retry={"max_attempts": 4})
    # WHEN a GET is made
    with pytest.raises(ConnectorUnavailableError) as caught:
        client.get_json("/v1/things", params={"api_key": "query-secret-123"})
    # THEN exactly max_attempts requests were sent, with a wait between each
    assert len(api.requests) == 4
    assert len(clock.sleeps) == 3
    # AND the error names the connector, the request without its query string, and the last status
    message = str(caught.value)
    assert message.startswith(
        "hubspot: GET /v1/things failed after 4 attempts (last: HTTP 503: Service Unavailable)"
    )
    assert "query-secret-123" not in message
    assert caught.value.last_status == 503
    assert isinstance(caught.value, RetryableError)


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_raise_at_once_without_the_token(
    make_client: MakeClient, clock: FakeClock, status: int
) -> None:
    # GIVEN an API refusing the token, and (badly) echoing it back in the body
    api = ScriptedApi(
        httpx.Response(status, json={"message": f"Authentication credentials not valid: {TOKEN}"})
    )
    client = make_client(api, auth=BearerToken(TOKEN), credential_name="hubspot_token")
    # WHEN a GET is made
    with pytest.raises(ConnectorAuthError) as caught:
        client.get_json("/crm/v3/objects/contacts")
    # THEN one request only, no sleep, and a message naming what to fix but never the token
    assert len(api.requests) == 1
    assert clock.sleeps == []
    message = str(caught.value)
    assert message.startswith("hubspot: the API re")
    assert f"({status}): check PROFILESYNC_HUBSPOT_TOKEN" in message
    assert TOKEN not in message
    assert "Authentication credentials not valid: ***" in message


@pytest.mark.parametrize("status", [400, 404, 409, 422])
def test_client_errors_raise_request_error_with_the_vendor_message_and_no_retry(
    make_client: MakeClient, clock: FakeClock, status: int
) -> None:
    # GIVEN an API rejecting the data
    api = ScriptedApi(
        httpx.Response(status, json={"status": "error", "message": "Property values were not valid"})
    )
    # WHEN a POST is made
    with pytest.raises(ConnectorRequestError) as caught:
        make_client(api).post_json("/crm/v3/objects/contacts", json={"properties": {}})
    # THEN exactly one request, and the vendor's message is in the error
    assert len(api.requests) == 1
    assert clock.sleeps == []
    assert caught.value.status == status
    assert "Property values were not valid" in str(caught.value)
    assert "hubspot: POST /crm/v3/objects/contacts was rejected" in str(caught.value)


def test_a_non_idempotent_post_is_not_resent_after_an_ambiguous_failure(make_client: MakeClient) -> None:
    # GIVEN a POST that may have created the object before the gateway failed
    api = ScriptedApi(httpx.Response(502), OK)
    # WHEN it is posted THEN it is not sent twice, and the error says how to allow retries
    with pytest.raises(ConnectorUnavailableError, match=r"pass idempotent=True") as caught:
        make_client(api).post_json("/crm/v3/objects/contacts", json={})
    assert len(api.requests) == 1
    assert caught.value.attempts == 1


def test_a_post_is_resent_when_the_server_did_not_process_it(make_client: MakeClient) -> None:
    # GIVEN a POST answered with 429 (refused before processing) WHEN posted THEN it is retried
    api = ScriptedApi(httpx.Response(429), OK)
    assert make_client(api).post_json("/crm/v3/objects/contacts", json={}) == {"ok": True}
    assert len(api.requests) == 2


def test_an_idempotent_post_is_retried_after_a_timeout(make_client: MakeClient) -> None:
    # GIVEN a read-only POST (a search) that timed out once WHEN marked idempotent THEN it is retried
    api = ScriptedApi(httpx.ReadTimeout("read timed out"), OK)
    result = make_client(api).post_json("/crm/v3/objects/contacts/search", json={}, idempotent=True)
    assert result == {"ok": True}


def test_a_retry_after_beyond_the_limit_gives_up_at_once(make_client: MakeClient, clock: FakeClock) -> None:
    # GIVEN HubSpot's daily limit: come back in an hour
    api = ScriptedApi(httpx.Response(429, headers={"Retry-After": "3600"}), OK)
    # WHEN a GET is made THEN no hour-long sleep, but an error the orchestrator can reschedule
    with pytest.raises(ConnectorUnavailableError, match=r"asked to wait 3600 s"):
        make_client(api).get_json("/things")
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [("2", 2.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0), ("", None), (None, None), ("soon", None),
     ("Tue, 14 Nov 2023 22:13:25 GMT", 5.0), ("Mon, 13 Nov 2023 00:00:00 GMT", 0.0)],
)  # fmt: skip
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    # GIVEN a Retry-After value WHEN parsed at Unix time 1 700 000 000 THEN seconds to wait, or None
    assert parse_retry_after(header, now=1_700_000_000.0) == expected


def test_policy_refuses_to_retry_client_errors() -> None:
    # GIVEN a policy told to retry 404 THEN it refuses: a 404 fails the same way every time
    with pytest.raises(ValueError, match="must not include"):
        RetryPolicy(retry_statuses=frozenset({404, 503}))
