"""fix18a: erasures made in another process while ``profilesync resolve`` (embedded default) runs.

The neighbours of tests/e2e/test_attack18_erased_during_resolve.py: an erasure by phone, two
erasures, one that answers while the output is being written (the file is written again), and her
malformed line quarantined before her erasure (taken out of the quarantine file). Each erasure is a
``profilesync`` command in another process, as in the attack's tests (one process per module runs them
one after another: tests/cli_process.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

import pytest

from profilesync import resolve_output
from profilesync.cli import main
from tests.e2e.erased_during_resolve import (
    HER,
    HER_PHONE,
    HIM,
    erase,
    erase_after_batches,
    eraser,  # noqa: F401 (the other process of the erasures, one for this module)
    erasing_in,
    given_a_state_store,
    hers,
    hers_with_malformed_lines,
    his,
    others,
    summary_erased,
    write,
)

pytestmark = pytest.mark.slow


def test_her_erasure_by_phone_while_her_lines_are_resolved_leaves_her_out_of_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a folder with an embedded store, and a file holding her two records (by phone) early on
    given_a_state_store(tmp_path, monkeypatch, capsys)
    crowd = others()
    source = write(tmp_path / "people.jsonl", [*crowd[:3], *hers(), *crowd[3:]])
    # AND her erasure by phone in another process, once the run has ingested her batch (the first)
    answers = erase_after_batches(monkeypatch, erasing_in(tmp_path), ["--phone", HER_PHONE])
    # WHEN the file is resolved, ten lines a batch, and she is erased by phone after her batch
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN the erasure answered ok, the output holds the 30 others and nothing of hers, and the summary
    # counts her two records as erased
    assert [a["ok"] for a in answers] == [True], answers
    written = Path("out.jsonl").read_text(encoding="utf-8").lower()
    assert sum(1 for line in written.splitlines() if "person" in line) == 30
    assert [t for t in ("quennell", "philippa", "7946") if t in written] == []
    assert summary_erased(printed) == 2, printed
    assert "wrote 30 profiles" in printed


def test_two_erasures_during_one_run_leave_both_people_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file holding her records in its first batch and his in its second
    given_a_state_store(tmp_path, monkeypatch, capsys)
    crowd = others()
    source = write(tmp_path / "people.jsonl", [*hers(), *crowd[:8], *his(), *crowd[8:]])
    answers = erase_after_batches(monkeypatch, erasing_in(tmp_path), ["--phone", HER_PHONE], ["--email", HIM])
    # WHEN the file is resolved, each of them erased after the batch holding their records
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN both erasures answered ok, and the output holds neither of them, only the 30 others
    assert [a["ok"] for a in answers] == [True, True], answers
    written = Path("out.jsonl").read_text(encoding="utf-8").lower()
    assert [t for t in ("quennell", "7946", "ashgrove", "bartholomew") if t in written] == []
    assert len(written.splitlines()) == 30
    assert summary_erased(printed) == 3, printed


def test_an_erasure_answering_while_the_output_is_written_has_the_file_written_again_without_her(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file holding her records, every line read with no erasure under way
    given_a_state_store(tmp_path, monkeypatch, capsys)
    source = write(tmp_path / "people.jsonl", [*others(5), *hers()])
    answers: list[dict[str, Any]] = []
    real = resolve_output.write_store

    def write_then_erase(store: Path, out: TextIO, *args: Any, **kwargs: Any) -> int:
        count = real(store, out, *args, **kwargs)
        if not answers:  # her erasure answers once the file is written, before the run ends
            out.flush()
            assert "quennell" in Path("out.jsonl").read_text(encoding="utf-8").lower()
            answers.append(erase(tmp_path, "--phone", HER_PHONE))
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
    assert summary_erased(printed) == 2, printed


def test_her_malformed_line_quarantined_before_her_erasure_leaves_the_quarantine_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file whose first batch holds her records and a malformed line of hers (a bad timestamp
    # beside her address), and a malformed line of someone else's
    given_a_state_store(tmp_path, monkeypatch, capsys)
    source = write(tmp_path / "people.jsonl", hers_with_malformed_lines())
    answers = erase_after_batches(monkeypatch, erasing_in(tmp_path), ["--email", HER])
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
    assert summary_erased(printed) == 3, printed
    assert any(line.split()[:2] == ["quarantined", "1"] for line in printed.splitlines()), printed


def test_a_run_no_erasure_lands_during_searches_nothing_after_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a folder whose embedded store holds an erasure made before the run, and a file
    from profilesync import resolve_erasures

    given_a_state_store(tmp_path, monkeypatch, capsys)
    source = write(tmp_path / "people.jsonl", [*others(12), *hers()])
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
    assert summary_erased(printed) is None, printed
