"""Typed errors, vendor message extraction and redaction."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors._http import (
    ConnectorAuthError,
    ConnectorRequestError,
    ConnectorUnavailableError,
    describe_vendor_error,
    redact,
    vendor_error_message,
)
from core.errors import ConnectorConfigError, ProfileSyncError, RetryableError


def test_redact_replaces_every_occurrence_longest_first() -> None:
    # GIVEN a text holding a key and a longer header value that contains it
    text = "token=sk_live_abcdef, header=Basic Zm9vOnNrX2xpdmVfYWJjZGVm and again sk_live_abcdef"
    # WHEN redacting both THEN neither survives, and the longer one went whole
    result = redact(text, ["sk_live_abcdef", "Zm9vOnNrX2xpdmVfYWJjZGVm"])
    assert result == "token=***, header=Basic *** and again ***"


def test_redact_leaves_tiny_values_alone() -> None:
    # GIVEN a 2-character "secret" WHEN redacting THEN the message is not mangled
    assert redact("a bad request", ["a", ""]) == "a bad request"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"status": "error", "message": "Property values were not valid", "category": "VALIDATION_ERROR"},
         "Property values were not valid"),
        ({"title": "Invalid Resource", "status": 400, "detail": "Please provide a valid email address.",
          "errors": [{"field": "email_address", "message": "This value should be a valid email."}]},
         "Invalid Resource: Please provide a valid email address.; "
         "email_address: This value should be a valid email."),
        ({"errors": [{"status": 400, "code": "invalid", "title": "Invalid input.",
                      "detail": "'email' is not a valid field for the resource 'profile'."}]},
         "Invalid input.: 'email' is not a valid field for the resource 'profile'."),
        ({"error": {"type": "invalid_request_error", "message": "No such customer: 'cus_123'"}},
         "No such customer: 'cus_123'"),
        ({"errors": {"email": ["has already been taken"]}}, "email: has already been taken"),
        ({"errors": "Not Found"}, "Not Found"),
        ({"errors": [{"message": "Field 'customerz' doesn't exist on type 'QueryRoot'"}]},
         "Field 'customerz' doesn't exist on type 'QueryRoot'"),
    ],
    ids=["hubspot", "mailchimp", "klaviyo", "stripe", "shopify-rest-fields", "shopify-rest", "graphql"],
)  # fmt: skip
def test_vendor_messages_are_found_in_each_vendor_shape(body: Any, expected: str) -> None:
    # GIVEN a vendor's error body WHEN describing it THEN the human message comes out on one line
    assert describe_vendor_error(body) == expected


def test_vendor_message_is_truncated_and_falls_back_to_text() -> None:
    # GIVEN a huge HTML error page WHEN reading the vendor message THEN only the start is kept
    response = httpx.Response(502, text="<html>\n" + "x" * 5000 + "</html>")
    message = vendor_error_message(response, limit=100)
    assert len(message) == 100
    assert message.startswith("<html> xxx")
    assert message.endswith("…")


def test_error_types_sit_on_the_core_hierarchy() -> None:
    # GIVEN the kit's errors THEN auth is a config problem, unavailability is retryable later
    auth = ConnectorAuthError("hubspot", 401, credential_hint="PROFILESYNC_HUBSPOT_TOKEN")
    assert isinstance(auth, ConnectorConfigError)
    assert str(auth) == "hubspot: the API rejected the credentials (401): check PROFILESYNC_HUBSPOT_TOKEN"
    unavailable = ConnectorUnavailableError("stripe", "GET", "/v1/customers", attempts=6, reason="HTTP 503")
    assert isinstance(unavailable, RetryableError)
    assert "stripe: GET /v1/customers failed after 6 attempts (last: HTTP 503)" in str(unavailable)
    rejected = ConnectorRequestError("mailchimp", "PUT", "/3.0/lists/x/members/y", 422, "bad email")
    assert isinstance(rejected, ProfileSyncError)
    assert not isinstance(rejected, RetryableError)
    assert "mailchimp: PUT /3.0/lists/x/members/y was rejected (HTTP 422): bad email" in str(rejected)


def test_403_says_to_check_scopes() -> None:
    # GIVEN a 403 WHEN the error is built THEN it points at the token's scopes
    error = ConnectorAuthError("hubspot", 403, credential_hint="PROFILESYNC_HUBSPOT_TOKEN")
    assert "has the scopes this sync needs" in str(error)
