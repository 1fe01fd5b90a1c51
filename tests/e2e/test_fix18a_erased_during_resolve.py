"""fix18a: erasures made in another process while ``profilesync resolve`` (embedded default) runs.

The neighbours of tests/e2e/test_attack18_erased_during_resolve.py: an erasure by phone, two
erasures, one that answers while the output is being written (the file is written again), and her
malformed line quarantined before her erasure (taken out of the quarantine file). Each erasure is a
``profilesync`` command in another process, as in the attack's tests (one process per module runs them
one after another: tests/cli_process.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import pytest

from profilesync import resolve as resolve_module
from profilesync import resolve_output
from profilesync.cli import main
from tests.cli_process import CliProcess

pytestmark = pytest.mark.slow

HER = "philippa.quennell@example.com"
HER_PHONE = "+442079460018"
HIM = "bartholomew.ashgrove@example.com"


#: ``profilesync`` in another process (one per module: tests/cli_process.py), without the audit salt
#: of this one's environment, as a user's second terminal.
ERASER = CliProcess(without=("PROFILESYNC_AUDIT_SALT",))


@pytest.fixture(scope="module", autouse=True)
def eraser() -> Iterator[CliProcess]:
    """The other process of this module's erasures, ended with the module."""
    try:
        yield ERASER
    finally:
        ERASER.close()


def _erase(folder: Path, *who: str) -> dict[str, Any]:
    done = ERASER.run(["privacy", "erase", *who, "--requested-by", "dpo"], cwd=folder)
    assert done.returncode == 0, done.stderr[-2000:]
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def _others(n: int = 30) -> list[dict[str, object]]:
    return [
        {
            "source": "crm",
            "id": f"p{i}",
            "updated_at": "2026-01-05T10:00:00Z",
            "email": f"person{i}@example.com",
        }
        for i in range(n)
    ]


def _hers() -> list[dict[str, object]]:
    return [
        {
            "source": "crm",
            "id": "phil",
            "updated_at": "2026-01-05T10:00:00Z",
            "phone": "+44 20 7946 0018",
            "first_name": "Philippa",
            "last_name": "Quennell",
        },
        {
            "source": "shop",
            "id": "9",
            "updated_at": "2026-01-06T10:00:00Z",
            "phone": "020 7946 0018",
            "country": "GB",
        },
    ]


def _his() -> list[dict[str, object]]:
    return [
        {
            "source": "crm",
            "id": "bart",
            "updated_at": "2026-01-05T10:00:00Z",
            "email": HIM,
            "last_name": "Ashgrove",
        }
    ]


def _given_a_state_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PROFILESYNC_AUDIT_SALT", raising=False)
    assert main(["privacy", "erase", "--email", "someone.else@example.com", "--requested-by", "dpo"]) == 0
    capsys.readouterr()


def _write(path: Path, lines: Sequence[dict[str, object] | str]) -> Path:
    path.write_text(
        "".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines), encoding="utf-8"
    )
    return path


def _summary_erased(printed: str) -> int | None:
    for line in printed.splitlines():
        if line.split()[:2] == ["erased,", "dropped"]:
            return int(line.split()[2].replace(",", ""))
    return None


def test_her_erasure_by_phone_while_her_lines_are_resolved_leaves_her_out_of_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a folder with an embedded store, and a file holding her two records (by phone) early on
    _given_a_state_store(tmp_path, monkeypatch, capsys)
    others = _others()
    source = _write(tmp_path / "people.jsonl", [*others[:3], *_hers(), *others[3:]])
    answers: list[dict[str, Any]] = []
    real = resolve_module.ingest_isolating

    def ingest_then_erase(batch: Sequence[Any], *args: Any, **kwargs: Any) -> Any:
        done = real(batch, *args, **kwargs)
        if not answers:  # her batch, the first one
            answers.append(_erase(tmp_path, "--phone", HER_PHONE))
        return done

    monkeypatch.setattr(resolve_module, "ingest_isolating", ingest_then_erase)
    # WHEN the file is resolved, ten lines a batch, and she is erased by phone after her batch
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN the erasure answered ok, the output holds the 30 others and nothing of hers, and the summary
    # counts her two records as erased
    assert [a["ok"] for a in answers] == [True], answers
    written = Path("out.jsonl").read_text(encoding="utf-8").lower()
    assert sum(1 for line in written.splitlines() if "person" in line) == 30
    assert [t for t in ("quennell", "philippa", "7946") if t in written] == []
    assert _summary_erased(printed) == 2, printed
    assert "wrote 30 profiles" in printed


