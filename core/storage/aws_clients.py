"""The AWS clients of a process, all made from one botocore session.

botocore, not boto3: a client is botocore's either way, and boto3 adds a resource layer and the S3
transfer manager that nothing here uses, for ~14 ms more of every cold start (bench/cold_start.py).
One session, because a session loads the service models and the endpoint data once for all the
clients made from it: the functions' clients (functions._wiring) and the Secrets Manager client
(connectors.secrets) share them, where a session each would load them again (~40 ms).

Configured like any AWS SDK: credentials, region and ``AWS_ENDPOINT_URL`` from the environment.

The session's data loader checks that a service exists by looking at that service's directory, not
by listing all ~450 services botocore ships (once for the model, once for its endpoint rules):
~13 ms of CPU of every cold start, for a list nothing reads unless the service is unknown. The
answer, and the error for an unknown service, are botocore's own (``ServiceDirectoryLoader``). The
same change is proposed upstream (boto/botocore#3687); this does nothing more once it lands.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from botocore.config import Config
    from botocore.loaders import Loader
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
            session = botocore.session.get_session()
            session.register_component("data_loader", service_directory_loader(session))
            _session = session
        return _session


class KnownServices(Sequence[str]):
    """The services a loader knows of, for ``type_name`` (``service-2``, ``endpoint-rule-set-1``).

    ``name in`` looks at that one service's directory; anything else lists them all, sorted, as
    botocore's ``Loader.list_available_services`` does (and only then).
    """

    def __init__(self, loader: Loader, type_name: str, list_all: Callable[[str], list[str]]) -> None:
        self._loader = loader
        self._type_name = type_name
        self._list_all = list_all
        self._all: list[str] | None = None

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str) or not name or os.sep in name or name.startswith("."):
            return False
        from botocore.exceptions import DataNotFoundError

        try:
            return bool(self._loader.list_api_versions(name, self._type_name))
        except DataNotFoundError:
            return False

    def _names(self) -> list[str]:
        if self._all is None:
            self._all = list(self._list_all(self._type_name))
        return self._all

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._names()[index]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


def service_directory_loader(session: Session) -> Loader:
    """botocore's data loader for ``session`` (its search path, ``AWS_DATA_PATH`` included), whose
    ``list_available_services`` answers ``name in`` from that service's directory alone."""
    from botocore.loaders import Loader

    class ServiceDirectoryLoader(Loader):
        # The stubs say list[str]; botocore's callers test membership, iterate and join.
        def list_available_services(self, type_name: str) -> KnownServices:  # type: ignore[override]
            return KnownServices(self, type_name, super().list_available_services)

    # As botocore.loaders.create_loader builds the session's loader from the ``data_path`` setting.
    search_path = session.get_config_variable("data_path")
    extra = (
        [os.path.expanduser(os.path.expandvars(p)) for p in search_path.split(os.pathsep)]
        if search_path
        else []
    )
    loader: Loader = ServiceDirectoryLoader(extra_search_paths=extra)
    return loader


def aws_client(service: str, config: Config | None = None) -> Any:
    """A new client of ``service`` from the process's session."""
    session = aws_session()
    with _lock:  # creating clients is not thread-safe in botocore; using them is
        return session.create_client(service, config=config)


__all__ = ["KnownServices", "aws_client", "aws_session", "service_directory_loader"]
