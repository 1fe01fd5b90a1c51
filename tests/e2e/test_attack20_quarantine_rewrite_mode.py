"""attack20: the quarantine file ``resolve`` rewrites when an erasure lands during the run keeps what the
user made of it.

``resolve`` opens ``--quarantine`` with ``open("w")``: a file that is there keeps its permissions
(a user who keeps the file private, ``install -m 600 /dev/null q.jsonl``, as the embedded store is
kept: docs/privacy.md). When her erasure lands during the run, the run takes her lines out of the
file (profilesync/resolve_erasures.py ``drop_erased_lines``), by writing a new file beside it and
moving it over: the new file is made with the process's umask, so the other people's quarantined raw
values (addresses, phones, names) become readable by every local user.

The erasure is a separate ``profilesync`` process started after the run's first batch, as in
tests/e2e/test_fix18a_erased_during_resolve.py, whose helpers this file uses.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from profilesync.cli import main
from tests.e2e.erased_during_resolve import (
    HER,
    erase_after_batches,
    eraser,  # noqa: F401 (the other process of the erasures, one for this module too)
    erasing_in,
    given_a_state_store,
    hers_with_malformed_lines,
    others,
    write,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems give a user (022): what a new file's permissions come from."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _resolve_with_her_erased_after_the_first_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quarantine: Path
) -> list[dict[str, Any]]:
    source = write(tmp_path / "people.jsonl", hers_with_malformed_lines())
    answers = erase_after_batches(monkeypatch, erasing_in(tmp_path), ["--email", HER])
    args = ["resolve", str(source), "--out", "out.jsonl", "--quarantine", str(quarantine)]
    assert main([*args, "--batch-size", "10", "--quiet"]) == 0
    return answers


def test_a_private_quarantine_file_stays_private_after_her_lines_are_taken_out(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    usual_umask: None,
) -> None:
    # GIVEN a folder where someone was erased before, and a quarantine file the user made private
    given_a_state_store(tmp_path, monkeypatch, capsys)
    quarantine = tmp_path / "private.quarantine.jsonl"
    quarantine.touch(mode=0o600)
    os.chmod(quarantine, 0o600)
    # WHEN her erasure lands during a resolve that quarantined a line of hers and a line of Quinn's
    answers = _resolve_with_her_erased_after_the_first_batch(tmp_path, monkeypatch, quarantine)
    # THEN her line is gone, Quinn's is kept, and the file is still readable by its owner only
    assert [a["ok"] for a in answers] == [True], answers
    text = quarantine.read_text(encoding="utf-8").lower()
    assert "quinn@example.com" in text
    assert "quennell" not in text
    assert stat.S_IMODE(quarantine.stat().st_mode) == 0o600


def test_a_private_quarantine_file_stays_private_when_nobody_is_erased_during_the_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    usual_umask: None,
) -> None:
    """The control: the same run with no erasure during it writes through the file it opened and
    keeps its mode (the finding above is the rewrite's alone)."""
    given_a_state_store(tmp_path, monkeypatch, capsys)
    quarantine = tmp_path / "private.quarantine.jsonl"
    quarantine.touch(mode=0o600)
    os.chmod(quarantine, 0o600)
    bad_other = {"source": "crm", "id": "q2", "updated_at": "yesterday", "email": "quinn@example.com"}
    source = write(tmp_path / "people.jsonl", [bad_other, *others(12)])
    args = ["resolve", str(source), "--out", "out.jsonl", "--quarantine", str(quarantine), "--quiet"]
    assert main(args) == 0
    assert "quinn@example.com" in quarantine.read_text(encoding="utf-8")
    assert stat.S_IMODE(quarantine.stat().st_mode) == 0o600
