"""Typed errors for HTTP connectors, built on core.errors, and the redaction every message goes through."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import httpx

from core.errors import ConnectorConfigError, ProfileSyncError, RetryableError
from core.redaction import redact_personal

from ._body import json_body

#: Vendor messages are quoted into our errors and logs; a full HTML error page or a 50 kB validation
#: report would drown the useful part, so only the start is kept.
VENDOR_MESSAGE_LIMIT = 300

#: Values shorter than this are not redacted: replacing a 2-character string everywhere would mangle
#: the message, and no real API credential is that short.
_MIN_REDACTED_LENGTH = 4

_REDACTED = "***"

_WHAT_TO_DO = {
    400: "fix the request or the data sent; retrying will not help",
    404: "the object or endpoint does not exist: check the base URL and the ids",
    409: "the object already exists or was changed concurrently: re-read it before writing",
    422: "the API refused the data sent: fix the record or the field mapping",
}


class ConnectorAuthError(ConnectorConfigError):
    """The API refused the credentials (401) or their scopes (403): never retried, never shows a secret."""

    def __init__(
        self, connector: str, status: int, *, credential_hint: str, vendor_message: str = ""
    ) -> None:
        if status == 403:
            what = (
                f"the API refused access ({status}): check {credential_hint} has the scopes this sync needs"
            )
        else:
            what = f"the API rejected the credentials ({status}): check {credential_hint}"
        said = f" (the API said: {redact_personal(vendor_message)})" if vendor_message else ""
        super().__init__(f"{connector}: {what}{said}")
        self.connector = connector
        self.status = status


class ConnectorRequestError(ProfileSyncError):
    """The API rejected a request for good (400, 404, 409, 422, ...): sending it again will not help.

    The message (what logs and tracebacks show) quotes the vendor's words with addresses and phone
    numbers taken out (core.redaction). ``vendor_message`` keeps them as the vendor wrote them (secrets
    removed), for a connector to read which record a batch error names: never log it.
    """

    def __init__(self, connector: str, method: str, path: str, status: int, vendor_message: str = "") -> None:
        what_to_do = _WHAT_TO_DO.get(status, "retrying the same request will not help")
        shown = redact_personal(vendor_message)
        said = f": {shown}" if shown else ""
        super().__init__(f"{connector}: {method} {path} was rejected (HTTP {status}){said} ({what_to_do})")
        self.connector = connector
        self.method = method
        self.path = path
        self.status = status
        self.vendor_message = vendor_message


class ConnectorUnavailableError(RetryableError):
    """A request kept failing transiently (throttling, 5xx, timeouts) until the retry budget ran out."""

    def __init__(
        self,
        connector: str,
        method: str,
        path: str,
        *,
        attempts: int,
        reason: str,
        last_status: int | None = None,
        note: str = "",
    ) -> None:
        tried = f"{attempts} attempt" + ("" if attempts == 1 else "s")
        extra = f"; {note}" if note else ""
        super().__init__(
            f"{connector}: {method} {path} failed after {tried} (last: {reason}){extra}: "
            "the API is unavailable or throttling; run the sync again later"
        )
        self.connector = connector
        self.method = method
        self.path = path
        self.attempts = attempts
        self.last_status = last_status


class ConnectorUnreachableError(ConnectorConfigError):
    """Nothing listens at a local base URL (connection refused): a wrong port or a sandbox not started.
    Not retried: waiting would not start it."""

    def __init__(self, connector: str, address: str) -> None:
        super().__init__(
            f"{connector}: nothing answers at {address} (connection refused): start the sandbox "
            "(profilesync sandbox NAME --port PORT) or fix --base-url"
        )
        self.connector = connector
        self.address = address


class PaginationError(ProfileSyncError):
    """The API's paging information is inconsistent (a repeated cursor or page, a missing cursor)."""


def redact(text: str, secrets: Iterable[str]) -> str:
    """Return ``text`` with every occurrence of each secret value replaced by ``***``.

    Longer secrets are replaced first so that a secret containing another one (a Basic auth header
    and its key) is removed whole. Values shorter than four characters are left alone.
    """
    for secret in sorted({s for s in secrets if len(s) >= _MIN_REDACTED_LENGTH}, key=len, reverse=True):
        text = text.replace(secret, _REDACTED)
    return text


def describe_vendor_error(body: Any, text: str = "", *, limit: int = VENDOR_MESSAGE_LIMIT) -> str:
    """Return the human part of a vendor's error body, on one line and at most ``limit`` characters.

    Understands the shapes our vendors use: HubSpot ``message``, Mailchimp RFC 7807 ``title``/``detail``
    and field ``errors``, Klaviyo JSON:API ``errors[].detail``, Stripe ``error.message``, Shopify
    ``errors`` as a string, a field map or a GraphQL list. Falls back to ``text`` (the raw body).
    """
    message = _message_from(body) or text
    one_line = " ".join(message.split())
    if len(one_line) > limit:
        return one_line[: limit - 1] + "…"
    return one_line


def vendor_error_message(response: httpx.Response, *, limit: int = VENDOR_MESSAGE_LIMIT) -> str:
    """Return the vendor's error message from a response body (JSON or text), truncated to ``limit``."""
    try:
        body: Any = json_body(response) if response.content else None
    except (ValueError, UnicodeDecodeError):
        body = None
    try:
        text = response.text
    except (UnicodeDecodeError, LookupError):
        text = ""
    return describe_vendor_error(body, text, limit=limit)


def _message_from(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "; ".join(m for m in (_message_from(item) for item in body[:5]) if m)
    if not isinstance(body, dict):
        return ""
    parts: list[str] = []
    if isinstance(body.get("detail"), str):
        title = body.get("title")
        parts.append(f"{title}: {body['detail']}" if isinstance(title, str) and title else body["detail"])
    elif isinstance(body.get("message"), str):
        field = body.get("field")
        parts.append(f"{field}: {body['message']}" if isinstance(field, str) and field else body["message"])
    error = body.get("error")
    if isinstance(error, dict | str):
        parts.append(_message_from(error))
        if isinstance(body.get("error_description"), str):  # OAuth token endpoints
            parts.append(body["error_description"])
    errors = body.get("errors")
    if isinstance(errors, dict) and not {"message", "detail"} & errors.keys():
        # Shopify REST: {"errors": {"email": ["has already been taken"]}}
        parts.extend(f"{field}: {_message_from(v) or v}" for field, v in list(errors.items())[:5])
    elif errors:
        parts.append(_message_from(errors))
    return "; ".join(p for p in parts if p)
