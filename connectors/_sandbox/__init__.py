"""The kit every vendor sandbox is built from: fault injection, server-side limits, a clock, and serving.

A sandbox is a fake of one vendor API that answers ``httpx.Request`` objects. The same object runs
in-process (``sandbox.transport()`` gives an ``httpx.MockTransport`` for fast tests) and as a real HTTP
server (``serve(sandbox, port=P)``, used by ``profilesync sandbox NAME --port P``), so the vendor's own
SDK can be pointed at it. Each vendor's sandbox lives in its connector folder and subclasses
``VendorSandbox``, implementing four methods: ``authenticate``, ``limit``, ``throttled`` and ``route``.

The control surface (``record_keys``, ``touch``, ``add_records``, ``holds``) is what the shared contract
tests in ``profilesync.testing`` drive; see ``SandboxControl``.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol, runtime_checkable

import httpx

from core.connector import ConnectorSettings


@dataclass
class Faults:
    """Switches for injected failures, each a share of requests in [0, 1].

    ``retry_after`` is the ``Retry-After`` value sent with an injected 429: a number of seconds as a
    string (``"0"`` included), or None to send none at all. Truncated bodies cut a 2xx body in half.
    A timeout raises ``httpx.ReadTimeout`` in-process; over HTTP the connection is dropped unanswered.
    """

    throttle: float = 0.0
    server_error: float = 0.0
    slow: float = 0.0
    slow_seconds: float = 0.5
    truncate: float = 0.0
    timeout: float = 0.0
    retry_after: str | None = "1"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("throttle", "server_error", "slow", "truncate", "timeout"):
            share = getattr(self, name)
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"Faults.{name} must be a share between 0 and 1, got {share}")

    @property
    def any(self) -> bool:
        return bool(self.throttle or self.server_error or self.slow or self.truncate or self.timeout)


@dataclass
class SandboxStats:
    """What a sandbox saw: requests by ``METHOD path``, and how many it throttled (limit or fault)."""

    requests: int = 0
    throttled: int = 0
    limit_throttled: int = 0
    by_route: dict[str, int] = field(default_factory=dict)

    def count(self, route: str) -> int:
        return self.by_route.get(route, 0)


class SandboxClock:
    """Vendor time. Real UTC time by default; ``set(at)`` freezes it (tests put many changes on one
    timestamp), ``advance(seconds)`` moves a frozen clock on. Never goes backwards."""

    def __init__(self, frozen_at: datetime | None = None) -> None:
        self._frozen = frozen_at
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._frozen if self._frozen is not None else datetime.now(UTC)

    def set(self, at: datetime | None) -> None:
        with self._lock:
            self._frozen = at

    def advance(self, seconds: float) -> None:
        with self._lock:
            base = self._frozen or datetime.now(UTC)
            self._frozen = base + timedelta(seconds=seconds)


class SlidingWindow:
    """Server side of a "N requests per T seconds" limit: ``admit()`` returns 0 when the request may
    go on, or the seconds until it could (the 429's Retry-After)."""

    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or seconds <= 0:
            raise ValueError("SlidingWindow needs limit >= 1 and seconds > 0")
        self.limit = limit
        self.seconds = seconds
        self._clock = clock
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self) -> float:
        with self._lock:
            now = self._clock()
            while self._times and now - self._times[0] >= self.seconds:
                self._times.popleft()
            if len(self._times) >= self.limit:
                return self.seconds - (now - self._times[0])
            self._times.append(now)
            return 0.0

    def remaining(self) -> int:
        with self._lock:
            now = self._clock()
            live = sum(1 for t in self._times if now - t < self.seconds)
            return max(0, self.limit - live)


def holdings_text(*parts: Any) -> str:
    """What a sandbox holds, as one JSON text to search (``SandboxControl.holdings``)."""
    return json.dumps(_plain(parts), ensure_ascii=False, default=str, sort_keys=True)


