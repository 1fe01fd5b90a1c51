"""OAuth 2.0 client credentials grant (RFC 6749, section 4.4) as an httpx auth flow.

The flow asks the token endpoint for an access token before the first request, sends it as a bearer
token, and asks for a new one once when the API answers 401 (the token expired or was revoked:
Salesforce answers ``[{"errorCode": "INVALID_SESSION_ID"}]``). A second 401 with a fresh token is
the API's final word and reaches the client, which raises ``ConnectorAuthError``.

The token request goes through the same transport as the API request (so tests and sandboxes see it)
but outside the client's limiters and retries: an answer of 5xx or 429 from the token endpoint is
handed back as the response, and the client retries the whole request (fetching a token again). A
400 or 401 from the token endpoint (or any OAuth error answer) means the client id or secret is
wrong: that raises ``ConnectorAuthError`` at once, naming the settings to check and never the secrets.

Tokens are shared by every request of one auth object (one connector instance holds one); two
threads that find no token may both fetch one, which the vendor allows, rather than one waiting on a
lock held across a network call.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Generator, Mapping

import httpx

from ._errors import ConnectorAuthError, describe_vendor_error, redact


class OAuthClientCredentials(httpx.Auth):
    """Bearer tokens from ``token_url`` for a client id and secret, renewed once on a 401."""

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        connector: str,
        credential_hint: str,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        self.token_url = token_url
        self._client_id = client_id.strip()
        self._client_secret = client_secret.strip()
        self._connector = connector
        self._hint = credential_hint
        self._extra = dict(extra or {})
        self._lock = threading.Lock()
        self._token: str | None = None
        self.instance_url: str | None = None
        """The ``instance_url`` of the last token answer, when the vendor sends one (Salesforce)."""
        self.fetches = 0
        """How many tokens this auth has asked for (tests and metrics)."""

    def secret_values(self) -> tuple[str, ...]:
        with self._lock:
            token = self._token
        return tuple(v for v in (self._client_secret, self._client_id, token) if v)

    def __repr__(self) -> str:
        return f"OAuthClientCredentials(token_url={self.token_url!r}, client_id='***', client_secret='***')"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        with self._lock:
            token = self._token
        if token is None:
            token = yield from self._fetch()
            if token is None:
                return  # the token endpoint's transient answer is the response; the client retries
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        with self._lock:
            if self._token == token:
                self._token = None
            current = self._token
        fresh = current or (yield from self._fetch())
        if fresh is None:
            return
        request.headers["Authorization"] = f"Bearer {fresh}"
        yield request

    def _grant(self) -> dict[str, str]:
        """The token request's form: the client credentials grant (a subclass asks another grant)."""
        return {
            "grant_type": "client_credentials",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            **self._extra,
        }

    def _fetch(self) -> Generator[httpx.Request, httpx.Response, str | None]:
        form = self._grant()
        response = yield httpx.Request(
            "POST", self.token_url, data=form, headers={"Accept": "application/json"}
        )
        self.fetches += 1
        if self._refused(response):
            raise ConnectorAuthError(
                self._connector,
                401,
                credential_hint=self._hint,
                vendor_message=self._said(response),
            )
        if not 200 <= response.status_code < 300:
            return None
        try:
            body = json.loads(response.content)
            token = str(body["access_token"]).strip()
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return None  # a truncated answer: the client retries the request, and this fetch with it
        if not token:
            return None
        with self._lock:
            self._token = token
            instance = body.get("instance_url") if isinstance(body, dict) else None
            self.instance_url = str(instance) if instance else self.instance_url
        return token

    @staticmethod
    def _refused(response: httpx.Response) -> bool:
        """An OAuth error answer (RFC 6749, 5.2: ``{"error": "invalid_client", ...}``) or a plain 400/401.
        Anything else (a 403 saying the org is busy, a 5xx) is no verdict on the credentials."""
        if response.status_code in (400, 401):
            return True
        try:
            body = json.loads(response.content) if response.content else None
        except (ValueError, UnicodeDecodeError):
            return False
        return (
            400 <= response.status_code < 500
            and isinstance(body, dict)
            and isinstance(body.get("error"), str)
        )

    def _said(self, response: httpx.Response) -> str:
        try:
            body = json.loads(response.content) if response.content else None
        except (ValueError, UnicodeDecodeError):
            body = None
        return redact(describe_vendor_error(body, ""), (self._client_id, self._client_secret))


__all__ = ["OAuthClientCredentials"]
