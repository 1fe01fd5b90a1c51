"""One moto threaded server per test process, for the tests whose writers race in threads (moto's
in-process mock is not made for threads: tests/integration/test_concurrency.py).

Starting and stopping a server per test cost about a second of wall time each (stopping waits for
werkzeug's half-second poll): the tests now share one, started on first use, and each takes a table
of its own (``server_table``), deleted when the test is done. moto's servers in one process share one
backend anyway, so a table's name, not its server, is what kept tests apart.
"""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.server import ThreadedMotoServer

from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table

_LOCK = threading.Lock()
_URL: list[str] = []


def moto_server_url() -> str:
    """The URL of this process's moto server (started on first use; a daemon thread, gone with the
    process), with ``model_aws_semantics`` applied."""
    model_aws_semantics()
    with _LOCK:
        if not _URL:
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
            _URL.append(f"http://127.0.0.1:{port}")
        return _URL[0]


@contextmanager
def server_table(prefix: str) -> Iterator[tuple[Any, str]]:
    """A client of the shared server and a new table named ``prefix`` plus a random suffix; the table
    is deleted on exit."""
    client = dynamodb_client(moto_server_url())
    table = f"{prefix}-{uuid.uuid4().hex[:8]}"
    create_table(client, table)
    try:
        yield client, table
    finally:
        client.delete_table(TableName=table)
