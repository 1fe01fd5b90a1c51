"""The tests' tmp_path is in memory where the machine has a tmpfs with room (tests/runner_temp.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests import runner_temp


def _statvfs(free: int) -> os.statvfs_result:
    # f_bsize, f_frsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_favail, f_flag, f_namemax
    return os.statvfs_result((4096, 1, free * 2, free, free, 10, 10, 10, 0, 255))


def _no_shm(path: str) -> os.statvfs_result:
    raise FileNotFoundError(path)


def test_a_run_on_a_machine_with_room_in_dev_shm_has_its_tmp_path_there(tmp_path: Path) -> None:
    if runner_temp.memory_temproot({}) is None:
        pytest.skip("no /dev/shm with room on this machine: pytest's own temporary folder is used")
    assert tmp_path.resolve().is_relative_to(Path(runner_temp.SHM).resolve())


def test_dev_shm_is_chosen_only_with_room_and_write_access() -> None:
    room, little = runner_temp.MIN_FREE, runner_temp.MIN_FREE - 1
    assert runner_temp.memory_temproot({}, lambda _: _statvfs(room), lambda _: True) == runner_temp.SHM
    assert runner_temp.memory_temproot({}, lambda _: _statvfs(little), lambda _: True) is None
    assert runner_temp.memory_temproot({}, lambda _: _statvfs(room), lambda _: False) is None
    assert runner_temp.memory_temproot({}, _no_shm, lambda _: True) is None


def test_a_temporary_root_the_user_chose_is_kept() -> None:
    environ = {runner_temp.TEMPROOT: "/somewhere"}
    runner_temp.use_memory_for_tmp_path(environ)
    assert environ == {runner_temp.TEMPROOT: "/somewhere"}


def test_a_run_on_a_machine_with_room_in_dev_shm_makes_its_tempfiles_there() -> None:
    if runner_temp.memory_temproot({}) is None:
        pytest.skip("no /dev/shm with room on this machine: the system's temporary folder is used")
    folder = Path(tempfile.gettempdir()).resolve()
    assert folder.is_relative_to(Path(runner_temp.SHM).resolve())
    assert folder.name.startswith("profilesync-tests-")


def test_a_tmpdir_already_set_is_kept_and_nothing_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_temp, "memory_temproot", lambda environ: runner_temp.SHM)
    environ = {"TMPDIR": "/mine"}
    assert runner_temp.use_memory_for_tmp_path(environ) is None
    assert environ == {"TMPDIR": "/mine", runner_temp.TEMPROOT: runner_temp.SHM}


def test_the_runs_folder_is_removed_with_what_is_left_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner_temp, "memory_temproot", lambda environ: str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", tempfile.tempdir)
    environ: dict[str, str] = {}
    folder = runner_temp.use_memory_for_tmp_path(environ)
    assert folder is not None
    assert environ["TMPDIR"] == folder == tempfile.gettempdir()
    (Path(folder) / "left-by-a-killed-process.sqlite3").write_bytes(b"x")
    runner_temp.remove(folder)
    assert not Path(folder).exists()


def test_the_folder_goes_when_the_process_that_made_it_ends(tmp_path: Path) -> None:
    # GIVEN a process that made its folder (as tests/conftest.py does, in pytest or in a script)
    code = (
        "from tests import runner_temp\n"
        f"runner_temp.memory_temproot = lambda environ: {str(tmp_path)!r}\n"
        "folder = runner_temp.use_memory_for_tmp_path({})\n"
        "open(folder + '/left.sqlite3', 'w').close()\n"
        "print(folder)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    # THEN it was made, and is gone with its files once the process ended
    folder = Path(done.stdout.strip())
    assert folder.parent == tmp_path
    assert not folder.exists()
