"""httpx auth flows for the credential styles our vendors use; none of them ever shows its secret."""

from __future__ import annotations

import base64
from collections.abc import Generator
from typing import Protocol, runtime_checkable

import httpx

from connectors.secrets import Secret, revealed
from core.errors import ConnectorConfigError


@runtime_checkable
class CarriesSecrets(Protocol):
    """An auth that can list the secret values it sends, so errors and logs can redact them."""

    def secret_values(self) -> tuple[str, ...]: ...


def _reveal(value: str | Secret, what: str) -> str:
    text = revealed(value)
    if not text.strip():
        raise ConnectorConfigError(
            f"{what} is empty: resolve it with resolve_secret() before building the auth"
        )
    return text.strip()


class BearerToken(httpx.Auth):
    """``Authorization: Bearer <token>``: HubSpot private-app tokens, Stripe secret keys."""

    def __init__(self, token: str | Secret) -> None:
        self._token = _reveal(token, "the bearer token")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def secret_values(self) -> tuple[str, ...]:
        return (self._token,)

    def __repr__(self) -> str:
        return "BearerToken(token='***')"


class ApiKeyHeader(httpx.Auth):
    """An API key in a header of its own, optionally after a scheme word and a space.

    Shopify: ``ApiKeyHeader("X-Shopify-Access-Token", token)``; Klaviyo:
    ``ApiKeyHeader("Authorization", key, prefix="Klaviyo-API-Key")``.
    """

    def __init__(self, header: str, key: str | Secret, *, prefix: str = "") -> None:
        self._header = header
        self._prefix = prefix.strip()
        self._key = _reveal(key, f"the API key for {header}")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = f"{self._prefix} {self._key}" if self._prefix else self._key
        yield request

    def secret_values(self) -> tuple[str, ...]:
        return (self._key,)

    def __repr__(self) -> str:
        return f"ApiKeyHeader(header={self._header!r}, prefix={self._prefix!r}, key='***')"


class BasicAuthKey(httpx.Auth):
    """HTTP Basic auth with an API key as the password: Mailchimp accepts any user name with its key."""

    def __init__(self, user: str, key: str | Secret) -> None:
        self._user = user
        self._key = _reveal(key, "the API key")
        # The encoded header is as secret as the key: redact it too, in case a header dump is logged.
        self._encoded = base64.b64encode(f"{user}:{self._key}".encode()).decode("ascii")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Basic {self._encoded}"
        yield request

    def secret_values(self) -> tuple[str, ...]:
        return (self._key, self._encoded)

    def __repr__(self) -> str:
        return f"BasicAuthKey(user={self._user!r}, key='***')"


class BasicAuthPair(httpx.Auth):
    """HTTP Basic auth from one secret holding both halves, ``user:password`` (WooCommerce REST API
    keys: ``consumer_key:consumer_secret``, sent as user name and password over HTTPS).

    A secret with no colon is sent as the user name with an empty password: the API then answers
    401 and the error names the setting to fix, as for any wrong key.
    """

    def __init__(self, pair: str | Secret) -> None:
        self._pair = _reveal(pair, "the user:password pair")
        self._user, _, self._password = self._pair.partition(":")
        self._encoded = base64.b64encode(f"{self._user}:{self._password}".encode()).decode("ascii")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Basic {self._encoded}"
        yield request

    def secret_values(self) -> tuple[str, ...]:
        # Both halves: a consumer key is as good as half a password to whoever reads a log.
        return tuple(v for v in (self._pair, self._user, self._password, self._encoded) if v)

    def __repr__(self) -> str:
        return "BasicAuthPair(pair='***')"
