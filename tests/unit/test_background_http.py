"""core.background_http: the threaded HTTP server the sandboxes and the local profile API share.

GIVEN a server on port 0 WHEN it is started, asked, and stopped THEN it answers on its ``url``, and
after ``stop`` its port can be bound again and its thread has ended. The two servers built on it
(``SandboxServer``, ``LocalApiServer``) are checked the same way, and ``stop`` before ``start`` (a
command that fails between binding and serving) returns instead of waiting for a loop that never ran.
"""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import pytest

from connectors._sandbox import SandboxServer
from connectors.hubspot import HubSpotSandbox
from core.background_http import BackgroundHttpServer
from profilesync.api_server import LocalApiServer


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = f"{threading.current_thread().name} {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def _get(url: str, path: str) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _alive(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name and t.is_alive()]


def _returns(call: Callable[[], None]) -> bool:
    """Whether ``call`` returns (in a helper thread; a hang is seen as not returned within 10 s)."""
    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(10)
    return not worker.is_alive()


def test_serves_on_a_free_port_and_stop_frees_it_and_ends_the_thread() -> None:
    server = BackgroundHttpServer(Echo, "127.0.0.1", 0, name="echo-under-test")
    port = _port(server.url)
    assert port != 0
    assert server.url == f"http://127.0.0.1:{port}"
    assert not _bindable(port)  # bound when made: a port in use fails at once, not in the thread
    assert server.start() is server
    assert _alive("echo-under-test")

    status, body = _get(server.url, "/hello?x=1")
    assert status == 200
    assert body.endswith(b" /hello?x=1")
    assert not body.startswith(b"echo-under-test")  # a connection is served by a thread of its own

    server.stop()
    assert not _alive("echo-under-test")
    assert _bindable(port)
    server.stop()  # a second stop is harmless


def test_stop_right_after_start_ends_the_loop() -> None:
    for _ in range(5):  # the thread may not have entered its loop yet when stop comes
        server = BackgroundHttpServer(Echo, name="echo-quick-stop").start()
        assert _returns(server.stop)
        assert not _alive("echo-quick-stop")


def test_serve_forever_in_the_caller_thread_stops_from_another() -> None:
    server = BackgroundHttpServer(Echo, name="unused-background-thread")
    caller = threading.Thread(target=server.serve_forever, name="echo-caller")
    caller.start()
    assert _get(server.url, "/x")[0] == 200
    assert _returns(server.stop)
    caller.join(10)
    assert not caller.is_alive()
    assert _bindable(_port(server.url))


def _sandbox_server() -> SandboxServer:
    return SandboxServer(HubSpotSandbox(people=1, seed=1))


def _api_server() -> LocalApiServer:
    def handler(event: dict[str, Any], context: Any, role: str) -> dict[str, Any]:
        return {"statusCode": 200, "body": f"{role} {event['rawPath']}"}

    return LocalApiServer(handler, ["support"])


@pytest.mark.parametrize("make", [_sandbox_server, _api_server], ids=["sandbox", "profile-api"])
def test_the_servers_built_on_it_stop_before_start(make: Callable[[], BackgroundHttpServer]) -> None:
    server = make()
    port = _port(server.url)
    assert _returns(server.stop)  # before the base, stop waited forever for a loop never started
    assert _bindable(port)


@pytest.mark.parametrize("make", [_sandbox_server, _api_server], ids=["sandbox", "profile-api"])
def test_the_servers_built_on_it_answer_then_free_their_port_and_thread(
    make: Callable[[], BackgroundHttpServer],
) -> None:
    server = make()
    port = _port(server.url)
    before = set(threading.enumerate())
    server.start()
    started = [t for t in threading.enumerate() if t not in before]
    assert len(started) == 1
    status, _ = _get(server.url, "/")
    assert status in (200, 401)  # the sandbox wants a token, the API a role: either way, it answered
    server.stop()
    assert not started[0].is_alive()
    assert _bindable(port)


def test_serve_forever_after_a_stop_from_another_thread_returns_at_once() -> None:
    # GIVEN a stop that won the race against a caller thread about to serve (before it began its loop)
    server = BackgroundHttpServer(Echo, name="unused-background-thread")
    server.stop()
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            server.serve_forever()
        except BaseException as error:  # what the loop raises on the closed socket
            errors.append(error)

    # WHEN the caller then serves THEN it returns, and quietly: before, its loop went on polling
    # the closed socket (a ValueError on its file descriptor, or a thread that never ended)
    assert _returns(serve)
    assert errors == []
