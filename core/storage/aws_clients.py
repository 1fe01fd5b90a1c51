"""The AWS clients of a process, all made from one botocore session.

botocore, not boto3: a client is botocore's either way, and boto3 adds a resource layer and the S3
transfer manager that nothing here uses, for ~14 ms more of every cold start (bench/cold_start.py).
One session, because a session loads the service models and the endpoint data once for all the
clients made from it: the functions' clients (functions._wiring) and the Secrets Manager client
(connectors._http) share them, where a session each would load them again (~40 ms).

Configured like any AWS SDK: credentials, region and ``AWS_ENDPOINT_URL`` from the environment.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botocore.config import Config
    from botocore.session import Session

_session: Session | None = None
_lock = threading.Lock()


def aws_session() -> Session:
    """The process's botocore session, made on first use."""
    global _session
    # Imported here: botocore is the largest import of a cold start, and only first use should pay it.
    import botocore.session

    with _lock:
        if _session is None:
            _session = botocore.session.get_session()
        return _session


def aws_client(service: str, config: Config | None = None) -> Any:
    """A new client of ``service`` from the process's session."""
    session = aws_session()
    with _lock:  # creating clients is not thread-safe in botocore; using them is
        return session.create_client(service, config=config)


__all__ = ["aws_client", "aws_session"]
