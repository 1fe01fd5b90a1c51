"""Library log lines keep no personal data: httpx's request line, urllib3's, botocore's bodies."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import httpx
import pytest

from core.log_privacy import keep_personal_data_out_of_library_logs, redact_logged_value


@pytest.fixture
def root_at_debug() -> Iterator[io.StringIO]:
    """The root logger at DEBUG with a handler of its own, as Lambda's runtime gives it one."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def test_the_http_library_logs_the_route_of_a_request_not_the_address_in_it(
    root_at_debug: io.StringIO,
) -> None:
    keep_personal_data_out_of_library_logs()
    transport = httpx.MockTransport(lambda request: httpx.Response(404))
    # WHEN requests that name people in the path and in the query are sent through httpx
    with httpx.Client(transport=transport) as client:
        client.get("https://api.hubapi.com/crm/v3/objects/contacts/Ann.Lee@example.com?idProperty=email")
        client.get("https://api.stripe.com/v1/customers", params={"email": "ann.lee@example.com"})
        client.get(
            "https://a.klaviyo.com/api/profiles", params={"filter": 'equals(phone_number,"+442079460018")'}
        )
    text = root_at_debug.getvalue()
    # THEN each request is still logged, by route, and no address or number is
    assert "HTTP Request: GET https://api.hubapi.com/crm/v3/objects/contacts/{id}" in text
    assert text.count("HTTP Request") == 3
    assert "ann.lee" not in text.lower()
    assert "7946" not in text


def test_the_aws_sdk_logs_no_body_even_when_the_root_logger_is_at_debug(root_at_debug: io.StringIO) -> None:
    keep_personal_data_out_of_library_logs()
    # WHEN botocore logs a request's parameters and a response's body, as it does at DEBUG
    logging.getLogger("botocore.endpoint").debug(
        "Making request with params: %s", {"email": "ann@example.com"}
    )
    logging.getLogger("botocore.parsers").debug("Response body:\n%s", b'{"email": "ann@example.com"}')
    logging.getLogger("botocore.credentials").info("Found credentials in environment variables.")
    # THEN neither reaches the log; botocore's INFO lines still do
    text = root_at_debug.getvalue()
    assert "ann@example.com" not in text
    assert "Found credentials" in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "https://api.hubapi.com/crm/v3/objects/contacts/ann@example.com?x=1",
            "https://api.hubapi.com/crm/v3/objects/contacts/{id}",
        ),
        ("/3.0/lists/a1b2c3/members/f995149aa33bcba6a07112ab90e45058", "/3.0/lists/{id}/members/{id}"),
        ("call +44 20 7946 0018", "call <number>"),
        (404, 404),
        ("HTTP/1.1", "HTTP/1.1"),
    ],
)
def test_a_logged_value_keeps_its_shape_without_the_person(value: object, expected: object) -> None:
    assert redact_logged_value(value) == expected
