"""attack30: the copy a killed quarantine rewrite left (``<file>.erasing``) outlives the erasure of a
person whose line it holds.

``resolve`` writes its quarantine file anew each run, so a person erased since the last run is not in
the next run's file. The rewrite that takes an erased person's lines out during a run
(profilesync/quarantine_rewrite.py) writes everyone else's lines to ``<file>.erasing`` first; a run
killed before the copy replaced the file leaves it behind ("a run killed halfway loses nobody else's
line (they are in the copy)", docs/privacy.md). That leftover is removed only by the next *rewrite*
(``_new_copy``, line 89); a run with no erasure during it never rewrites, and writes its own
quarantine file beside the leftover. So Bob, whose quarantined line the leftover holds, is erased,
the next runs drop his records and write no line of his, and the leftover keeps his line (his
address and name) for as long as nobody is erased during a run.

Fix idea: ``resolve`` removes a leftover ``<quarantine>.erasing`` (a regular file of one name, as
``_new_copy`` checks) when it starts writing the quarantine file anew, or drops the erased people's
lines from it too (``drop_erased_lines`` on the leftover).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.schema import Quarantined
from profilesync.cli import main
from profilesync.resolve import write_quarantine_line

BOB = {"source": "crm", "id": "8", "email": "bob@example.com", "first_name": "Bob", "updated_at": "bad"}
ANN = {
    "source": "crm",
    "id": "9",
    "email": "ann@example.com",
    "first_name": "Ann",
    "updated_at": "2026-01-05T10:00:00Z",
}


def _write(path: Path, *records: dict[str, str]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_a_leftover_copy_does_not_keep_an_erased_persons_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    state = str(tmp_path / "state")
    # GIVEN a run whose rewrite was killed: the copy of its kept lines (Bob's quarantined line) left
    leftover = tmp_path / "out.quarantine.jsonl.erasing"
    with leftover.open("w", encoding="utf-8") as out:
        write_quarantine_line(
            Quarantined(source="crm", source_id="8", reason="updated_at invalid", raw=BOB), out
        )
    # and Bob erased since (his address suppressed in the state store)
    assert main(["privacy", "erase", "--email", "bob@example.com", "--state-dir", state]) == 0
    # WHEN the next run reads his record again (and Ann's), no erasure landing during it
    second = _write(tmp_path / "in.jsonl", BOB, ANN)
    assert main(["resolve", str(second), "--out", "out.jsonl", "--state-dir", state, "--quiet"]) == 0
    # THEN its quarantine file holds no line of his, and nothing beside it does either
    assert "bob@example.com" not in (tmp_path / "out.quarantine.jsonl").read_text(encoding="utf-8")
    left = leftover.read_text(encoding="utf-8") if leftover.exists() else ""
    assert "bob@example.com" not in left
