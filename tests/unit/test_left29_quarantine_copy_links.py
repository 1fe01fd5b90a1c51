"""left29: the quarantine rewrite's copy ``<file>.erasing`` is always a file it makes
(profilesync.quarantine_rewrite).

Before, the copy was opened with ``O_CREAT | O_TRUNC`` and no ``O_NOFOLLOW``: a symlink planted at
``<file>.erasing`` (by anyone who can write the quarantine file's folder) had the rewrite write the
kept lines through it into the file it points at (truncating that file), or create the file a
dangling link names; and a second hard link at that name had its other file truncated. Each test
below fails on that code (checked with ``git show main:profilesync/quarantine_rewrite.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.schema import Quarantined
from profilesync.cli_errors import EXIT_FAILED, describe_failure
from profilesync.quarantine_rewrite import QuarantineCopyError, drop_erased_lines
from profilesync.resolve import write_quarantine_line


def _quarantine(path: Path, *ids: str) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for source_id in ids:
            write_quarantine_line(
                Quarantined(source="crm", source_id=source_id, reason="bad", raw={"id": source_id}), out
            )
    return path


def _hers(entry: Quarantined) -> bool:
    return entry.source_id == "hers"


def test_a_symlink_planted_at_the_copy_is_refused_and_its_target_is_untouched(tmp_path: Path) -> None:
    # GIVEN a quarantine file of her line and Bob's, and <file>.erasing a symlink to another file
    path = _quarantine(tmp_path / "q.jsonl", "hers", "bob")
    before = path.read_bytes()
    elsewhere = tmp_path / "elsewhere" / "notes.txt"
    elsewhere.parent.mkdir()
    elsewhere.write_text("the operator's notes\n", encoding="utf-8")
    copy = tmp_path / "q.jsonl.erasing"
    copy.symlink_to(elsewhere)
    # WHEN her lines are taken out
    with pytest.raises(QuarantineCopyError, match="is a symlink") as refused:
        drop_erased_lines(path, _hers)
    # THEN nothing was written through the link, the quarantine file is as it was (no line lost),
    # the link is left for the operator to look at, and the CLI reports a failed run naming it
    assert elsewhere.read_text(encoding="utf-8") == "the operator's notes\n"
    assert path.read_bytes() == before
    assert copy.is_symlink()
    failure = describe_failure(refused.value)
    assert failure.code == EXIT_FAILED
    assert str(copy) in failure.message
    assert "Remove" in failure.message


def test_a_dangling_symlink_at_the_copy_makes_no_file_where_it_points(tmp_path: Path) -> None:
    # GIVEN <file>.erasing a symlink to a name that does not exist yet
    path = _quarantine(tmp_path / "q.jsonl", "bob", "hers")
    target = tmp_path / "public" / "bob.jsonl"
    target.parent.mkdir()
    (tmp_path / "q.jsonl.erasing").symlink_to(target)
    # WHEN her lines are taken out
    with pytest.raises(QuarantineCopyError):
        drop_erased_lines(path, _hers)
    # THEN no file was made at the link's target (Bob's line is not copied there)
    assert not target.exists()
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_a_copy_name_with_another_hard_link_is_refused_and_the_other_file_kept(tmp_path: Path) -> None:
    # GIVEN <file>.erasing a second name of another file
    path = _quarantine(tmp_path / "q.jsonl", "hers", "bob")
    other = tmp_path / "ledger.csv"
    other.write_text("id,total\n1,20\n", encoding="utf-8")
    os.link(other, tmp_path / "q.jsonl.erasing")
    # WHEN her lines are taken out
    with pytest.raises(QuarantineCopyError, match="2 names"):
        drop_erased_lines(path, _hers)
    # THEN the other file keeps its content
    assert other.read_text(encoding="utf-8") == "id,total\n1,20\n"


def test_a_directory_at_the_copy_name_is_refused_clearly(tmp_path: Path) -> None:
    # GIVEN a directory where the copy goes
    path = _quarantine(tmp_path / "q.jsonl", "hers", "bob")
    (tmp_path / "q.jsonl.erasing").mkdir()
    # WHEN her lines are taken out THEN the error says what is in the way (not a bare OSError)
    with pytest.raises(QuarantineCopyError, match="not a regular file"):
        drop_erased_lines(path, _hers)
    assert len(path.read_text(encoding="utf-8").splitlines()) == 2


def test_a_hard_linked_file_is_written_from_the_copy_made_not_from_its_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a quarantine file with a second hard link (so it is overwritten in place), and a copy
    # name that someone swaps for a file of theirs right after the copy is written
    path = _quarantine(tmp_path / "q.jsonl", "hers", "bob")
    os.link(path, tmp_path / "backup.jsonl")
    planted = _quarantine(tmp_path / "planted.jsonl", "mallory")
    synced = os.fsync

    def swap_after_the_copy_is_written(descriptor: int) -> None:
        synced(descriptor)
        if os.path.samestat(os.fstat(descriptor), os.stat(tmp_path / "q.jsonl.erasing")):
            os.replace(planted, tmp_path / "q.jsonl.erasing")

    monkeypatch.setattr(os, "fsync", swap_after_the_copy_is_written)
    # WHEN her lines are taken out
    drop_erased_lines(path, _hers)
    # THEN the file (at both names) holds Bob's line, read back from the copy the rewrite wrote, not
    # the file now at the copy's name (before: Mallory's line)
    for name in (path, tmp_path / "backup.jsonl"):
        assert [Quarantined.model_validate_json(line).source_id for line in name.open()] == ["bob"]
