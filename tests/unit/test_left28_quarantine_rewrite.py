"""left28 (revP27's leftovers): the quarantine rewrite (profilesync.quarantine_rewrite.drop_erased_lines)
asks ``erased`` once a line and keeps the answer, and leaves her lines at no other hard link.

Before, it asked twice a line (once to list her entries, once while writing the kept lines): an
erasure landing between the two passes took a line out of the file that the returned entries (and so
the run's counts) did not name. And it wrote a new file and moved it over the name it was given, so
another hard link to the quarantine file kept the old file, her lines in it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from core.schema import Quarantined
from profilesync.resolve import write_quarantine_line
from profilesync.resolve_erasures import drop_erased_lines


def _quarantine(path: Path, *ids: str) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for source_id in ids:
            write_quarantine_line(
                Quarantined(source="crm", source_id=source_id, reason="bad", raw={"id": source_id}), out
            )
    return path


def _ids(path: Path) -> list[str]:
    return [Quarantined.model_validate_json(line).source_id for line in path.open(encoding="utf-8")]


def test_an_erasure_landing_while_the_file_is_read_leaves_out_the_lines_it_returns(
    tmp_path: Path,
) -> None:
    # GIVEN a quarantine file of her line, Bob's and Carl's
    path = _quarantine(tmp_path / "q.jsonl", "hers", "bob", "carl")
    erased_ids = {"hers"}
    asked: list[str] = []

    def erased(entry: Quarantined) -> bool:
        asked.append(entry.source_id)
        if len(asked) == 3:
            erased_ids.add("bob")  # Bob's erasure lands after the third question
        return entry.source_id in erased_ids

    # WHEN her lines are taken out
    dropped = drop_erased_lines(path, erased)
    # THEN each line was asked about once, and the lines left out are the lines returned
    assert asked == ["hers", "bob", "carl"]
    assert [e.source_id for e in dropped] == ["hers"]
    assert _ids(path) == ["bob", "carl"]


def test_a_quarantine_file_with_another_hard_link_keeps_her_lines_at_neither(tmp_path: Path) -> None:
    # GIVEN a private quarantine file, also reachable by a second hard link (a backup's, a tail's)
    path = _quarantine(tmp_path / "q.jsonl", "bob", "hers", "carl")
    os.chmod(path, 0o600)
    other = tmp_path / "kept-elsewhere.jsonl"
    os.link(path, other)
    inode = path.stat().st_ino
    # WHEN her lines are taken out
    dropped = drop_erased_lines(path, lambda entry: entry.source_id == "hers")
    # THEN neither name holds her line, both hold the others', and they are still one private file
    assert [e.source_id for e in dropped] == ["hers"]
    assert _ids(path) == _ids(other) == ["bob", "carl"]
    assert path.stat().st_ino == other.stat().st_ino == inode
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # AND no copy is left beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept-elsewhere.jsonl", "q.jsonl"]


def test_a_file_with_one_name_is_replaced_whole(tmp_path: Path) -> None:
    # GIVEN a quarantine file with one name, opened by a reader before the rewrite
    path = _quarantine(tmp_path / "q.jsonl", "bob", "hers")
    with path.open(encoding="utf-8") as reader:
        # WHEN her lines are taken out
        drop_erased_lines(path, lambda entry: entry.source_id == "hers")
        # THEN the reader still reads the whole old file (a replace, never a file half written)
        assert len(reader.readlines()) == 2
    assert _ids(path) == ["bob"]
