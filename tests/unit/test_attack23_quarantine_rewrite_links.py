"""attack23: the quarantine rewrite through a symlink to a file with another hard link.

``profilesync.quarantine_rewrite.drop_erased_lines`` resolves ``--quarantine`` and overwrites a file
with other hard links in place (so no other name keeps her lines), and replaces a file of one name.
Here both at once, as an operator's layout may be: ``--quarantine latest.jsonl`` a symlink to the
day's file, which a backup job hard-linked. Passes on main (a promise that holds): it catches a
rewrite that counts the links of the name given (``os.lstat``: the symlink's own, 1) and so
replaces the day's file, leaving her line at the backup's link (checked: that mutation fails it).
"""

from __future__ import annotations

import os
from pathlib import Path

from core.schema import Quarantined
from profilesync.quarantine_rewrite import drop_erased_lines
from profilesync.resolve import write_quarantine_line


def _write(path: Path, *ids: str) -> None:
    with path.open("w", encoding="utf-8") as out:
        for source_id in ids:
            entry = Quarantined(source="crm", source_id=source_id, reason="bad", raw={"id": source_id})
            write_quarantine_line(entry, out)


def _ids(path: Path) -> list[str]:
    return [Quarantined.model_validate_json(line).source_id for line in path.open(encoding="utf-8")]


def test_a_symlink_to_a_hard_linked_file_keeps_her_line_nowhere(tmp_path: Path) -> None:
    # GIVEN the day's quarantine file, hard-linked by a backup, and a symlink the run was given
    day = tmp_path / "2026-03-01.jsonl"
    _write(day, "hers", "bob", "carl")
    backup = tmp_path / "backup" / "2026-03-01.jsonl"
    backup.parent.mkdir()
    os.link(day, backup)
    latest = tmp_path / "latest.jsonl"
    latest.symlink_to(day)
    # WHEN her line is taken out through the symlink
    dropped = drop_erased_lines(latest, lambda entry: entry.source_id == "hers")
    # THEN it is the line returned, and no name holds it: the symlink, the day's file, the backup
    assert [e.source_id for e in dropped] == ["hers"]
    assert _ids(latest) == _ids(day) == _ids(backup) == ["bob", "carl"]
    # AND the symlink is still a symlink to the day's file, which is still the backup's inode
    assert latest.is_symlink()
    assert latest.resolve() == day.resolve()
    assert os.path.samefile(day, backup)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2026-03-01.jsonl", "backup", "latest.jsonl"]
