"""``BackgroundHttpServer``: a threaded HTTP server on a local port, served from a daemon thread.

The vendor sandboxes (``connectors._sandbox.SandboxServer``) and the local profile API
(``profilesync.api_server.LocalApiServer``) are both one request handler class behind the standard
library's ``ThreadingHTTPServer``; this is the part they share: bind, ``url``, ``start``, ``stop``,
``serve_forever`` and ``wait``. It lives in core/ because connectors/ imports core/ only; it imports
the standard library alone (no HTTP client), so core stays pure.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Final, Self

#: How often the serving loop looks for a ``stop``: ``stop`` waits up to one interval. The standard
#: library's 0.5 s was paid in full by every test that served a sandbox or the API.
POLL_INTERVAL: Final = 0.05


class BackgroundHttpServer:
    """``handler`` served on ``host:port`` (port 0: a free one, see ``url``), one thread a connection.

    The socket is bound when the object is made, so a port in use fails here with ``OSError``.
    ``start`` serves in a daemon thread named ``name``; ``serve_forever`` serves in the caller's
    thread instead (a command that runs until interrupted). ``stop`` ends the loop, closes the socket
    (the port is free again) and joins the thread; it may be called before ``start`` and twice.
    """

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0, *, name: str
    ) -> None:
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self.serve_forever, name=name, daemon=True)
        self._serving = False
        self._stopped = False
        self._lock = threading.Lock()  # a ``stop`` and a loop about to begin: one of them goes first

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Serve in the background thread; return self (``server = Server(...).start()``)."""
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop`` (from another thread) or an interrupt."""
        with self._lock:
            if self._stopped:  # a ``stop`` came first: its socket is closed, there is nothing to serve
                return
            self._serving = True
        self._server.serve_forever(poll_interval=POLL_INTERVAL)

    def wait(self) -> None:
        """Block until the background thread ends (``stop``, or the process is interrupted)."""
        self._thread.join()

    def stop(self) -> None:
        """Stop serving, free the port and join the background thread."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            serving = self._serving
        # shutdown() waits for the loop to acknowledge; a loop that never ran never would. A loop
        # marked serving (under the lock) but not yet begun sees the request as it begins, and
        # acknowledges it; one not marked yet never begins (serve_forever sees ``_stopped``).
        if serving:
            self._server.shutdown()
        self._server.server_close()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()


__all__ = ["POLL_INTERVAL", "BackgroundHttpServer"]
