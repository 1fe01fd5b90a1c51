"""DynamoDB requests to moto's in-process mock go unsigned in tests; production clients sign.

botocore signs every request with SigV4 (canonical request, four HMACs, headers hashed), and moto
checks no signature: in a test that is pure cost, about a tenth of the CPU of each DynamoDB call on
moto (1,500 ``GetItem`` on a moto table: 4.3 -> 3.7 CPU s, /tmp bench in the suite26a report). The
tests' clients answer botocore's ``choose-signer`` event with ``UNSIGNED``, the hook botocore itself
offers for unsigned requests, so nothing else of a request changes (serialising, endpoint rules,
retries, moto's parsing and dispatch all run as before).

Only clients whose endpoint is DynamoDB's own regional one (``https://dynamodb.<region>.amazonaws.com``,
which only moto's in-process mock answers in a test) skip signing: moto reads the region from that
host name, where a request to a local endpoint (the threaded moto server, ``--endpoint-url``) names
its region only in the signature, so those clients still sign. The product never imports this module:
tests/unit/test_moto_signing.py holds that the product's clients sign when it is off
(``signing_as_in_production``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_MOTO_DYNAMODB = re.compile(r"https://(streams\.)?dynamodb\.[a-z0-9-]+\.amazonaws\.com")
_state = threading.local()


def _unsigned(**_: Any) -> Any:
    """``choose-signer``: no signature, unless a test asked for production's signing."""
    import botocore

    return None if getattr(_state, "production", False) else botocore.UNSIGNED


def skip_signing_to_moto_dynamodb() -> None:
    """Every botocore client made from now on whose endpoint is DynamoDB's regional one sends its
    requests unsigned (tests/conftest.py calls it once per process)."""
    import botocore.session

    create_client = botocore.session.Session.create_client
    if getattr(create_client, "skips_signing", False):
        return

    def create_unsigned_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        if _MOTO_DYNAMODB.fullmatch(client.meta.endpoint_url or ""):
            client.meta.events.register_first("choose-signer", _unsigned)
        return client

    create_unsigned_client.skips_signing = True  # type: ignore[attr-defined]
    botocore.session.Session.create_client = create_unsigned_client  # type: ignore[method-assign]


@contextmanager
def signing_as_in_production() -> Iterator[None]:
    """Requests made in this thread inside the block are signed, as the product signs them."""
    before = getattr(_state, "production", False)
    _state.production = True
    try:
        yield
    finally:
        _state.production = before
