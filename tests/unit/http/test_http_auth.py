"""Auth flows, driven directly as generators: no client, no network."""

from __future__ import annotations

import base64

import httpx
import pytest

from connectors._http import ApiKeyHeader, BasicAuthKey, BasicAuthPair, BearerToken, CarriesSecrets, Secret
from core.errors import ConnectorConfigError

KEY = "shpat_0123456789abcdef0123456789abcdef"


def _drive(auth: httpx.Auth) -> httpx.Request:
    """Run one auth flow to completion and return the request it sent."""
    flow = auth.auth_flow(httpx.Request("GET", "https://api.example.com/things"))
    sent = next(flow)
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200))
    return sent


def test_bearer_token_sets_the_authorization_header() -> None:
    # GIVEN a bearer token WHEN its flow runs THEN the one request carries "Bearer <token>"
    sent = _drive(BearerToken(KEY))
    assert sent.headers["Authorization"] == f"Bearer {KEY}"


def test_api_key_header_without_prefix_is_the_raw_key() -> None:
    # GIVEN Shopify's style of key header WHEN the flow runs THEN the header holds exactly the key
    sent = _drive(ApiKeyHeader("X-Shopify-Access-Token", KEY))
    assert sent.headers["X-Shopify-Access-Token"] == KEY
    assert "Authorization" not in sent.headers


def test_api_key_header_with_prefix_puts_one_space_between() -> None:
    # GIVEN Klaviyo's scheme word WHEN the flow runs THEN it is "Klaviyo-API-Key <key>"
    sent = _drive(ApiKeyHeader("Authorization", KEY, prefix="Klaviyo-API-Key"))
    assert sent.headers["Authorization"] == f"Klaviyo-API-Key {KEY}"


def test_basic_auth_key_sends_any_user_with_the_key_as_password() -> None:
    # GIVEN Mailchimp's Basic auth (any user name, API key as password)
    sent = _drive(BasicAuthKey("anystring", "abc123def456-us6"))
    # WHEN the header is decoded THEN it is user:key
    scheme, _, encoded = sent.headers["Authorization"].partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == "anystring:abc123def456-us6"


@pytest.mark.parametrize(
    "auth",
    [
        BearerToken(KEY),
        ApiKeyHeader("X-Shopify-Access-Token", KEY),
        ApiKeyHeader("Authorization", KEY, prefix="Klaviyo-API-Key"),
        BasicAuthKey("anystring", KEY),
    ],
    ids=["bearer", "header", "prefixed-header", "basic"],
)
def test_repr_and_str_never_show_the_secret(auth: httpx.Auth) -> None:
    # GIVEN any auth built from a key WHEN it is printed or logged THEN the key does not appear
    assert KEY not in repr(auth)
    assert KEY not in str(auth)
    assert "***" in repr(auth)
    # AND it can list its secrets for redaction
    assert isinstance(auth, CarriesSecrets)
    assert KEY in auth.secret_values()


def test_basic_auth_lists_the_encoded_header_as_a_secret_too() -> None:
    # GIVEN a Basic auth WHEN asked for its secrets THEN the base64 header value is among them
    auth = BasicAuthKey("anystring", KEY)
    encoded = base64.b64encode(f"anystring:{KEY}".encode()).decode()
    assert encoded in auth.secret_values()


def test_auth_accepts_a_secret_wrapper() -> None:
    # GIVEN a Secret (prints as ***) WHEN used for a bearer token THEN the real value is sent
    sent = _drive(BearerToken(Secret(KEY)))
    assert sent.headers["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("blank", ["", "   ", Secret("")])
def test_an_empty_credential_is_a_config_error(blank: str | Secret) -> None:
    # GIVEN an empty credential WHEN building the auth THEN it fails now, not at the first 401
    with pytest.raises(ConnectorConfigError, match="empty"):
        BearerToken(blank)


def test_a_key_pair_goes_as_basic_user_and_password_and_every_half_is_redacted() -> None:
    # GIVEN WooCommerce REST API keys held as one "consumer_key:consumer_secret" secret
    pair = "ck_0123456789abcdef0123456789abcdef01234567:cs_76543210fedcba9876543210fedcba9876543210"
    auth = BasicAuthPair(pair)
    # WHEN its flow runs THEN the key is the user name and the secret the password
    sent = _drive(auth)
    user, _, password = (
        base64.b64decode(sent.headers["Authorization"].removeprefix("Basic ")).decode().partition(":")
    )
    assert (user, password) == tuple(pair.split(":"))
    assert isinstance(auth, CarriesSecrets)
    assert {pair, user, password} <= set(auth.secret_values())
    assert "ck_" not in repr(auth)


def test_a_pair_without_a_colon_is_sent_with_an_empty_password_for_the_api_to_refuse() -> None:
    sent = _drive(BasicAuthPair("ck_only"))
    assert base64.b64decode(sent.headers["Authorization"].removeprefix("Basic ")) == b"ck_only:"
