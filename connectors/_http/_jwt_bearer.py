"""OAuth 2.0 JWT bearer grant (RFC 7523) as an httpx auth flow: a signed assertion for a token.

The client signs a short JSON Web Token with the private key whose certificate the vendor holds (a
Salesforce connected app's "Use digital signatures" certificate) and posts it to the token endpoint
as ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<JWT>``. The claims, as
Salesforce documents them ("OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration",
https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm): ``iss`` the
connected app's consumer key, ``sub`` the user the app acts as, ``aud`` the login server
(``https://login.salesforce.com``, ``https://test.salesforce.com`` for a sandbox org, or an
Experience Cloud site), ``exp`` at most three minutes ahead; signed RS256. No refresh token is issued:
an expired session (401) gets a fresh assertion, exactly as the client credentials flow asks again.

Everything else (the token kept and shared, the 401 renewal, a refused grant raising
``ConnectorAuthError`` at once without quoting a secret) is ``OAuthClientCredentials``'s.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

from ._oauth import OAuthClientCredentials

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Salesforce accepts an assertion whose ``exp`` is at most three minutes ahead.
ASSERTION_LIFETIME_SECONDS = 180


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515, section 2), as JWTs are written."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def load_private_key(pem: str) -> Any:
    """The RSA private key of a PEM text (PKCS#1 or PKCS#8, unencrypted), or ValueError saying what
    is wrong with it (never quoting it). Needs the ``cryptography`` package (imported here only)."""
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
    except ImportError:  # pragma: no cover - a deployment without the package
        raise ValueError(
            "the JWT bearer flow needs the 'cryptography' package: pip install cryptography"
        ) from None
    text = pem.strip().replace("\\n", "\n")  # a key kept in one line of an env var or a JSON file
    try:
        key = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as exc:
        kind = (
            "an encrypted key (remove its passphrase)"
            if "encrypted" in str(exc).lower()
            else "no PEM private key"
        )
        raise ValueError(f"the private key is {kind}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the private key is not an RSA key (the JWT bearer flow signs RS256)")
    return key


def sign_assertion(key: Any, claims: dict[str, Any]) -> str:
    """A compact JWS of ``claims`` signed RS256 (RSASSA-PKCS1-v1_5 with SHA-256) with ``key``."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    header = b64url(json.dumps({"alg": "RS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = b64url(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{b64url(signature)}"


class OAuthJwtBearer(OAuthClientCredentials):
    """Bearer tokens from ``token_url`` for a JWT assertion signed with a connected app's key."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        private_key_pem: str,
        *,
        username: str,
        audience: str,
        connector: str,
        credential_hint: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(token_url, client_id, "", connector=connector, credential_hint=credential_hint)
        self._key = load_private_key(private_key_pem)
        self._pem = private_key_pem.strip()
        self._username = username.strip()
        self._audience = audience.strip().rstrip("/")
        self._clock = clock

    def __repr__(self) -> str:
        return f"OAuthJwtBearer(token_url={self.token_url!r}, client_id='***', username={self._username!r})"

    def secret_values(self) -> tuple[str, ...]:
        return (*super().secret_values(), self._pem)

    def assertion(self) -> str:
        """A fresh signed assertion (its ``exp`` three minutes from now)."""
        claims = {
            "iss": self._client_id,
            "sub": self._username,
            "aud": self._audience,
            "exp": int(self._clock()) + ASSERTION_LIFETIME_SECONDS,
        }
        return sign_assertion(self._key, claims)

    def _grant(self) -> dict[str, str]:
        return {"grant_type": JWT_BEARER_GRANT, "assertion": self.assertion()}


__all__ = [
    "ASSERTION_LIFETIME_SECONDS",
    "JWT_BEARER_GRANT",
    "OAuthJwtBearer",
    "b64url",
    "load_private_key",
    "sign_assertion",
]
