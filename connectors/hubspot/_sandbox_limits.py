"""The HubSpot sandbox's rate-limit answers: the ``X-HubSpot-RateLimit-*`` headers and HubSpot's 429
body.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx

from connectors._sandbox import json_response

if TYPE_CHECKING:
    from ._sandbox import HubSpotSandbox


# --- rate limits ----------------------------------------------------------------------------------
def rate_limit_headers(sb: HubSpotSandbox) -> dict[str, str]:
    return {
        "X-HubSpot-RateLimit-Daily": str(sb.daily_limit),
        "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, sb.daily_limit - sb._daily_used)),
        "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
        "X-HubSpot-RateLimit-Max": str(sb.rate_limit_per_10s),
        "X-HubSpot-RateLimit-Remaining": str(sb._window.remaining()),
    }


def rate_limit_body(message: str, policy: str) -> dict[str, Any]:
    # https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines (429 example);
    # ``category`` as HubSpot's error envelope has it.
    return {
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "requestId": str(uuid.uuid4()),
        "category": "RATE_LIMITS",
    }


def rate_limited(sb: HubSpotSandbox, message: str, policy: str, *, search: bool) -> httpx.Response:
    headers = (
        {}
        if search
        else {
            **rate_limit_headers(
                sb,
            ),
            "X-HubSpot-RateLimit-Remaining": "0",
        }
    )
    return json_response(429, rate_limit_body(message, policy), headers)
