"""Every foreseeable mistake is refused before work starts, as one line naming it, with exit code 2."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from profilesync.cli import main

REPO_ROOT = Path(__file__).resolve().parents[2]
PEOPLE = REPO_ROOT / "examples" / "people.jsonl"
#: Three records: enough to prove a run goes ahead, small enough to keep these tests quick.
FEW = "\n".join(PEOPLE.read_text().splitlines()[:3]) + "\n"


def _one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_an_unknown_default_region_is_refused_before_anything_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a region phone numbers do not know (which used to drop every national number silently)
    out = tmp_path / "p.jsonl"
    assert main(["resolve", str(PEOPLE), "--out", str(out), "--default-region", "XX"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith(
        "profilesync resolve: --region 'XX' is not a region"
    )  # --default-region is its alias
    assert "US, GB or DE" in line
    assert not out.exists()
    # AND a real one in lower case is taken
    few = tmp_path / "few.jsonl"
    few.write_text(FEW)
    assert main(["resolve", str(few), "--out", str(out), "--default-region", "gb"]) == 0


def test_a_csv_given_to_resolve_is_refused_and_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text("email,phone,first_name\nann@example.com,+44 20 7946 0018,Ann\n")
    out = tmp_path / "p.jsonl"
    assert main(["resolve", str(csv), "--out", str(out)]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "is not JSON lines" in line
    assert "it looks like CSV" in line
    assert "'email,phone,first_name'" in line
    assert not out.exists()


def test_a_jsonl_with_a_bad_first_line_still_runs_and_quarantines_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN one malformed line before good ones: the pipeline's to quarantine, not a reason to refuse
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("{not json\n" + FEW)
    assert main(["resolve", str(mixed), "--out", str(tmp_path / "p.jsonl")]) == 0
    assert "not valid JSON" in capsys.readouterr().out


def test_an_unwritable_output_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # /proc takes no new files, even from root (a chmod-ed directory would not stop root)
    assert main(["resolve", str(PEOPLE), "--out", "/proc/profilesync-out/p.jsonl"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert line.startswith("profilesync resolve: --out /proc/profilesync-out/p.jsonl: /proc is not writable")
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
        assert main(["resolve", str(PEOPLE), "--out", str(locked / "sub" / "p.jsonl")]) == 2
        assert "is not writable" in _one_line(capsys.readouterr().err)


def test_an_output_under_a_file_or_onto_a_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert main(["resolve", str(PEOPLE), "--out", str(a_file / "p.jsonl")]) == 2
    assert "is a file, not a directory" in _one_line(capsys.readouterr().err)
    assert main(["resolve", str(PEOPLE), "--out", str(tmp_path)]) == 2
    assert "is a directory: name a file in it" in _one_line(capsys.readouterr().err)


def test_an_endpoint_url_without_credentials_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    argv = [
        "resolve",
        str(PEOPLE),
        "--out",
        str(tmp_path / "p.jsonl"),
        "--endpoint-url",
        "http://127.0.0.1:9",
    ]
    assert main(argv) == 2
    line = _one_line(capsys.readouterr().err)
    assert "needs AWS credentials and none were found" in line
    assert "AWS_ACCESS_KEY_ID" in line


def test_an_endpoint_url_with_nothing_listening_fails_in_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "local")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "local")
    started = time.monotonic()
    argv = [
        "sync",
        "--connector",
        "hubspot",
        "--sandbox",
        "--endpoint-url",
        f"http://127.0.0.1:{_free_port()}",
    ]
    assert main(argv) == 2
    assert time.monotonic() - started < 15
    line = _one_line(capsys.readouterr().err)
    assert "cannot reach --endpoint-url http://127.0.0.1:" in line


def test_a_sync_against_a_refused_base_url_names_the_address_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a base URL where nothing listens (the sandbox was not started)
    port = _free_port()
    monkeypatch.setenv("PROFILESYNC_HUBSPOT_TOKEN", "pat-local")
    started = time.monotonic()
    argv = [
        "sync",
        "--connector",
        "hubspot",
        "--base-url",
        f"http://127.0.0.1:{port}",
        "--state-dir",
        str(tmp_path),
    ]
    # WHEN sync runs THEN it fails at once (no retries), naming the address and what to do
    assert main(argv) == 2
    assert time.monotonic() - started < 10
    line = _one_line(capsys.readouterr().err)
    assert f"nothing answers at 127.0.0.1:{port} (connection refused)" in line
    assert "profilesync sandbox" in line


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        yield held.getsockname()[1]


def test_a_sandbox_on_a_port_in_use_is_refused_in_a_fresh_process(busy_port: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "profilesync.cli", "sandbox", "hubspot", "--port", str(busy_port)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert _one_line(done.stderr) == (
        f"profilesync sandbox: --port {busy_port}: 127.0.0.1:{busy_port} is already in use (another "
        "sandbox?); choose another port, or --port 0 for any free one"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
