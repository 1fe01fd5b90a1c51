"""fix21p: ``resolve --identity probabilistic`` keeps the lines it drops as an erased person's as
fingerprints and weighs its customers against them after the run (profilesync/resolve_erasures.py,
fix20a), so her line that only a fuzzy link makes hers is dropped too, whether it shares her CRM
line's batch (tests/e2e/test_attack20_fuzzy_resolve_after_erasure.py), comes in a later one or in an
earlier one; a namesake born another day is resolved, and a run with exact identity is as before
(no model: no fuzzy link makes a line anybody's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from profilesync.cli import main
from tests.e2e.test_fix21p_identity_erasures import HER, PRIVATE, _erase, _people

pytestmark = pytest.mark.slow


@pytest.fixture
def erased(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """Her erasure in the folder's store, and the file of her two lines, a namesake's and Bob's."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROFILESYNC_AUDIT_SALT", raising=False)
    source = _people(tmp_path / "people.jsonl")
    _erase(HER)
    capsys.readouterr()
    return source


def _profiles() -> list[dict[str, object]]:
    return [json.loads(line) for line in Path("out.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("batch", ["20000", "1"], ids=["one-batch", "a-batch-a-line"])
def test_her_line_linked_only_by_the_model_is_dropped_and_counted(
    erased: Path, batch: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN the file is resolved with probabilistic identity, in one batch or a line a batch (her
    # shop line then comes in a later batch than her CRM line)
    argv = ["resolve", str(erased), "--out", "out.jsonl", "--identity", "probabilistic", "--quiet"]
    assert main([*argv, "--batch-size", batch]) == 0
    # THEN both her lines are dropped and counted, and the namesake and Bob are profiles
    printed = capsys.readouterr().out
    assert "erased, dropped          2" in printed, printed
    written = Path("out.jsonl").read_text(encoding="utf-8")
    assert HER not in written
    assert PRIVATE not in written
    assert "p.quennell@example.net" in written  # the namesake born in 1991
    assert "bob@example.com" in written
    assert len(_profiles()) == 2


def test_with_exact_identity_her_line_under_another_address_is_another_customer(
    erased: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The neighbour: without a model no fuzzy link makes a line hers, and the run is as before (her
    CRM line dropped, the shop line under a private address resolved as a customer of its own)."""
    assert main(["resolve", str(erased), "--out", "out.jsonl", "--quiet"]) == 0
    assert "erased, dropped          1" in capsys.readouterr().out
    written = Path("out.jsonl").read_text(encoding="utf-8")
    assert HER not in written
    assert PRIVATE in written


def test_her_line_stored_in_a_batch_before_the_line_dropped_as_hers_is_dropped_too(
    erased: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the file with her shop line first, read a line a batch
    lines = erased.read_text(encoding="utf-8").splitlines(keepends=True)
    erased.write_text("".join([lines[1], lines[0], *lines[2:]]), encoding="utf-8")
    argv = ["resolve", str(erased), "--out", "out.jsonl", "--identity", "probabilistic", "--quiet"]
    assert main([*argv, "--batch-size", "1"]) == 0
    # THEN her shop line, stored before her CRM line was dropped, is taken out of the run's store
    # after the run (profilesync/resolve_erasures.py), counted; the namesake and Bob stay
    assert "erased, dropped          2" in capsys.readouterr().out
    written = Path("out.jsonl").read_text(encoding="utf-8")
    assert HER not in written
    assert PRIVATE not in written
    assert "p.quennell@example.net" in written
    assert len(_profiles()) == 2
