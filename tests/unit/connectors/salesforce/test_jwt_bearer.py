"""The JWT bearer flow of a Salesforce connected app (its certificate's key signs the assertion) next
to client credentials: the sandbox's token endpoint verifies the signature and the claims, as
Salesforce does, and the connector pulls with the session it gets."""

from __future__ import annotations

import base64
import dataclasses
import json
import time
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from connectors._http import ConnectorAuthError, OAuthJwtBearer
from connectors._http._jwt_bearer import JWT_BEARER_GRANT, b64url, load_private_key, sign_assertion
from connectors.salesforce import PLUGIN
from connectors.salesforce._sandbox_jwt import ConnectedAppCertificate
from core.errors import ConnectorConfigError
from tests.unit.connectors.salesforce.conftest import RecordingSandbox


def _assertion(sandbox: RecordingSandbox, **claims: Any) -> str:
    key = load_private_key(sandbox.certificate().private_key_pem())
    base = {
        "iss": sandbox.client_id,
        "sub": sandbox.jwt_username,
        "aud": "https://login.salesforce.com",
        "exp": int(time.time()) + 120,
    }
    return sign_assertion(key, {**base, **claims})


def _token(sandbox: RecordingSandbox, assertion: str, grant: str = JWT_BEARER_GRANT) -> httpx.Response:
    request = httpx.Request(
        "POST",
        "https://mydomainname.my.salesforce.com/services/oauth2/token",
        data={"grant_type": grant, "assertion": assertion},
    )
    return sandbox.handle(request)


def test_a_connector_with_auth_flow_jwt_bearer_pulls_with_a_signed_assertion(
    sandbox: RecordingSandbox,
) -> None:
    # GIVEN an instance set to the JWT bearer flow: consumer key, the certificate's key, the user
    connector = PLUGIN.build(sandbox.jwt_settings())
    # WHEN it pulls
    drafts = [d for p in connector.pull(None) for d in connector.to_records(p) if not d.deleted]
    # THEN every record comes, through one token request carrying a signed assertion (no secret)
    assert {f"{d.object_type}:{d.source_id}" for d in drafts} == sandbox.record_keys()
    (token,) = sandbox.calls("POST", "/services/oauth2/token")
    form = {k: v[0] for k, v in parse_qs(token.content.decode()).items()}
    assert set(form) == {"grant_type", "assertion"}
    assert form["grant_type"] == JWT_BEARER_GRANT
    _, claims, _ = form["assertion"].split(".")
    payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert payload["iss"] == sandbox.client_id
    assert payload["sub"] == sandbox.jwt_username
    assert payload["aud"] == "https://login.salesforce.com"
    assert 0 < payload["exp"] - time.time() <= 180


def test_an_expired_session_is_renewed_with_a_fresh_assertion(sandbox: RecordingSandbox) -> None:
    connector = PLUGIN.build(sandbox.jwt_settings())
    list(connector.pull(None))
    sandbox.expire_sessions()
    # WHEN the session ends and the connector pulls again THEN it asks for a new token and goes on
    assert list(connector.pull(None))
    assert len(sandbox.calls("POST", "/services/oauth2/token")) == 2


@pytest.mark.parametrize(
    ("claims", "error", "description"),
    [
        ({"iss": "someone else's consumer key"}, "invalid_client_id", "client identifier invalid"),
        ({"aud": "https://evil.example.com"}, "invalid_grant", "audience is invalid"),
        ({"exp": int(time.time()) - 5}, "invalid_grant", "expired authorization code"),
        ({"exp": int(time.time()) + 3600}, "invalid_grant", "invalid assertion"),
        ({"sub": "intern@profilesync.example"}, "invalid_grant", "user hasn't approved this consumer"),
    ],
)
def test_the_token_endpoint_checks_each_claim(
    sandbox: RecordingSandbox, claims: dict[str, Any], error: str, description: str
) -> None:
    response = _token(sandbox, _assertion(sandbox, **claims))
    assert response.status_code == 400
    assert response.json() == {"error": error, "error_description": description}


def test_an_assertion_signed_by_another_key_or_altered_is_refused(sandbox: RecordingSandbox) -> None:
    # GIVEN a valid assertion, one signed with a key the app has no certificate for, and one altered
    good = _assertion(sandbox)
    other = load_private_key(ConnectedAppCertificate().private_key_pem())
    claims = {"iss": sandbox.client_id, "sub": sandbox.jwt_username, "aud": "https://login.salesforce.com"}
    forged = sign_assertion(other, {**claims, "exp": int(time.time()) + 60})
    head, _, signature = good.split(".")
    altered = f"{head}.{b64url(json.dumps({**claims, 'sub': 'admin@x'}).encode())}.{signature}"
    # THEN only the good one gets a session
    assert _token(sandbox, good).status_code == 200
    for refused in (forged, altered, "not.a.jwt", ""):
        answer = _token(sandbox, refused)
        assert (answer.status_code, answer.json()["error"]) == (400, "invalid_grant")


def test_a_refused_assertion_stops_the_pull_at_once_naming_what_to_check(sandbox: RecordingSandbox) -> None:
    # GIVEN the JWT settings with a user the app is not pre-authorized for
    settings = sandbox.jwt_settings()
    settings = dataclasses.replace(settings, options={**settings.options, "username": "nobody@example.com"})
    pem = settings.credentials["salesforce_private_key"]
    # WHEN it pulls THEN the error names the settings and Salesforce's reason, never the key
    with pytest.raises(ConnectorAuthError) as caught:
        list(PLUGIN.build(settings).pull(None))
    message = str(caught.value)
    assert "PROFILESYNC_SALESFORCE_PRIVATE_KEY" in message
    assert "user hasn't approved this consumer" in message
    assert pem.splitlines()[1] not in message


def test_bad_jwt_settings_are_refused_before_any_call(sandbox: RecordingSandbox) -> None:
    settings = sandbox.jwt_settings()
    no_user = dataclasses.replace(settings, options={**settings.options, "username": ""})
    with pytest.raises(ConnectorConfigError, match="username"):
        PLUGIN.build(no_user)
    unknown = dataclasses.replace(settings, options={**settings.options, "auth_flow": "password"})
    with pytest.raises(ConnectorConfigError, match="auth_flow"):
        PLUGIN.build(unknown)
    not_a_key = dataclasses.replace(
        settings, credentials={**settings.credentials, "salesforce_private_key": "-----BEGIN nonsense"}
    )
    with pytest.raises(ConnectorConfigError, match="no PEM private key"):
        PLUGIN.build(not_a_key)
    assert sandbox.exchanges == []


def test_the_auth_repr_and_secret_values_hide_and_cover_the_key(sandbox: RecordingSandbox) -> None:
    pem = sandbox.certificate().private_key_pem()
    auth = OAuthJwtBearer(
        "https://x/services/oauth2/token",
        "consumer-key",
        pem,
        username="u@example.com",
        audience="https://login.salesforce.com",
        connector="salesforce",
        credential_hint="",
    )
    assert "BEGIN" not in repr(auth)
    assert "consumer-key" not in repr(auth)
    assert pem.strip() in auth.secret_values()
