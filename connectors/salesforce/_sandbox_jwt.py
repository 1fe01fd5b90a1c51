"""The Salesforce sandbox's side of the OAuth 2.0 JWT bearer flow: the connected app's certificate,
and the checks the token endpoint makes on an assertion before it issues a session.

Salesforce verifies the assertion's RS256 signature with the certificate uploaded to the connected
app ("Use digital signatures"), then its claims: ``iss`` the app's consumer key, ``sub`` a user the app
is pre-authorized for, ``aud`` the login server (``https://login.salesforce.com``,
``https://test.salesforce.com``, or the org's own domain), ``exp`` not passed and at most three minutes
ahead (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm). A refusal is
a standard OAuth error answer, 400 ``{"error": ..., "error_description": ...}``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._sandbox import SalesforceSandbox

#: The user the sandbox's connected app is pre-authorized for (its assertions' ``sub``).
INTEGRATION_USER = "integration@profilesync.example"
#: Login servers an assertion may be addressed to, besides the org's own domain.
AUDIENCES = frozenset({"https://login.salesforce.com", "https://test.salesforce.com"})
#: Salesforce refuses an assertion whose ``exp`` is further ahead than three minutes (with a little
#: allowance for clocks).
MAX_AHEAD_SECONDS = 180 + 30


class ConnectedAppCertificate:
    """The key pair of the connected app's certificate: the sandbox keeps the public half to verify,
    and hands the private half (PEM) to the tests, as an admin hands it to the integration."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives.asymmetric import rsa

        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public_key = self._key.public_key()

    def private_key_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def refusal(sb: SalesforceSandbox, assertion: str, now: float | None = None) -> tuple[str, str] | None:
    """Why the token endpoint refuses ``assertion`` (the OAuth error and its description), or None
    when it is a valid assertion of the sandbox's connected app for its pre-authorized user."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    now = time.time() if now is None else now
    try:
        head, body, signature = assertion.split(".")
        header: Any = json.loads(_b64(head))
        claims: Any = json.loads(_b64(body))
        raw_signature = _b64(signature)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return "invalid_grant", "invalid assertion"
    if not isinstance(header, dict) or header.get("alg") != "RS256" or not isinstance(claims, dict):
        return "invalid_grant", "invalid assertion"
    try:
        sb.certificate().public_key.verify(
            raw_signature, f"{head}.{body}".encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, ValueError):
        return "invalid_grant", "invalid assertion"
    if claims.get("iss") != sb.client_id:
        return "invalid_client_id", "client identifier invalid"
    if str(claims.get("aud") or "").rstrip("/") not in AUDIENCES | {sb.domain.rstrip("/")}:
        return "invalid_grant", "audience is invalid"
    expires = claims.get("exp")
    if not isinstance(expires, int) or isinstance(expires, bool) or expires < now:
        return "invalid_grant", "expired authorization code"
    if expires > now + MAX_AHEAD_SECONDS:
        return "invalid_grant", "invalid assertion"
    if claims.get("sub") != sb.jwt_username:
        return "invalid_grant", "user hasn't approved this consumer"
    return None


__all__ = ["AUDIENCES", "INTEGRATION_USER", "ConnectedAppCertificate", "refusal"]
