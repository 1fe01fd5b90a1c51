"""Personal data stays out of logs, errors and run reports: paths, vendor messages, quarantine reasons."""

from __future__ import annotations

import logging

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors._http import ConnectorRequestError, HttpClientConfig, RetryPolicy, build_client
from core.normalise import normalise_record
from core.redaction import reason_kind, redact_path, redact_personal
from core.schema import Quarantined, RecordDraft

LOCAL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=20)
DOMAIN = st.sampled_from(["example.com", "bücher.example", "mail.example.org", "xn--bcher-kva.example"])


@given(local=LOCAL, domain=DOMAIN, route=st.sampled_from(["contacts", "members", "customers"]))
def test_a_path_that_names_a_person_keeps_its_shape_and_loses_the_value(
    local: str, domain: str, route: str
) -> None:
    email = f"{local}@{domain}"
    # WHEN a path addresses a record by email, by percent-encoded email or by id
    for path in (f"/crm/v3/objects/{route}/{email}", f"/v3/{route}/{email.replace('@', '%40')}"):
        redacted = redact_path(path + "?idProperty=email")
        # THEN the route is still readable, and nothing of the value or the query is left
        assert redacted == path.rsplit("/", 1)[0] + "/{id}"
        assert "@" not in redacted
        assert "%40" not in redacted


def test_api_versions_and_words_survive_and_ids_do_not() -> None:
    assert redact_path("/admin/api/2026-01/graphql.json") == "/admin/api/2026-01/graphql.json"
    assert redact_path("/crm/v3/objects/contacts/gdpr-delete") == "/crm/v3/objects/contacts/gdpr-delete"
    assert redact_path("/3.0/lists/9e67587f52/members/5f1a/actions/delete-permanent") == (
        "/3.0/lists/{id}/members/{id}/actions/delete-permanent"
    )
    assert redact_path("/v1/customers/cus_Sbx0000000001") == "/v1/customers/{id}"
    assert redact_path("/crm/v3/objects/contacts/123") == "/crm/v3/objects/contacts/{id}"


@given(local=LOCAL, domain=DOMAIN)
def test_addresses_and_phone_numbers_are_taken_out_of_free_text(local: str, domain: str) -> None:
    text = f"Contact with email {local}@{domain} already exists; call +44 20 7946 0018 (HTTP 409)"
    redacted = redact_personal(text)
    assert f"{local}@" not in redacted
    assert "7946" not in redacted
    assert "HTTP 409" in redacted


def test_dates_and_short_numbers_are_not_taken_for_phone_numbers() -> None:
    text = "updated 2026-01-05T10:00:00Z, 25 requests per second, HTTP 429"
    assert redact_personal(text) == text


@pytest.mark.parametrize(
    "draft",
    [
        RecordDraft(source="crm", source_id="1", updated_at="2026-01-01", emails=["tariq.haddad51@"]),
        RecordDraft(source="crm", source_id="2", updated_at="yesterday-ish", emails=["ann@example.com"]),
        RecordDraft(source="crm", source_id="3", updated_at="2026-01-01", phones=["o'neil 12"]),
    ],
)
def test_a_quarantine_reason_keeps_its_kind_and_loses_the_values_it_quotes(draft: RecordDraft) -> None:
    # GIVEN a record quarantined for a value of the person
    outcome = normalise_record(draft)
    assert isinstance(outcome, Quarantined)
    # WHEN its reason is counted for a report
    kind = reason_kind(outcome.reason)
    # THEN no raw value remains, and the reason still says what was wrong
    for value in (*draft.emails, *draft.phones, str(draft.updated_at)):
        assert value not in kind
    assert kind.split(":")[0] == outcome.reason.split(":")[0]


def test_retry_warnings_and_errors_of_the_http_layer_never_quote_an_address(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a vendor that answers a lookup by email with 503 twice, then 409 quoting the address
    answers = iter([503, 503, 409])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(answers)
        return httpx.Response(
            status, json={"message": "Contact ann.lee@example.com (+44 20 7946 0018) exists"}
        )

    config = HttpClientConfig(
        connector="hubspot",
        base_url="https://api.hubapi.com",
        retry=RetryPolicy(max_attempts=3, sleep=lambda _: None),
    )
    client = build_client(config, httpx.MockTransport(handler))
    # WHEN the lookup is retried and then rejected
    with caplog.at_level(logging.WARNING), pytest.raises(ConnectorRequestError) as raised:
        client.get_json("/crm/v3/objects/contacts/ann.lee@example.com", params={"idProperty": "email"})
    # THEN neither the retry warnings nor the error name the person, and both name the route
    text = caplog.text + str(raised.value)
    assert "ann.lee" not in text
    assert "7946" not in text
    assert "/crm/v3/objects/contacts/{id}" in caplog.text
    assert "/crm/v3/objects/contacts/{id}" in str(raised.value)
