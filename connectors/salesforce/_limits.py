"""Salesforce's API limits as its answers tell them: ``Sforce-Limit-Info`` (the day's usage and
allocation, which feed the connector's ``DailyAllowance``) and the two 403 ``REQUEST_LIMIT_EXCEEDED``
refusals: the day's total spent (the run stops) and too many concurrent long requests (retried).
"""

from __future__ import annotations

import httpx


def api_usage(response: httpx.Response) -> tuple[int, int] | None:
    """``Sforce-Limit-Info: api-usage=18/5000; per-app-api-usage=...`` -> (18, 5000)."""
    for part in response.headers.get("Sforce-Limit-Info", "").split(";"):
        name, _, value = part.strip().partition("=")
        used, _, limit = value.partition("/")
        if name == "api-usage" and used.strip().isdigit() and limit.strip().isdigit():
            return int(used), int(limit)
    return None


def _limit_refusal(response: httpx.Response) -> str:
    if response.status_code != 403 or b"REQUEST_LIMIT_EXCEEDED" not in response.content:
        return ""
    return "concurrent" if b"Concurrent" in response.content else "total"


def exhausted(response: httpx.Response) -> bool:
    """403 ``REQUEST_LIMIT_EXCEEDED`` "TotalRequests Limit exceeded.": the day's allocation is spent."""
    return _limit_refusal(response) == "total"


def busy(response: httpx.Response) -> bool:
    """403 ``REQUEST_LIMIT_EXCEEDED`` for concurrent long-running requests: passes when they end."""
    return _limit_refusal(response) == "concurrent"


__all__ = ["api_usage", "busy", "exhausted"]
