"""The HubSpot sandbox's wire: requests parsed once, HubSpot's error envelope, and emails as the
sandbox compares them (``canonical_email``).

Shared by the sandbox's modules (``_sandbox`` and the modules beside it: list, search, upsert,
properties, objects), so each answers errors alike.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import idna

from connectors._sandbox import json_response


def _ms_precision(at: datetime) -> datetime:
    """A time as HubSpot keeps it: UTC, whole milliseconds."""
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


@dataclass
class _Request:
    """A parsed request: method, path (decoded), query params (lists), JSON body."""

    method: str
    path: str
    params: dict[str, list[str]]
    body: Any = None
    body_error: str | None = None
    raw: httpx.Request | None = field(default=None, repr=False)

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


class _RejectedError(Exception):
    """Raised inside a route to answer with a HubSpot error."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def hubspot_error(status: int, message: str, category: str, **extra: Any) -> httpx.Response:
    """HubSpot's error envelope (https://developers.hubspot.com/docs/api-reference/error-handling)."""
    body = {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category}
    body.update(extra)
    return json_response(status, body)


def _not_found() -> httpx.Response:
    return hubspot_error(404, "resource not found", "OBJECT_NOT_FOUND")


def _invalid(message: str, **extra: Any) -> _RejectedError:
    return _RejectedError(hubspot_error(400, message, "VALIDATION_ERROR", **extra))


def canonical_email(email: str) -> str:
    """Lower case with the domain in IDNA form, so a profile's normalised email finds HubSpot's."""
    local, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return email.strip().lower()
    with contextlib.suppress(idna.IDNAError, UnicodeError):
        domain = idna.encode(domain, uts46=True).decode("ascii")
    return f"{local}@{domain}"


def _parse(request: httpx.Request) -> _Request:
    params: dict[str, list[str]] = {}
    for key, value in request.url.params.multi_items():
        params.setdefault(key, []).append(value)
    parsed = _Request(request.method.upper(), request.url.path, params, raw=request)  # path is decoded
    content = request.content
    if content:
        try:
            parsed.body = json.loads(content)
        except ValueError as exc:
            parsed.body_error = str(exc)
    return parsed


def _json_object(request: _Request) -> dict[str, Any]:
    if request.body_error is not None:
        raise _invalid(f"Invalid input JSON: {request.body_error}")
    if not isinstance(request.body, dict):
        raise _invalid("Invalid input JSON: the body must be a JSON object")
    return request.body


def _names(request: _Request) -> list[str]:
    """``properties`` as HubSpot reads it: comma-separated, repeated, or both."""
    return [
        n.strip() for value in request.params.get("properties", []) for n in value.split(",") if n.strip()
    ]


def _int_param(request: _Request, name: str, default: int, *, minimum: int) -> int:
    raw = request.param(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _invalid(f"Unable to parse {name}={raw!r}: expected a whole number") from None
    if value < minimum:
        raise _invalid(f"{name} must be at least {minimum}")
    return value


def _origin(request: _Request) -> str:
    url = request.raw.url if request.raw is not None else httpx.URL("https://api.hubapi.com")
    return f"{url.scheme}://{url.netloc.decode('ascii')}"


__all__ = [
    "_RejectedError",
    "_Request",
    "_int_param",
    "_invalid",
    "_json_object",
    "_ms_precision",
    "_names",
    "_not_found",
    "_origin",
    "_parse",
    "hubspot_error",
]
