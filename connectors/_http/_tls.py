"""One TLS context for every connector's HTTP client in a process.

httpx builds a context per client, and each build parses the whole CA bundle: ~15-20 ms of CPU for
every connector a Lambda function builds (push builds one per destination, an erasure one per tool;
bench/cold_start.py). A context verifies peers the same way however many connections share it, and
OpenSSL's contexts are safe to share between threads.
"""

from __future__ import annotations

import functools
import os
import ssl


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The context httpx would build by default (``verify=True``, ``trust_env=True``), built once:
    the CA bundle in ``SSL_CERT_FILE`` or the directory in ``SSL_CERT_DIR`` when set, else certifi's."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    import certifi  # httpx's own dependency, and where httpx takes its CA bundle from

    return ssl.create_default_context(cafile=certifi.where())
