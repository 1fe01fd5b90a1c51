"""``profilesync serve-api``: the profile API's own handler, served over HTTP on this machine.

Each request becomes the event API Gateway (HTTP API, payload format 2.0) would send the function,
and the response is what API Gateway would return. Requests are not signed here: the caller names
its role in the ``X-Profilesync-Role`` header, which only this server honours (the deployed function
refuses it, see functions/profiles.py). Requests are answered one at a time, as one Lambda execution
environment would; Powertools' resolver keeps the current event in class state, so it must not
serve two requests at once in one process anyway.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from core.background_http import BackgroundHttpServer
from profilesync.local import LocalContext

ROLE_HEADER = "X-Profilesync-Role"
LocalHandler = Callable[[dict[str, Any], Any, str], dict[str, Any]]


def http_event(
    method: str,
    target: str,
    headers: Mapping[str, str],
    *,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
) -> dict[str, Any]:
    """The HTTP API (payload 2.0) event of one request: ``target`` is the path and query string."""
    parts = urlsplit(target)
    query: dict[str, list[str]] = {}
    for name, value in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    now = datetime.now(UTC)
    rid = request_id or uuid.uuid4().hex
    lowered = {k.lower(): v for k, v in headers.items()}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": lowered,
        "requestContext": {
            "accountId": "local",
            "apiId": "local",
            "domainName": lowered.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": rid,
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if query:
        # API Gateway joins the values of a repeated parameter with commas.
        event["queryStringParameters"] = {k: ",".join(v) for k, v in query.items()}
    return event


class LocalApiServer(BackgroundHttpServer):
    """The profile API on ``host:port``, answering through ``handler(event, context, role)``."""

    def __init__(
        self, handler: LocalHandler, roles: Sequence[str], host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._handler = handler
        self.roles = tuple(roles)
        self._one_at_a_time = threading.Lock()
        self.requests = 0
        super().__init__(self._request_handler(), host, port, name="profile-api")

    def answer(self, method: str, target: str, headers: Mapping[str, str], source_ip: str) -> dict[str, Any]:
        """One request, as API Gateway and Lambda would answer it."""
        role = next((v for k, v in headers.items() if k.lower() == ROLE_HEADER.lower()), "").strip()
        if not role:
            body = {
                "message": f"name your role in the {ROLE_HEADER} header (one of {', '.join(self.roles)}); "
                "locally it stands for the IAM identity that signs requests in AWS"
            }
            return {
                "statusCode": 401,
                "headers": {"Content-Type": "application/json"},
                "body": json.dumps(body),
            }
        event = http_event(
            method,
            target,
            {k: v for k, v in headers.items() if k.lower() != ROLE_HEADER.lower()},
            source_ip=source_ip,
        )
        context = LocalContext(function_name="profilesync-local-profiles", timeout_seconds=10)
        with self._one_at_a_time:
            self.requests += 1
            return self._handler(event, context, role)

    def _request_handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle's algorithm on, the body would wait
            # for the client's delayed ACK of the headers (about 40 ms on Linux) on a kept-alive
            # connection.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                self._respond("GET")

            def do_POST(self) -> None:
                self._respond("POST")

            def _respond(self, method: str) -> None:
                started = time.perf_counter()
                response = server.answer(method, self.path, dict(self.headers), self.client_address[0])
                body = str(response.get("body", "")).encode()
                self.send_response(int(response.get("statusCode", 500)))
                for name, value in (response.get("headers") or {}).items():
                    self.send_header(name, str(value))
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Elapsed-Ms", f"{(time.perf_counter() - started) * 1000:.2f}")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # the handler logs each request itself

        return Handler


@contextmanager
def serve_api(
    handler: LocalHandler, roles: Sequence[str], host: str = "127.0.0.1", port: int = 0
) -> Iterator[LocalApiServer]:
    """The server in a background thread for the duration of the block."""
    server = LocalApiServer(handler, roles, host, port).start()
    try:
        yield server
    finally:
        server.stop()


__all__ = ["ROLE_HEADER", "LocalApiServer", "http_event", "serve_api"]
