"""The checks a command makes before it starts work, each failing with one ``UsageError`` line.

A run that would fail later (after minutes of work, or after silently dropping data) fails here
instead: a region phone numbers do not know, an output nobody can write, an input that is not JSON
lines, an ``--endpoint-url`` without credentials or with nothing listening, a port already taken.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Any

from profilesync.cli_errors import UsageError

#: How many non-blank lines of an input ``looks_like_json_lines`` reads before deciding.
SNIFF_LINES = 20
#: Bytes of one line it reads at most (a 50 MB line is the pipeline's business, not the sniffer's).
SNIFF_LINE_BYTES = 64 * 1024


def check_region(value: str, option: str = "--default-region") -> str:
    """``value`` upper-cased, if phone numbers know it as a region (ISO 3166 alpha-2)."""
    from core.normalise import phone_region

    region = phone_region(value)
    if region is None:
        raise UsageError(
            f"{option} {value!r} is not a region phone numbers know: give an ISO 3166 alpha-2 code "
            "such as US, GB or DE"
        )
    return region


def check_writable(path: Path, option: str) -> None:
    """``path`` can be created or overwritten: its nearest existing ancestor is a writable directory."""
    if path.exists():
        if path.is_dir():
            raise UsageError(f"{option} {path} is a directory: name a file in it")
        if not os.access(path, os.W_OK):
            raise UsageError(f"{option} {path} is not writable: choose another file or fix its permissions")
        return
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise UsageError(f"{option} {path}: {ancestor} is a file, not a directory; choose another path")
    # Try it rather than trust os.access: root passes every permission check, yet cannot write in
    # /proc or on a read-only mount.
    try:
        with tempfile.TemporaryFile(dir=ancestor):
            pass
    except OSError as error:
        raise UsageError(
            f"{option} {path}: {ancestor} is not writable ({error.strerror or error}); choose a directory "
            "you can write to"
        ) from None


#: The UTF-8 byte-order mark some editors (Notepad, Excel's "UTF-8 CSV") write at the start of a file.
_BOM = b"\xef\xbb\xbf"


def check_json_lines(path: Path) -> None:
    """Refuse an input none of whose first lines even starts like a JSON object (a CSV, a TSV, a list).

    Malformed lines are the pipeline's to quarantine, one by one, with their reasons; an input with no
    object at all among its first lines is the wrong file, and resolving it would only end with zero
    profiles and an exit code of 0."""
    try:
        handle = path.open("rb")
    except OSError:
        return  # missing or unreadable: reading it says so, with the path
    lines: list[bytes] = []
    with handle:
        while len(lines) < SNIFF_LINES:
            line = handle.readline(SNIFF_LINE_BYTES)
            if not line:
                break
            if not lines:
                line = line.removeprefix(_BOM)  # a file saved as "UTF-8 with BOM" (the reader skips it)
            if line.strip():
                lines.append(line)
    if not lines:
        return  # an empty file resolves to nothing, and the summary says so
    # A line that starts like an object is an attempt at one: malformed, it is quarantined with its
    # reason like any bad record. Only a file with no such line is the wrong format altogether.
    if any(line.lstrip().startswith(b"{") for line in lines):
        return
    first = lines[0].decode("utf-8", errors="replace").strip()
    shown = first if len(first) <= 60 else first[:57] + "..."
    kind = _guess_kind(path, first)
    raise UsageError(
        f"{path} is not JSON lines: none of its first {len(lines)} lines is a JSON object{kind} (first line: "
        f"{shown!r}); resolve reads one JSON object per line, such as "
        '{"source": "crm", "id": "c1", "updated_at": "2026-01-05T10:00:00Z", "email": "ann@example.com"}'
    )


def _guess_kind(path: Path, first: str) -> str:
    if path.suffix.lower() in (".csv", ".tsv") or (("," in first or "\t" in first) and "{" not in first):
        return "; it looks like CSV: convert each row to a JSON object"
    if first.startswith("["):
        return "; it looks like one JSON array: write one element per line"
    return ""


def check_aws_credentials(endpoint_url: str) -> None:
    """An ``--endpoint-url`` needs credentials to sign with, even DynamoDB Local's (any values)."""
    import boto3

    if boto3.session.Session().get_credentials() is None:
        raise UsageError(
            f"--endpoint-url {endpoint_url} needs AWS credentials and none were found: set AWS_PROFILE, "
            "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (DynamoDB Local accepts any values)"
        )


def probe_endpoint(endpoint_url: str, region: str | None = None) -> None:
    """One quick call to the endpoint, without retries, so a wrong URL fails in seconds, not minutes."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client: Any = boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        config=Config(connect_timeout=3, read_timeout=10, retries={"max_attempts": 1, "mode": "standard"}),
    )
    try:
        client.list_tables(Limit=1)
    except ClientError:
        raise  # reachable: the failure mapping says what AWS refused (credentials, permissions)
    except BotoCoreError as error:
        raise UsageError(
            f"cannot reach --endpoint-url {endpoint_url} ({type(error).__name__}): check the URL and that "
            "the service is running"
        ) from None


def port_in_use(error: OSError, host: str, port: int) -> UsageError:
    """The UsageError for a server that could not bind ``host:port``."""
    if error.errno == errno.EADDRINUSE:
        return UsageError(
            f"--port {port}: {host}:{port} is already in use (another sandbox?); choose another port, "
            "or --port 0 for any free one"
        )
    return UsageError(f"--port {port}: cannot listen on {host}:{port} ({error.strerror or error})")


__all__ = [
    "check_aws_credentials",
    "check_json_lines",
    "check_region",
    "check_writable",
    "port_in_use",
    "probe_endpoint",
]
