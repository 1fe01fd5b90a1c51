"""What the Stripe sandbox's answers share: the error body (``{"error": {"type", "code", "message",
"param"}}``) and list objects (``object: "list"``, ``data``, ``has_more``, ``url``), newest first, paged
by ``limit`` and ``starting_after`` and filtered by ``created[gte]``.
"""

from __future__ import annotations

from typing import Any, Final

import httpx

from connectors._sandbox import json_response

MAX_LIMIT: Final = 100


def error(
    status: int, type_: str, message: str, code: str | None = None, param: str | None = None
) -> httpx.Response:
    """Stripe's error answer: ``{"error": {"type", "message"}}``, with ``code`` and ``param`` when given."""
    body: dict[str, Any] = {"type": type_, "message": message}
    if code:
        body["code"] = code
    if param:
        body["param"] = param
    return json_response(status, {"error": body})


def list_page(
    order: dict[str, int],
    objects: dict[str, dict[str, Any]],
    url: str,
    params: dict[str, str],
    *,
    email: str | None = None,
    customer: str | None = None,
) -> httpx.Response | dict[str, Any]:
    """One page of ``objects`` as a list object at ``url``, newest first (``order``: each id's place in
    the account's sequence, for objects created on one second), or the 400 Stripe answers to a bad
    ``limit``, ``created[gte]`` or ``starting_after``."""
    limit = params.get("limit", "10")
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
        return error(
            400,
            "invalid_request_error",
            "Invalid integer: limit must be 1-100.",
            "parameter_invalid_integer",
            "limit",
        )
    gte = params.get("created[gte]")
    if gte is not None and not gte.isdigit():
        return error(
            400,
            "invalid_request_error",
            "Invalid integer: created[gte]",
            "parameter_invalid_integer",
            "created[gte]",
        )
    chosen = sorted(objects.values(), key=lambda o: (o["created"], order[o["id"]]), reverse=True)
    if gte is not None:
        chosen = [o for o in chosen if o["created"] >= int(gte)]
    if email is not None:
        chosen = [o for o in chosen if o.get("email") == email]
    if customer is not None:
        chosen = [o for o in chosen if o.get("customer") == customer]
    after = params.get("starting_after")
    if after is not None:
        ids = [o["id"] for o in chosen]
        if after not in ids:
            return error(
                400,
                "invalid_request_error",
                f"No such object: '{after}'",
                "resource_missing",
                "starting_after",
            )
        chosen = chosen[ids.index(after) + 1 :]
    page = chosen[: int(limit)]
    return {"object": "list", "data": page, "has_more": len(chosen) > len(page), "url": url}