def test_two_erasures_during_one_run_leave_both_people_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file holding her records in its first batch and his in its second
    _given_a_state_store(tmp_path, monkeypatch, capsys)
    others = _others()
    source = _write(tmp_path / "people.jsonl", [*_hers(), *others[:8], *_his(), *others[8:]])
    answers: list[dict[str, Any]] = []
    real = resolve_module.ingest_isolating

    def ingest_then_erase(batch: Sequence[Any], *args: Any, **kwargs: Any) -> Any:
        done = real(batch, *args, **kwargs)
        if len(answers) == 0:
            answers.append(_erase(tmp_path, "--phone", HER_PHONE))
        elif len(answers) == 1:
            answers.append(_erase(tmp_path, "--email", HIM))
        return done

    monkeypatch.setattr(resolve_module, "ingest_isolating", ingest_then_erase)
    # WHEN the file is resolved, each of them erased after the batch holding their records
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN both erasures answered ok, and the output holds neither of them, only the 30 others
    assert [a["ok"] for a in answers] == [True, True], answers
    written = Path("out.jsonl").read_text(encoding="utf-8").lower()
    assert [t for t in ("quennell", "7946", "ashgrove", "bartholomew") if t in written] == []
    assert len(written.splitlines()) == 30
    assert _summary_erased(printed) == 3, printed


def test_an_erasure_answering_while_the_output_is_written_has_the_file_written_again_without_her(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file holding her records, every line read with no erasure under way
    _given_a_state_store(tmp_path, monkeypatch, capsys)
    source = _write(tmp_path / "people.jsonl", [*_others(5), *_hers()])
    answers: list[dict[str, Any]] = []
    real = resolve_output.write_store

    def write_then_erase(store: Path, out: TextIO, *args: Any, **kwargs: Any) -> int:
        count = real(store, out, *args, **kwargs)
        if not answers:  # her erasure answers once the file is written, before the run ends
            out.flush()
            assert "quennell" in Path("out.jsonl").read_text(encoding="utf-8").lower()
            answers.append(_erase(tmp_path, "--phone", HER_PHONE))
        return count

    monkeypatch.setattr(resolve_output, "write_store", write_then_erase)
    # WHEN the file is resolved
    assert main(["resolve", str(source), "--out", "out.jsonl", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN the file the run left, finished after her erasure's answer, does not hold her
    assert [a["ok"] for a in answers] == [True], answers
    written = Path("out.jsonl").read_text(encoding="utf-8").lower()
    assert "quennell" not in written
    assert len(written.splitlines()) == 5
    assert "wrote 5 profiles" in printed
    assert _summary_erased(printed) == 2, printed


def test_her_malformed_line_quarantined_before_her_erasure_leaves_the_quarantine_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file whose first batch holds her records and a malformed line of hers (a bad timestamp
    # beside her address), and a malformed line of someone else's
    _given_a_state_store(tmp_path, monkeypatch, capsys)
    bad_hers = {"source": "crm", "id": "q1", "updated_at": "yesterday", "email": HER, "last_name": "Quennell"}
    bad_other = {"source": "crm", "id": "q2", "updated_at": "yesterday", "email": "quinn@example.com"}
    mine = [{**_hers()[0], "email": HER}, _hers()[1]]
    source = _write(tmp_path / "people.jsonl", [*mine, bad_hers, bad_other, *_others(20)])
    answers: list[dict[str, Any]] = []
    real = resolve_module.ingest_isolating

    def ingest_then_erase(batch: Sequence[Any], *args: Any, **kwargs: Any) -> Any:
        done = real(batch, *args, **kwargs)
        if not answers:
            answers.append(_erase(tmp_path, "--email", HER))
        return done

    monkeypatch.setattr(resolve_module, "ingest_isolating", ingest_then_erase)
    # WHEN the file is resolved, ten lines a batch
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN neither file holds her; the other malformed line is still quarantined, and the summary
    # counts her three records as erased and one quarantined
    assert [a["ok"] for a in answers] == [True], answers
    quarantine = Path("out.quarantine.jsonl").read_text(encoding="utf-8").lower()
    assert "quinn@example.com" in quarantine
    assert len(quarantine.splitlines()) == 1
    written = Path("out.jsonl").read_text(encoding="utf-8").lower()
    assert [t for t in ("quennell", "philippa") if t in quarantine + written] == []
    assert _summary_erased(printed) == 3, printed
    assert any(line.split()[:2] == ["quarantined", "1"] for line in printed.splitlines()), printed


def test_a_run_no_erasure_lands_during_searches_nothing_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a folder whose embedded store holds an erasure made before the run, and a file
    from profilesync import resolve_erasures

    _given_a_state_store(tmp_path, monkeypatch, capsys)
    source = _write(tmp_path / "people.jsonl", [*_others(12), *_hers()])
    searched: list[int] = []
    real = resolve_erasures.take_out_erased

    def counted(*args: Any, **kwargs: Any) -> None:
        searched.append(1)
        real(*args, **kwargs)

    monkeypatch.setattr(resolve_erasures, "take_out_erased", counted)
    # WHEN it is resolved with nobody erased during the run
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN the run's store is not searched again (the epoch vouches for every batch), and she is there
    assert searched == []
    assert "quennell" in Path("out.jsonl").read_text(encoding="utf-8").lower()
    assert _summary_erased(printed) is None, printed
