"""fix20a: two erasures during one ``profilesync resolve`` on the embedded default, one by phone and
one by record id (``privacy erase --source``), with a malformed line of each person.

Neither person is in the folder's store: each erasure finds nobody there and suppresses what it
names (her phone; his record id). The search after the run (profilesync.resolve_erasures) must find
her customer by its phone and his by its record id (a profile's ``source#`` identifiers: the output's
lines leave them out, the search must not), and take both malformed lines out of the quarantine file.
Guards the mutation of the search that reads a profile's identifiers as the output writes them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from profilesync.cli import main
from tests.e2e.erased_during_resolve import (
    HER_PHONE,
    erase_after_batches,
    eraser,  # noqa: F401 (the other process of the erasures, one for this module too)
    erasing_in,
    given_a_state_store,
    hers,
    others,
    summary_erased,
    write,
)

pytestmark = pytest.mark.slow


def test_erasures_by_phone_and_by_record_id_during_one_run_leave_both_people_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a file with her records and a malformed line of hers in its first batch, his record and a
    # malformed later version of it in its second, and a stranger's malformed line
    given_a_state_store(tmp_path, monkeypatch, capsys)
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
    crowd = others(30)
    lines = [*hers(), hers_bad, *crowd[:8], his, his_bad, *crowd[8:], stranger]
    source = write(tmp_path / "people.jsonl", lines)
    answers = erase_after_batches(
        monkeypatch, erasing_in(tmp_path), ["--phone", HER_PHONE], ["--source", "crm:contact:bart"]
    )
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
    assert summary_erased(printed) == 5, printed
