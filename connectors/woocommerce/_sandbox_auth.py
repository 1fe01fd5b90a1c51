"""How the WooCommerce sandbox authenticates a request, after ``WC_REST_Authentication``.

* HTTP Basic with the consumer key as user and the secret as password, or ``consumer_key`` and
  ``consumer_secret`` in the query string (which win when both are there), as over HTTPS. The
  sandbox is served on plain HTTP for local use, so it takes these as if they came over HTTPS.
* OAuth 1.0a one-legged, as WooCommerce requires over plain HTTP and as the ``woocommerce`` Python
  client sends it to an ``http://`` URL: ``oauth_*`` parameters in the query string (or an
  ``Authorization: OAuth`` header), HMAC-SHA1 or HMAC-SHA256 over ``METHOD&URL&params`` with the
  secret plus ``&`` as key, each parameter RFC 3986-encoded twice (``check_oauth_signature``), a
  timestamp within 15 minutes and a nonce used once.

Outcomes: authenticated; a known key with a wrong secret (401 ``woocommerce_rest_authentication_error``
"Consumer secret is invalid.", with the ``WWW-Authenticate`` challenge); an OAuth failure (401 with
WooCommerce's message); or anonymous (an unknown key is not an error by itself: the route then
refuses, see ``denied``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final
from urllib.parse import parse_qsl, quote, unquote

import httpx

OAUTH_PARAMS: Final = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
NONCE_WINDOW_SECONDS: Final = 15 * 60
REALM: Final = (
    "WooCommerce API. Use a consumer key in the username field and a consumer secret in the password field."
)


def php_query(request: httpx.Request) -> dict[str, str]:
    """The query string as PHP's ``$_GET`` holds it: decoded, the last of a repeated key winning."""
    return dict(parse_qsl(request.url.query.decode("ascii", "replace"), keep_blank_values=True))


def rawurlencode(text: str) -> str:
    """PHP's ``rawurlencode`` (RFC 3986: everything but letters, digits and ``-_.~`` encoded)."""
    return quote(text, safe="-_.~")


def signature_base(method: str, url: str, params: Mapping[str, str]) -> str:
    """WooCommerce's string to sign: ``METHOD&rawurlencode(url)&`` then each ``key=value`` (both
    already encoded) encoded again, sorted by key, joined by ``%26``."""
    pairs = [
        rawurlencode(f"{rawurlencode(key)}={rawurlencode(value)}")
        for key, value in sorted(params.items())
        if key != "oauth_signature"
    ]
    return f"{method.upper()}&{rawurlencode(url)}&{'%26'.join(pairs)}"


def oauth_signature(secret: str, base: str, method: str) -> str:
    digest = hashlib.sha256 if method == "HMAC-SHA256" else hashlib.sha1
    return base64.b64encode(hmac.new(f"{secret}&".encode(), base.encode(), digest).digest()).decode()


def _header_params(header: str) -> dict[str, str]:
    if not header.startswith("OAuth "):
        return {}
    return {k: unquote(a or b) for k, a, b in re.findall(r'(oauth_[a-z_-]*)=(?:"([^"]*)"|([^,]*))', header)}


@dataclass(frozen=True)
class AuthError:
    code: str
    message: str
    challenge: bool = False


@dataclass
class KeyStore:
    """One REST API key pair of the shop, with the nonces its OAuth requests used."""

    consumer_key: str
    consumer_secret: str
    permissions: str = "read_write"
    _nonces: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def check(self, request: httpx.Request, now: datetime) -> bool | AuthError:
        """True (authenticated), False (anonymous), or the authentication error."""
        query = php_query(request)
        key, secret = query.get("consumer_key", ""), query.get("consumer_secret", "")
        if not (key and secret):
            scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() == "basic":
                try:
                    key, _, secret = base64.b64decode(encoded).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    key = secret = ""
        if key and secret and hmac.compare_digest(key.encode(), self.consumer_key.encode()):
            if hmac.compare_digest(secret.encode(), self.consumer_secret.encode()):
                return True
            return AuthError(
                "woocommerce_rest_authentication_error", "Consumer secret is invalid.", challenge=True
            )
        return self._oauth(request, query, now)

    def _oauth(self, request: httpx.Request, query: dict[str, str], now: datetime) -> bool | AuthError:
        params = {**query, **_header_params(request.headers.get("authorization", "").strip())}
        missing = [name for name in OAUTH_PARAMS if not params.get(name)]
        if len(missing) == len(OAUTH_PARAMS):
            return False
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            return AuthError(
                "woocommerce_rest_authentication_missing_parameter",
                f"Missing OAuth {noun} {', '.join(missing)}",
            )
        if not hmac.compare_digest(params["oauth_consumer_key"].encode(), self.consumer_key.encode()):
            return AuthError("woocommerce_rest_authentication_error", "Consumer key is invalid.")
        method = params["oauth_signature_method"]
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return AuthError(
                "woocommerce_rest_authentication_error", "Invalid signature - signature method is invalid."
            )
        url = f"{request.url.scheme}://{request.url.netloc.decode()}{request.url.path}"
        expected = oauth_signature(self.consumer_secret, signature_base(request.method, url, params), method)
        given = unquote(params["oauth_signature"].replace(" ", "+"))
        if not hmac.compare_digest(expected.encode(), given.encode()):
            return AuthError(
                "woocommerce_rest_authentication_error",
                "Invalid signature - provided signature does not match.",
            )
        stamp = params["oauth_timestamp"]
        if not stamp.isdigit() or abs(int(stamp) - now.timestamp()) > NONCE_WINDOW_SECONDS:
            return AuthError("woocommerce_rest_authentication_error", "Invalid timestamp.")
        with self._lock:
            self._nonces = {
                n: t for n, t in self._nonces.items() if t >= now.timestamp() - NONCE_WINDOW_SECONDS
            }
            if params["oauth_nonce"] in self._nonces:
                return AuthError(
                    "woocommerce_rest_authentication_error", "Invalid nonce - nonce has already been used."
                )
            self._nonces[params["oauth_nonce"]] = float(stamp)
        return True

    def may(self, method: str) -> AuthError | None:
        """The key's read/write permission for this method (``check_permissions``)."""
        writes = method.upper() in ("POST", "PUT", "PATCH", "DELETE")
        if writes and self.permissions not in ("write", "read_write"):
            return AuthError(
                "woocommerce_rest_authentication_error",
                "The API key provided does not have write permissions.",
            )
        if not writes and self.permissions not in ("read", "read_write"):
            return AuthError(
                "woocommerce_rest_authentication_error",
                "The API key provided does not have read permissions.",
            )
        return None


def denied(method: str, route: str) -> tuple[str, str]:
    """The code and message a route answers an anonymous request with (its permission check)."""
    collection = not re.search(r"/\d+$", route)
    if route.endswith("/batch"):
        return (
            "woocommerce_rest_cannot_batch",
            "Sorry, you are not allowed to batch manipulate this resource.",
        )
    if method == "GET":
        message = (
            "Sorry, you cannot list resources." if collection else "Sorry, you cannot view this resource."
        )
        return "woocommerce_rest_cannot_view", message
    if method == "DELETE":
        return "woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource."
    if method == "POST" and collection:
        return "woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."
    return "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."


__all__ = [
    "REALM",
    "AuthError",
    "KeyStore",
    "denied",
    "oauth_signature",
    "php_query",
    "rawurlencode",
    "signature_base",
]
