"""A table written by a previous release's own code, for the upgrade tests (priv29, priv30).

``git archive`` of ``core/`` and ``connectors/`` at the release's revision, and a writer script run
with them first on the path, against a table of the moto server (tests/moto_server.py), so that the
table holds exactly what that release wrote. Skipped where the repository's history is not at hand.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.moto_server import moto_server_url, server_table

ROOT = Path(__file__).resolve().parents[2]


def old_code(folder: Path, revision: str) -> Path:
    """``core/`` and ``connectors/`` of ``revision`` under ``folder``."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "core", "connectors"],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:  # not a git checkout: no old code
        pytest.skip(f"the previous release's code is not reachable here ({error})")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


@contextmanager
def written_by(
    folder: Path, revision: str, writer: str, name: str, *args: object
) -> Iterator[tuple[Any, str]]:
    """A moto server table named after ``name``, written by ``writer`` (a script taking the server's
    URL, the table and ``args``) run with ``revision``'s code: the client and the table."""
    old = old_code(folder, revision)
    with server_table(name) as (client, table):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(old), str(ROOT)])}
        done = subprocess.run(
            [sys.executable, "-c", writer, moto_server_url(), table, *(str(a) for a in args)],
            env=env,
            cwd=old,  # "-c" puts the working folder first on the path: the old code's
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        yield client, table
