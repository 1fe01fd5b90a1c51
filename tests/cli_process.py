"""A ``profilesync`` process of its own that runs one command after another, for tests whose promise
needs a second process (an erasure made in another terminal while a run reads) but not a new one per
command.

A fresh ``python -c`` per command spent about 0.7 s of CPU importing the CLI and its stores before the
command's own few milliseconds (tests/e2e/test_fix18a_erased_during_resolve.py and
test_attack18_erased_during_resolve.py erase seven times). Here the process starts once, and each
command runs there through the CLI's ``main`` in the folder it names, with its own exit code, stdout
and stderr: still another process, with its own connections to the store and its own imports, as a
user's second terminal. A test that promises something of a fresh process (the console script, its
environment, its exit code) starts one of its own (tests/e2e/test_cli_basics.py and others).
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

#: The other process: one JSON request a line (``argv``, ``cwd``), one JSON answer a line.
_SERVE = """
import contextlib, io, json, os, sys
from profilesync.cli import main
answers = sys.stdout
for line in sys.stdin:
    request = json.loads(line)
    os.chdir(request["cwd"])
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(request["argv"])
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
    answers.write(json.dumps({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}) + "\\n")
    answers.flush()
"""


@dataclass(frozen=True)
class Done:
    """What one command did in the other process: as ``subprocess.CompletedProcess``'s fields."""

    returncode: int
    stdout: str
    stderr: str


class CliProcess:
    """``profilesync`` commands run in one other process, started at the first command with this
    process's environment then, less the variables named in ``without``, with those of ``setting``."""

    def __init__(self, without: Sequence[str] = (), setting: Mapping[str, str] | None = None) -> None:
        self._without = frozenset(without)
        self._setting = dict(setting or {})
        self._process: subprocess.Popen[str] | None = None

    def run(self, argv: Sequence[str], cwd: Path, timeout: float = 300) -> Done:
        """Run ``profilesync argv`` in the other process, in folder ``cwd``; its outcome."""
        process = self._started()
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(json.dumps({"argv": list(argv), "cwd": str(cwd)}) + "\n")
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], timeout)
        line = process.stdout.readline() if ready else ""
        if not line:
            self.close()
            raise AssertionError(f"the profilesync process gave no answer to {list(argv)} in {timeout} s")
        answer = json.loads(line)
        return Done(int(answer["code"]), answer["stdout"], answer["stderr"])

    def _started(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, "-c", _SERVE],
                env={**{k: v for k, v in os.environ.items() if k not in self._without}, **self._setting},
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
        return self._process

    def close(self) -> None:
        """End the other process (a later command starts a new one)."""
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def ended_with_the_module(process: CliProcess, name: str) -> Any:
    """A module-scoped autouse fixture ``name`` that hands ``process`` to a module's tests and ends it
    with the module: assign it to ``name`` in the module (or import it there under that name)."""

    @pytest.fixture(scope="module", autouse=True, name=name)
    def ended() -> Iterator[CliProcess]:
        try:
            yield process
        finally:
            process.close()

    return ended
