"""``resolve`` of a pipe reads it once into a copy of the run's own, and leaves no copy behind (lead31).

tests/e2e/test_attack31r_resolve_from_a_pipe.py proves nothing is lost; these hold the copy to what a
file of personal data needs: gone when the run ends, and a killed run's copy removed by the next run
in that folder (profilesync.stores.spooled_input, named like the run's temporary store)."""

from __future__ import annotations

import os
from pathlib import Path

from profilesync.cli import main
from profilesync.stores import SPOOL_SUFFIX, TEMPORARY_PREFIX, spooled_input

LINE = b'{"source": "crm", "id": "c1", "updated_at": "2026-01-05T10:00:00Z", "email": "p1@example.com"}\n'


def _spools(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"{TEMPORARY_PREFIX}*{SPOOL_SUFFIX}"))


def test_a_piped_run_leaves_no_copy_of_its_input(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, LINE)
    os.close(write_end)
    try:
        out = tmp_path / "out" / "profiles.jsonl"
        code = main(
            ["resolve", f"/dev/fd/{read_end}", "--out", str(out), "--quiet", "--state-dir", str(tmp_path)]
        )
    finally:
        os.close(read_end)
    assert code == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1
    assert _spools(out.parent) == []


def test_a_killed_runs_copy_is_removed_by_the_next_run(tmp_path: Path) -> None:
    # GIVEN the copy a killed run left (its process id names no live process)
    dead = tmp_path / f"{TEMPORARY_PREFIX}999999999-abc{SPOOL_SUFFIX}"
    dead.write_bytes(LINE)
    read_end, write_end = os.pipe()
    os.write(write_end, LINE)
    os.close(write_end)
    try:
        # WHEN the next run spools its own pipe there THEN the dead copy is gone, its own is there
        with spooled_input(Path(f"/dev/fd/{read_end}"), tmp_path) as copy:
            assert _spools(tmp_path) == [copy]
            assert copy.read_bytes() == LINE
    finally:
        os.close(read_end)
    assert _spools(tmp_path) == []


def test_a_regular_file_is_read_in_place(tmp_path: Path) -> None:
    given = tmp_path / "people.jsonl"
    given.write_bytes(LINE)
    with spooled_input(given, tmp_path) as path:
        assert path == given
    assert given.exists()
