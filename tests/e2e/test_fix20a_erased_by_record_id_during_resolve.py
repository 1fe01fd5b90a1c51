"""fix20a: two erasures during one ``profilesync resolve`` on the embedded default, one by phone and
one by record id (``privacy erase --source``), with a malformed line of each person.

Neither person is in the folder's store: each erasure finds nobody there and suppresses what it
names (her phone; his record id). The search after the run (profilesync.resolve_erasures) must find
her customer by its phone and his by its record id (a profile's ``source#`` identifiers: the output's
lines leave them out, the search must not), and take both malformed lines out of the quarantine file.
Guards the mutation of the search that reads a profile's identifiers as the output writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from profilesync import resolve as resolve_module
from profilesync.cli import main
from tests.e2e.test_fix18a_erased_during_resolve import (
    HER_PHONE,
    _erase,
    _given_a_state_store,
    _hers,
    _others,
    _summary_erased,
    _write,
    eraser,  # noqa: F401 (the other process of the erasures, one for this module too)
)

pytestmark = pytest.mark.slow


def test_erasures_by_phone_and_by_record_id_during_one_run_leave_both_people_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file with her records and a malformed line of hers in its first batch, his record and a
    # malformed later version of it in its second, and a stranger's malformed line
    _given_a_state_store(tmp_path, monkeypatch, capsys)
    hers_bad = {
        "source": "shop",
        "id": "9",
        "updated_at": "yesterday",
        "phone": "020 7946 0018",
        "country": "GB",
    }
    his = {"source": "crm", "id": "bart", "updated_at": "2026-01-05T10:00:00Z", "last_name": "Ashgrove"}
    his_bad = {**his, "updated_at": "yesterday", "email": "b.ashgrove@example.com"}
    stranger = {"source": "crm", "id": "q2", "updated_at": "yesterday", "email": "quinn@example.com"}
    his["email"] = "bartholomew.ashgrove@example.com"
    others = _others(30)
    lines = [*_hers(), hers_bad, *others[:8], his, his_bad, *others[8:], stranger]
    source = _write(tmp_path / "people.jsonl", lines)
    answers: list[dict[str, Any]] = []
    real = resolve_module.ingest_isolating

    def ingest_then_erase(batch: Sequence[Any], *args: Any, **kwargs: Any) -> Any:
        done = real(batch, *args, **kwargs)
        if not answers:
            answers.append(_erase(tmp_path, "--phone", HER_PHONE))
        elif len(answers) == 1:
            answers.append(_erase(tmp_path, "--source", "crm:contact:bart"))
        return done

    monkeypatch.setattr(resolve_module, "ingest_isolating", ingest_then_erase)
    # WHEN the file is resolved, ten lines a batch, each erased after the batch holding their records
    assert main(["resolve", str(source), "--out", "out.jsonl", "--batch-size", "10", "--quiet"]) == 0
    printed = capsys.readouterr().out
    # THEN both erasures answered ok; the output holds the 30 others only, the quarantine file the
    # stranger's line only, and the summary counts their three records and two malformed lines
    assert [a["ok"] for a in answers] == [True, True], answers
    written = Path("out.jsonl").read_text(encoding="utf-8").lower()
    quarantine = Path("out.quarantine.jsonl").read_text(encoding="utf-8").lower()
    assert [t for t in ("quennell", "7946", "ashgrove", "bart") if t in written + quarantine] == []
    assert len(written.splitlines()) == 30
    assert "quinn@example.com" in quarantine
    assert len(quarantine.splitlines()) == 1
    assert _summary_erased(printed) == 5, printed
