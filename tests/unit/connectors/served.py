"""A sandbox served over HTTP for a vendor's official SDK, with every exchange checked and recorded.

The official SDKs (hubspot-api-client, mailchimp-marketing, klaviyo-api, stripe, ShopifyAPI) talk to
a URL, not to an ``httpx`` transport, so the sandbox is served on a local port. Each exchange is
recorded and passed to ``check`` (a vendor-spec validation); a violation is kept, not raised in the
server thread (where it would only drop the connection and leave the SDK with a confusing error),
and ``assert_clean`` fails the test with every violation seen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from connectors._sandbox import VendorSandbox, serve

Check = Callable[[httpx.Request, httpx.Response], None]


class Served:
    """What a test holds: the sandbox, its URL, and the exchanges and violations seen so far."""

    def __init__(self, sandbox: Any, url: str) -> None:
        self.sandbox = sandbox
        self.url = url
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []
        self.violations: list[str] = []

    def routes(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r, _ in self.exchanges]

    def assert_clean(self) -> None:
        """Fail with every spec violation the sandbox's answers (or the SDK's requests) showed."""
        assert not self.violations, "\n".join(self.violations)


@contextmanager
def served(sandbox: VendorSandbox, check: Check | None = None) -> Iterator[Served]:
    """Serve ``sandbox`` on a free local port, checking each exchange with ``check``."""
    original = sandbox.handle
    holder: list[Served] = []

    def handle(request: httpx.Request) -> httpx.Response:
        response = original(request)
        response.read()
        state = holder[0]
        state.exchanges.append((request, response))
        if check is not None:
            try:
                check(request, response)
            except AssertionError as violation:
                state.violations.append(f"{request.method} {request.url.path}: {violation}")
        return response

    sandbox.handle = handle  # type: ignore[method-assign]
    try:
        with serve(sandbox) as server:
            holder.append(Served(sandbox, server.url))
            yield holder[0]
    finally:
        del sandbox.handle  # the class's own method again


__all__ = ["Check", "Served", "served"]
