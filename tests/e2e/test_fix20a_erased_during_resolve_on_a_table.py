"""fix20a: erasures made while ``profilesync resolve --endpoint-url`` runs, and the quarantine file.

With ``--endpoint-url`` the run writes into the table (moto's server here) that an erasure in another
process deletes from, and the output is read from the table after: her profile is not in it. Her
malformed lines, though, go to the run's own quarantine file as they are read; those written before
her erasure answered stayed there (docs/privacy.md said so: "not covered yet"). Now the run reads the
table's erasure epoch before any line is quarantined and again before and after the output is
written, and takes an erased person's lines out of the file (a regular file only: ``/dev/null`` is
left alone, tests/unit/test_fix18a_quarantine_rewrite.py). Each erasure is a separate ``profilesync``
process against the same table; one answering while ``--out`` is written has it written again.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from profilesync import resolve as resolve_module
from profilesync.cli import main
from tests.cli_process import CliProcess, ended_with_the_module
from tests.e2e.erased_during_resolve import (
    HER,
    HER_PHONE,
    erase_after_batches,
    hers,
    his,
    others,
    summary_erased,
    write,
)
from tests.e2e.test_endpoint_url import endpoint as moto_endpoint  # noqa: F401 (a fixture)

pytestmark = pytest.mark.slow

HIS_RECORD = "crm:contact:bart"
SALT = "fix20a-table-salt"
#: The other process of the erasures (tests/cli_process.py), with the run's audit salt.
ERASER = CliProcess(setting={"PROFILESYNC_AUDIT_SALT": SALT})

eraser = ended_with_the_module(ERASER, "eraser")


def _erase(arguments: Sequence[str]) -> dict[str, Any]:
    """``profilesync privacy erase ARGUMENTS`` in another process (against the run's table)."""
    done = ERASER.run(["privacy", "erase", *arguments, "--requested-by", "dpo"], cwd=Path.cwd())
    assert done.returncode == 0, done.stderr[-2000:]
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def _malformed(record_id: str, **fields: str) -> dict[str, object]:
    """A line normalisation quarantines (its timestamp is no time)."""
    return {"source": "crm", "id": record_id, "updated_at": "yesterday", **fields}


def _hers() -> list[dict[str, object]]:
    """Her CRM record (her address and phone) and a malformed line of hers."""
    return [{**hers()[0], "email": HER}, _malformed("q1", email=HER.upper(), last_name="Quennell")]


def _his() -> list[dict[str, object]]:
    """His CRM record and a malformed later version of it."""
    return [*his(), _malformed("bart", last_name="Ashgrove", note="a later version of his record")]


def _quarantined(path: Path) -> list[str]:
    return [json.loads(line)["source_id"] for line in path.read_text(encoding="utf-8").splitlines()]


def _quarantined_count(printed: str) -> int | None:
    for line in printed.splitlines():
        if line.split()[:1] == ["quarantined"]:
            return int(line.split()[1].replace(",", ""))
    return None


@pytest.fixture
def where(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:  # noqa: F811
    """The options naming the run's table on moto's server and its state folder; ``tmp_path`` the
    working folder, with the run's audit salt."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PROFILESYNC_AUDIT_SALT", SALT)
    return ["--endpoint-url", moto_endpoint, "--table", "fix20a", "--state-dir", str(tmp_path / "state")]


def _resolved(source: Path, where: list[str], capsys: pytest.CaptureFixture[str], *options: str) -> str:
    """``profilesync resolve SOURCE --out out.jsonl`` into the table, quiet: what it printed (it ends 0)."""
    assert main(["resolve", str(source), "--out", "out.jsonl", "-q", *options, *where]) == 0
    return capsys.readouterr().out


def _written() -> str:
    """The --out file and the quarantine file the run wrote, lower case."""
    return (Path("out.jsonl").read_text(encoding="utf-8") + Path("out.quarantine.jsonl").read_text()).lower()


def test_her_malformed_line_quarantined_before_her_erasure_leaves_the_quarantine_file(
    where: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a file whose first batch holds her record, a malformed line of hers and a stranger's
    stranger = _malformed("q2", email="quinn@example.com")
    source = write(Path("people.jsonl"), [*_hers(), stranger, *others(20)])
    answers = erase_after_batches(monkeypatch, _erase, [*where, "--email", HER])
    # WHEN the file is resolved into the table, ten lines a batch, and she is erased after the first
    printed = _resolved(source, where, capsys, "--batch-size", "10")
    # THEN her erasure answered ok; the quarantine file holds the stranger's line alone, neither file
    # holds her, and the summary counts her malformed line as erased, not quarantined
    assert [a["ok"] for a in answers] == [True], answers
    assert _quarantined(Path("out.quarantine.jsonl")) == ["q2"]
    written = _written()
    assert [t for t in ("quennell", "philippa", "7946") if t in written] == []
    assert sum(1 for line in written.splitlines() if "person" in line) == 20
    assert summary_erased(printed) == 1, printed
    assert _quarantined_count(printed) == 1, printed


def test_two_erasures_by_phone_and_by_record_id_take_both_peoples_lines_out(
    where: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a file with her lines in its first batch and his (a malformed later version of his
    # record among them) in its second, and a stranger's malformed line in the third
    crowd = others(30)
    lines = [*_hers(), *crowd[:8], *_his(), *crowd[8:16], _malformed("q2", email="quinn@example.com")]
    source = write(Path("people.jsonl"), [*lines, *crowd[16:]])
    answers = erase_after_batches(
        monkeypatch, _erase, [*where, "--phone", HER_PHONE], [*where, "--source", HIS_RECORD]
    )
    # WHEN she is erased by phone after the first batch and he by his record id after the second
    printed = _resolved(source, where, capsys, "--batch-size", "10")
    # THEN both answered ok, only the stranger's line is quarantined, and nothing of either is written
    assert [a["ok"] for a in answers] == [True, True], answers
    assert _quarantined(Path("out.quarantine.jsonl")) == ["q2"]
    written = _written()
    assert [t for t in ("quennell", "7946", "ashgrove", "bartholomew") if t in written] == []
    assert sum(1 for line in written.splitlines() if "person" in line) == 30
    assert summary_erased(printed) == 2, printed


def test_an_erasure_of_someone_with_no_malformed_line_leaves_the_quarantine_file_as_it_was(
    where: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a file whose first batch holds her well-formed record and two strangers' malformed lines
    strangers = [_malformed("q2", email="quinn@example.com"), _malformed("q3", email="ruth@example.com")]
    source = write(Path("people.jsonl"), [_hers()[0], *strangers, *others(12)])
    answers = erase_after_batches(monkeypatch, _erase, [*where, "--email", HER])
    from profilesync import resolve_erasures

    rewritten: list[Path] = []
    real = resolve_erasures.drop_erased_lines

    def watched(path: Path, *args: Any) -> Any:
        dropped = real(path, *args)
        rewritten.extend([path] if dropped else [])
        return dropped

    monkeypatch.setattr(resolve_erasures, "drop_erased_lines", watched)
    # WHEN she is erased during the run
    printed = _resolved(source, where, capsys, "--batch-size", "10")
    # THEN her profile is not written, and the quarantine file keeps both lines, not rewritten
    assert [a["ok"] for a in answers] == [True], answers
    assert "quennell" not in Path("out.jsonl").read_text(encoding="utf-8").lower()
    assert _quarantined(Path("out.quarantine.jsonl")) == ["q2", "q3"]
    assert rewritten == []
    assert _quarantined_count(printed) == 2, printed
    assert summary_erased(printed) is None, printed


def test_an_erasure_answering_while_the_output_is_written_has_it_written_again_without_her(
    where: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a file holding her lines, every line read with no erasure under way
    source = write(Path("people.jsonl"), [*others(5), *_hers()])
    answers: list[dict[str, Any]] = []
    real = resolve_module.write_profiles

    def write_then_erase(*args: Any, **kwargs: Any) -> int:
        count = real(*args, **kwargs)
        if not answers:  # her erasure answers once the file is written with her, before the run ends
            args[1].flush()
            assert "quennell" in Path("out.jsonl").read_text(encoding="utf-8").lower()
            answers.append(_erase([*where, "--email", HER]))
        return count

    monkeypatch.setattr(resolve_module, "write_profiles", write_then_erase)
    # WHEN the file is resolved into the table
    printed = _resolved(source, where, capsys)
    # THEN the files the run left, finished after her erasure's answer, do not hold her
    assert [a["ok"] for a in answers] == [True], answers
    written = _written()
    assert "quennell" not in written
    assert len(Path("out.jsonl").read_text(encoding="utf-8").splitlines()) == 5
    assert "wrote 5 profiles" in printed
    assert summary_erased(printed) == 1, printed
