"""How a declared REST connector authenticates (``RestConnectorSpec.auth``): each strategy names its
credentials and builds the ``httpx.Auth`` (``connectors._http``) that signs the requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from connectors._http import (
    ApiKeyHeader,
    BasicAuthKey,
    BasicAuthPair,
    BearerToken,
    OAuthClientCredentials,
    OAuthJwtBearer,
    secret_env_var,
)
from core.connector import Credential
from core.errors import ConnectorConfigError


@dataclass(frozen=True, slots=True)
class BearerAuth:
    """``Authorization: Bearer <secret>`` (HubSpot private apps, Stripe secret keys)."""

    credential: Credential

    @property
    def credentials(self) -> tuple[Credential, ...]:
        return (self.credential,)

    def build(self, secret: str) -> httpx.Auth:
        return BearerToken(secret)

    def build_for(self, secrets: Mapping[str, str], base_url: str, connector: str) -> httpx.Auth:
        return self.build(secrets[self.credential.name])


@dataclass(frozen=True, slots=True)
class ApiKeyAuth:
    """A key in a header of its own, after an optional scheme word (Klaviyo: ``Authorization:
    Klaviyo-API-Key <key>``; Shopify: ``X-Shopify-Access-Token: <token>``)."""

    credential: Credential
    header: str = "Authorization"
    prefix: str = ""

    @property
    def credentials(self) -> tuple[Credential, ...]:
        return (self.credential,)

    def build(self, secret: str) -> httpx.Auth:
        return ApiKeyHeader(self.header, secret, prefix=self.prefix)

    def build_for(self, secrets: Mapping[str, str], base_url: str, connector: str) -> httpx.Auth:
        return self.build(secrets[self.credential.name])


@dataclass(frozen=True, slots=True)
class BasicAuth:
    """HTTP Basic with the key as the password (Mailchimp accepts any user name)."""

    credential: Credential
    user: str = "profilesync"

    @property
    def credentials(self) -> tuple[Credential, ...]:
        return (self.credential,)

    def build(self, secret: str) -> httpx.Auth:
        return BasicAuthKey(self.user, secret)

    def build_for(self, secrets: Mapping[str, str], base_url: str, connector: str) -> httpx.Auth:
        return self.build(secrets[self.credential.name])


@dataclass(frozen=True, slots=True)
class ClientCredentialsAuth:
    """OAuth 2.0 client credentials (server-to-server): a token from ``token_path`` on the base URL for
    a client id and secret, sent as a bearer token and renewed once when the API answers 401
    (Salesforce connected apps: ``/services/oauth2/token``). Two credentials, two secrets."""

    client_id: Credential
    client_secret: Credential
    token_path: str

    @property
    def credential(self) -> Credential:
        """The credential an API 401 names first (the client id; the token error names both)."""
        return self.client_id

    @property
    def credentials(self) -> tuple[Credential, ...]:
        return (self.client_id, self.client_secret)

    def build_for(self, secrets: Mapping[str, str], base_url: str, connector: str) -> httpx.Auth:
        hint = " and ".join(secret_env_var(c.name) for c in self.credentials)
        return OAuthClientCredentials(
            base_url.rstrip("/") + self.token_path,
            secrets[self.client_id.name],
            secrets[self.client_secret.name],
            connector=connector,
            credential_hint=hint,
        )


@dataclass(frozen=True, slots=True)
class JwtBearerAuth:
    """OAuth 2.0 JWT bearer (RFC 7523; Salesforce connected apps with a certificate): an assertion for
    ``username``, for the login server ``audience``, signed with ``private_key`` (the PEM of the key
    whose certificate the app holds), posted to ``token_path`` for a token; renewed on a 401 as the
    client credentials flow is. The app's consumer key is ``client_id``."""

    client_id: Credential
    private_key: Credential
    token_path: str
    username: str
    audience: str

    @property
    def credential(self) -> Credential:
        return self.client_id

    @property
    def credentials(self) -> tuple[Credential, ...]:
        return (self.client_id, self.private_key)

    def build_for(self, secrets: Mapping[str, str], base_url: str, connector: str) -> httpx.Auth:
        hint = " and ".join(secret_env_var(c.name) for c in self.credentials)
        try:
            return OAuthJwtBearer(
                base_url.rstrip("/") + self.token_path,
                secrets[self.client_id.name],
                secrets[self.private_key.name],
                username=self.username,
                audience=self.audience,
                connector=connector,
                credential_hint=hint,
            )
        except ValueError as exc:
            raise ConnectorConfigError(
                f"{connector}: {exc}; set {secret_env_var(self.private_key.name)} to the PEM of the key "
                "whose certificate the connected app holds"
            ) from None


@dataclass(frozen=True, slots=True)
class KeyPairAuth:
    """HTTP Basic where the credential holds both halves as ``user:password`` (WooCommerce
    ``consumer_key:consumer_secret``), so one secret carries the pair."""

    credential: Credential

    @property
    def credentials(self) -> tuple[Credential, ...]:
        return (self.credential,)

    def build(self, secret: str) -> httpx.Auth:
        return BasicAuthPair(secret)

    def build_for(self, secrets: Mapping[str, str], base_url: str, connector: str) -> httpx.Auth:
        return self.build(secrets[self.credential.name])


AuthStrategy = BearerAuth | ApiKeyAuth | BasicAuth | ClientCredentialsAuth | JwtBearerAuth | KeyPairAuth
