"""revP27: the quarantine rewrite (profilesync.resolve_erasures.drop_erased_lines) after a run killed
between its steps.

The rewrite writes ``<file>.erasing`` and moves it over the quarantine file. A run killed after it
made that copy and before the move leaves the copy behind, with the permissions it was made with
(an older release's 0644 from the umask). ``os.open`` with ``O_CREAT`` keeps an existing file's
permissions, so only the ``fchmod`` that b24bc07 adds makes the next rewrite private again: attack20's
test (a fresh directory, a 0600 file under umask 022) passes without it, this one does not.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from core.schema import Quarantined
from profilesync.resolve import write_quarantine_line
from profilesync.resolve_erasures import drop_erased_lines


def _quarantine(path: Path, *ids: str) -> None:
    with path.open("w", encoding="utf-8") as out:
        for source_id in ids:
            write_quarantine_line(
                Quarantined(source="crm", source_id=source_id, reason="bad", raw={"id": source_id}), out
            )


def test_a_leftover_copy_of_a_killed_rewrite_does_not_widen_a_private_quarantine(tmp_path: Path) -> None:
    # GIVEN a private quarantine file holding her line and Bob's, and a world-readable copy a killed
    # rewrite left beside it
    quarantine = tmp_path / "out.quarantine.jsonl"
    _quarantine(quarantine, "hers", "bob")
    os.chmod(quarantine, 0o600)
    leftover = tmp_path / "out.quarantine.jsonl.erasing"
    _quarantine(leftover, "bob")
    os.chmod(leftover, 0o644)
    # WHEN her line is taken out
    dropped = drop_erased_lines(quarantine, lambda entry: entry.source_id == "hers")
    # THEN the file keeps Bob's line only, and stays private; no copy is left
    assert [e.source_id for e in dropped] == ["hers"]
    assert [Quarantined.model_validate_json(line).source_id for line in quarantine.open()] == ["bob"]
    assert stat.S_IMODE(quarantine.stat().st_mode) == 0o600
    assert not leftover.exists()
