"""``VendorSandbox``, the base every vendor sandbox subclasses: auth check, server-side limit,
injected faults, then the route; and ``json_response``, a response as vendors send it."""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import UTC
from email.utils import format_datetime
from typing import Any

import httpx

from connectors._sandbox.faults import Faults, SandboxStats
from connectors._sandbox.pacing import SandboxClock


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON response as vendors send it (``application/json; charset=utf-8``)."""
    content = json.dumps(body, separators=(",", ":"), default=str).encode()
    merged = {"content-type": "application/json; charset=utf-8", **(headers or {})}
    return httpx.Response(status, content=content, headers=merged)


class VendorSandbox:
    """Base of a vendor sandbox: auth check, server-side limit, injected faults, then the route.

    Subclasses implement ``authenticate`` (None when the request's credentials are good, else the
    vendor's 401 response), ``limit`` (None to admit, else the vendor's own throttled response),
    ``throttled`` (the vendor's 429 for an injected fault) and ``route`` (the API itself). Subclasses
    hold their data behind ``self.lock``; ``handle`` is called from many threads.
    """

    name = "sandbox"

    def __init__(self, *, token: str, seed: int = 7, faults: Faults | None = None) -> None:
        self.token = token
        self.seed = seed
        self._stats_lock = threading.Lock()
        self.faults = faults or Faults()
        self.stats = SandboxStats()
        self.clock = SandboxClock()
        self.lock = threading.RLock()

    @property
    def faults(self) -> Faults:
        return self._faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        # A new fault plan starts its own seeded sequence, so a test that switches faults on sees
        # them from its first requests, whatever the sandbox served before.
        with self._stats_lock:
            self._faults = faults
            self._fault_rng = random.Random(faults.seed)

    # --- the four methods a vendor sandbox implements ------------------------------------------
    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        raise NotImplementedError

    def limit(self, request: httpx.Request) -> httpx.Response | None:
        return None

    def throttled(self, retry_after: str | None) -> httpx.Response:
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        return json_response(429, {"message": "Too many requests"}, headers)

    def route(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError

    def account_budget(self) -> tuple[float, float] | None:
        """The account-wide budget this sandbox enforces, as ``(requests or points per second,
        burst)``, for the connector's shared rate budget; None when it has no account-wide limit."""
        return None

    def release(self, request: httpx.Request) -> None:
        """Called after every admitted request (a concurrency limit frees its slot here)."""

    # --- serving ------------------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request as the vendor would, faults included, with the ``Date`` header every
        real API sends (RFC 9110: when it answered, by its own clock, here ``clock``)."""
        response = self._respond(request)
        if "date" not in response.headers:
            response.headers["Date"] = format_datetime(self.clock.now().astimezone(UTC), usegmt=True)
        return response

    def _respond(self, request: httpx.Request) -> httpx.Response:
        route_name = f"{request.method} {request.url.path}"
        with self._stats_lock:
            self.stats.requests += 1
            self.stats.by_route[route_name] = self.stats.by_route.get(route_name, 0) + 1
        denied = self.authenticate(request)
        if denied is not None:
            return denied
        limited = self.limit(request)
        if limited is not None:
            with self._stats_lock:
                self.stats.throttled += 1
                self.stats.limit_throttled += 1
            return limited
        try:
            fault = self._roll()
            if fault == "throttle":
                with self._stats_lock:
                    self.stats.throttled += 1
                return self.throttled(self.faults.retry_after)
            if fault == "server_error":
                return json_response(503, {"message": "Service temporarily unavailable (injected)"})
            if fault == "slow":
                time.sleep(self.faults.slow_seconds)
            if fault == "timeout":
                raise httpx.ReadTimeout("injected timeout: the sandbox did not answer", request=request)
            response = self.route(request)
            if fault == "truncate" and 200 <= response.status_code < 300:
                body = response.read()
                headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
                return httpx.Response(response.status_code, content=body[: len(body) // 2], headers=headers)
            return response
        finally:
            self.release(request)

    def _roll(self) -> str | None:
        f = self.faults
        if not f.any:
            return None
        with self._stats_lock:
            roll = self._fault_rng.random()
        for name, share in (
            ("throttle", f.throttle),
            ("server_error", f.server_error),
            ("slow", f.slow),
            ("truncate", f.truncate),
            ("timeout", f.timeout),
        ):
            if roll < share:
                return name
            roll -= share
        return None

    def transport(self) -> httpx.MockTransport:
        """This sandbox as an in-process transport for ``build_client``."""
        return httpx.MockTransport(self.handle)
