"""How the ``profilesync`` command reports a failure: one line on stderr and an exit code.

Every failure a user can foresee (a bad argument, a missing credential, an unreachable endpoint, an
unwritable output, a connector's API refusing the token) ends as one line that names what was wrong
and what to do, and one of three exit codes:

| code | meaning                                                                                   |
| ---- | ----------------------------------------------------------------------------------------- |
| 0    | the command did what was asked                                                            |
| 1    | the run started and failed (an API kept failing, a push was refused, an unexpected error) |
| 2    | the command refused to start: bad arguments, configuration, credentials, paths or ports  |
| 130  | interrupted (Ctrl-C)                                                                      |

``describe_failure`` is the one place that maps exceptions to a line and a code, so each command only
raises typed errors (``UsageError`` for its own argument checks, ``core.errors`` types elsewhere).
A traceback is printed only with ``--debug``.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from core.errors import (
    ConfigurationError,
    ConnectorConfigError,
    InputError,
    ProfileSyncError,
    StoreLayoutError,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class UsageError(ProfileSyncError):
    """The command line or the environment it names cannot work: checked before any work starts."""


@dataclass(frozen=True, slots=True)
class Failure:
    """What the CLI prints (after ``profilesync <command>: ``) and the exit code it returns."""

    code: int
    message: str


#: Types whose message already says what was wrong and what to do, and that mean "cannot start".
_USAGE_TYPES: tuple[type[BaseException], ...] = (
    UsageError,
    InputError,
    ConfigurationError,
    ConnectorConfigError,
    StoreLayoutError,
)

#: botocore error codes that mean the credentials, not the request, are wrong.
_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "InvalidClientTokenId",
        "ExpiredTokenException",
        "AccessDeniedException",
        "SignatureDoesNotMatch",
    }
)


def describe_failure(error: BaseException) -> Failure:
    """The line and exit code for ``error`` (never raises)."""
    if isinstance(error, KeyboardInterrupt):
        return Failure(EXIT_INTERRUPTED, "interrupted")
    if isinstance(error, _USAGE_TYPES):
        return Failure(EXIT_USAGE, _one_line(str(error)))
    botocore_failure = _describe_botocore(error)
    if botocore_failure is not None:
        return botocore_failure
    if isinstance(error, ProfileSyncError):
        return Failure(EXIT_FAILED, _one_line(str(error)))
    if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
        # A write to a full disk names no file: say what happened and what to do.
        where = f"{error.filename}: " if error.filename is not None else ""
        return Failure(
            EXIT_FAILED,
            f"{where}the disk is full ({error.strerror}); free some space or write to another disk "
            "(--out, --state-dir), then run again",
        )
    if isinstance(error, OSError) and error.filename is not None:
        what = error.strerror or type(error).__name__
        return Failure(EXIT_FAILED, f"{error.filename}: {what}")
    detail = _one_line(str(error)) or "no message"
    return Failure(
        EXIT_FAILED,
        f"unexpected error ({type(error).__name__}: {detail}); run again with --debug for the "
        "traceback, and report it if it persists",
    )


def _describe_botocore(error: BaseException) -> Failure | None:
    """AWS SDK errors the CLI meets with ``--endpoint-url``: credentials and unreachable endpoints."""
    module = type(error).__module__
    if not module.startswith("botocore"):
        return None
    name = type(error).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return Failure(
            EXIT_USAGE,
            "no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY (DynamoDB Local accepts any values)",
        )
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError"):
        url = getattr(error, "kwargs", {}).get("endpoint_url", "the endpoint")
        return Failure(
            EXIT_USAGE, f"could not connect to {url}: check --endpoint-url and that the service is running"
        )
    if name == "ClientError":
        response = getattr(error, "response", {}) or {}
        code = str(response.get("Error", {}).get("Code", ""))
        message = str(response.get("Error", {}).get("Message", ""))
        if code in _CREDENTIAL_CODES:
            return Failure(
                EXIT_USAGE,
                f"AWS refused the credentials ({code}: {_one_line(message)}): check AWS_PROFILE or the "
                "access keys, and the region",
            )
        if code == "ResourceNotFoundException":
            return Failure(EXIT_USAGE, f"{_one_line(message)} (check --table and --endpoint-url)")
        return Failure(EXIT_FAILED, f"AWS answered {code}: {_one_line(message)}")
    return Failure(EXIT_FAILED, f"AWS SDK error ({name}): {_one_line(str(error))}")


def _one_line(text: str) -> str:
    return " ".join(text.split())


__all__ = [
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "Failure",
    "UsageError",
    "describe_failure",
]
