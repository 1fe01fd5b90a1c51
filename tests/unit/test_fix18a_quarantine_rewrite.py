"""fix18a: the quarantine file of a ``resolve`` an erasure landed during is rewritten without the
erased person's lines (profilesync.resolve_erasures.drop_erased_lines), and only a regular file
that holds one: never a device given as ``--quarantine`` (``/dev/null``), never through a link."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.schema import Quarantined
from profilesync import quarantine_rewrite
from profilesync.resolve import write_quarantine_line
from profilesync.resolve_erasures import drop_erased_lines


def _entry(email: str) -> Quarantined:
    return Quarantined(
        source="crm",
        source_id=email,
        reason="updated_at: not a time",
        raw={"email": email, "updated_at": "yesterday"},
    )


def _hers(entry: Quarantined) -> bool:
    return entry.raw is not None and entry.raw.get("email") == "her@example.com"


def _file(path: Path, *emails: str) -> Path:
    with path.open("w", encoding="utf-8") as out:
        for email in emails:
            write_quarantine_line(_entry(email), out)
    return path


def test_her_line_goes_through_a_link_and_the_link_stays_a_link(tmp_path: Path) -> None:
    # GIVEN a quarantine file holding her line between two others, named through a symbolic link
    real = _file(tmp_path / "real.jsonl", "a@example.com", "her@example.com", "b@example.com")
    link = tmp_path / "link.jsonl"
    link.symlink_to(real)
    # WHEN her lines are dropped through the link
    dropped = drop_erased_lines(link, _hers)
    # THEN her entry is returned, the file holds the two others, and the link is still the link
    assert [e.raw for e in dropped] == [_entry("her@example.com").raw]
    assert link.is_symlink()
    left = [Quarantined.model_validate_json(line).source_id for line in real.read_text().splitlines()]
    assert left == ["a@example.com", "b@example.com"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.jsonl", "real.jsonl"]


def test_a_file_without_her_is_not_written_again(tmp_path: Path) -> None:
    path = _file(tmp_path / "q.jsonl", "a@example.com")
    before = path.stat()
    assert drop_erased_lines(path, _hers) == []
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_device_given_as_the_quarantine_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # os.replace fails the test rather than move anything over the device (the tests may run as root)
    def refused(*args: object) -> None:
        raise AssertionError(f"os.replace{args}")

    monkeypatch.setattr(quarantine_rewrite.os, "replace", refused)
    assert drop_erased_lines(Path(os.devnull), lambda _: True) == []
