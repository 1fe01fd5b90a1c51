"""What every ``profilesync`` command shares: ``--version``, ``--log-level``, ``--debug``, exit codes
and failures on one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from profilesync import cli
from profilesync.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_version_prints_the_package_version_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("profilesync ")


@pytest.mark.parametrize(
    "argv",
    [
        ["resolve", "in.jsonl"],  # --out is required
        ["sync"],  # --connector is required
        ["demo", "--people", "many"],
        ["nonsense"],
        ["connectors", "list", "--log-level", "LOUD"],
    ],
)
def test_a_usage_error_is_one_line_and_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("profilesync")
    assert "--help" in err


def test_log_level_and_debug_are_taken_before_or_after_the_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = cli._parser().parse_args(["--log-level", "info", "connectors", "list"])
    after = cli._parser().parse_args(["connectors", "list", "--log-level", "debug", "--debug"])
    default = cli._parser().parse_args(["connectors", "list"])
    assert (before.log_level, before.debug) == ("INFO", False)
    assert (after.log_level, after.debug) == ("DEBUG", True)
    assert (default.log_level, default.debug) == ("WARNING", False)


def test_an_unexpected_failure_is_one_line_and_debug_adds_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a command that fails in a way nobody foresaw
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the disk\nwent away")

    monkeypatch.setattr("profilesync.registry.discover", explode)
    # WHEN it runs without and with --debug
    assert main(["connectors", "list"]) == 1
    plain = capsys.readouterr().err
    assert main(["connectors", "list", "--debug"]) == 1
    debug = capsys.readouterr().err
    # THEN the plain run prints one line naming the error, and --debug the traceback before it
    assert plain == (
        "profilesync connectors: unexpected error (RuntimeError: the disk went away); run again with "
        "--debug for the traceback, and report it if it persists\n"
    )
    assert "Traceback (most recent call last)" in debug
    assert debug.endswith(plain)


def test_the_console_script_exits_2_for_bad_usage_in_a_fresh_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "profilesync.cli", "demo", "--people", "0"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == "profilesync demo: --people must be at least 1\n"