def _plain(value: Any) -> Any:
    """``value`` with every mapping's keys as text (a sandbox may key by tuples or numbers)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def forgotten(value: str) -> str:
    """How a sandbox remembers what a vendor keeps after deleting a person (a suppression list): a
    digest, so the sandbox no longer holds the value itself, and a later request can still match it."""
    return hashlib.sha256(value.encode()).hexdigest()


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


@runtime_checkable
class SandboxControl(Protocol):
    """What the shared contract tests need from a sandbox, besides answering requests.

    Record keys are ``"<object_type>:<source_id>"``, the same ``object_type`` and ``source_id`` the
    connector's ``to_records`` gives the drafts it makes from that object.
    """

    name: str
    token: str
    faults: Faults
    stats: SandboxStats
    clock: SandboxClock

    def handle(self, request: httpx.Request) -> httpx.Response: ...

    def transport(self) -> httpx.MockTransport: ...

    def settings(self, transport: bool = True) -> ConnectorSettings:
        """Settings that reach this sandbox: its credentials and options, and (if ``transport``) its
        MockTransport; the base URL is the vendor's default unless the sandbox needs its own."""
        ...

    def record_keys(self) -> set[str]:
        """Every object a full pull must return."""
        ...

    def touch(self, keys: set[str], at: datetime | None = None) -> None:
        """Change a visible field of these objects, stamping them modified at ``at`` (default now)."""
        ...

    def add_records(self, count: int, at: datetime | None = None) -> set[str]:
        """Create ``count`` new people's objects, all modified at ``at``; return their keys."""
        ...

    def holds(self, email: str) -> bool:
        """Whether the tool still has a person with this email (after erase it must not)."""
        ...

    def pushed_traits(self, email: str) -> dict[str, Any]:
        """What profilesync last pushed for this email (custom properties / merge fields / metafields)."""
        ...

    def holdings(self) -> str:
        """Everything the tool holds about people, as text (JSON): every record, and every copy of one
        (events, jobs, orders). An erasure test searches it for the erased person's email, phone,
        name and ids. A vendor's own suppression list is kept as the vendor keeps it (a hash), so
        that it holds no address either."""
        ...


@runtime_checkable
class DeletesRecords(Protocol):
    """A sandbox whose vendor reports deletions (``ConnectorSpec`` capability ``deletions``): it
    deletes objects as the vendor does, so that the vendor's API reports them the way it does
    (Salesforce's Recycle Bin, Stripe's ``customer.deleted`` event, HubSpot's archived contacts)."""

    def delete_records(self, keys: set[str], at: datetime | None = None) -> None:
        """Delete these objects (keys as ``SandboxControl.record_keys``) at ``at`` (default now)."""
        ...


class SandboxServer:
    """A sandbox served over HTTP on 127.0.0.1 (one thread per connection)."""

    def __init__(self, sandbox: VendorSandbox, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sandbox = sandbox
        handler = _handler_for(sandbox)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        # A short poll: ``stop`` waits up to one poll for the loop to notice (0.5 s by default, which
        # tests that serve a sandbox each paid in full).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{sandbox.name}"
        )
        self._thread.daemon = True

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SandboxServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def serve_forever(self) -> None:
        self._server.serve_forever()


@contextmanager
def serve(sandbox: VendorSandbox, host: str = "127.0.0.1", port: int = 0) -> Iterator[SandboxServer]:
    """Serve ``sandbox`` over HTTP in a background thread for the duration of the block."""
    server = SandboxServer(sandbox, host, port).start()
    try:
        yield server
    finally:
        server.stop()


def _handler_for(sandbox: VendorSandbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without TCP_NODELAY each response waits ~40 ms
        # for the client's delayed ACK (measured: 48 ms -> 9 ms per HubSpot list page).
        disable_nagle_algorithm = True
        server_version = f"profilesync-sandbox-{sandbox.name}"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            host = self.headers.get("Host") or "127.0.0.1"
            request = httpx.Request(
                self.command,
                f"http://{host}{self.path}",
                headers=list(self.headers.items()),
                content=body,
            )
            try:
                response = sandbox.handle(request)
            except httpx.TimeoutException:
                self.close_connection = True  # the client sees the connection drop, as after a timeout
                return
            content = response.read()
            self.send_response(response.status_code)
            for key, value in response.headers.items():
                if key.lower() not in {"content-length", "transfer-encoding", "connection"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server dispatches on these names

        def log_message(self, format: str, *args: Any) -> None:
            # Request lines would leak query strings into the terminal; the CLI prints stats instead.
            return

    return Handler


__all__ = [
    "DeletesRecords",
    "Faults",
    "SandboxClock",
    "SandboxControl",
    "SandboxServer",
    "SandboxStats",
    "SlidingWindow",
    "VendorSandbox",
    "forgotten",
    "holdings_text",
    "json_response",
    "serve",
]
