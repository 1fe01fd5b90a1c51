"""revL28: the quarantine rewrite's copy takes the file's permissions even over a copy a killed run
left (profilesync.quarantine_rewrite: ``os.fchmod`` after ``os.open``). No test went red with the
``fchmod`` taken out: ``os.open``'s mode applies only to a file it creates, so a leftover
``<file>.erasing`` kept its own (wider) mode, and the private quarantine file moved over by it
became readable by everyone.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from core.schema import Quarantined
from profilesync.quarantine_rewrite import drop_erased_lines
from profilesync.resolve import write_quarantine_line


def _quarantine(path: Path, *ids: str) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for source_id in ids:
            write_quarantine_line(
                Quarantined(source="crm", source_id=source_id, reason="bad", raw={"id": source_id}), out
            )
    return path


def test_a_private_file_stays_private_over_a_wider_copy_a_killed_run_left(tmp_path: Path) -> None:
    # GIVEN a private (0600) quarantine file, and a copy a killed rewrite left readable by all
    path = _quarantine(tmp_path / "q.jsonl", "hers", "bob")
    os.chmod(path, 0o600)
    left = tmp_path / "q.jsonl.erasing"
    left.write_text("stale\n", encoding="utf-8")
    os.chmod(left, 0o644)
    # WHEN her line is dropped
    dropped = drop_erased_lines(path, lambda entry: entry.source_id == "hers")
    # THEN the file holds Bob's line alone and is still private
    assert [e.source_id for e in dropped] == ["hers"]
    assert [Quarantined.model_validate_json(x).source_id for x in path.open(encoding="utf-8")] == ["bob"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
