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


def test_the_folder_of_a_run_killed_with_sigkill_is_swept_by_the_next_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a run killed with SIGKILL after it made its folder (no atexit ran: the folder stays)
    code = (
        "import sys, time\n"
        "from tests import runner_temp\n"
        f"runner_temp.memory_temproot = lambda environ: {str(tmp_path)!r}\n"
        "folder = runner_temp.use_memory_for_tmp_path({})\n"
        "open(folder + '/left.sqlite3', 'w').close()\n"
        "print(folder, flush=True)\n"
        "time.sleep(60)\n"
    )
    root = Path(__file__).resolve().parents[2]
    killed = subprocess.Popen([sys.executable, "-c", code], cwd=root, stdout=subprocess.PIPE, text=True)
    assert killed.stdout is not None
    stale = Path(killed.stdout.readline().strip())
    killed.kill()
    killed.wait()
    assert (stale / "left.sqlite3").exists()
    # and a live run's folder (this process's), and one named without a pid (made before pids were)
    live = Path(tempfile.mkdtemp(prefix=f"{runner_temp.PREFIX}{os.getpid()}-", dir=tmp_path))
    unnamed = tmp_path / f"{runner_temp.PREFIX}3jjivy7e"
    unnamed.mkdir()
    # WHEN the next run makes its folder
    monkeypatch.setattr(runner_temp, "memory_temproot", lambda environ: str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", tempfile.tempdir)
    folder = runner_temp.use_memory_for_tmp_path({})
    assert folder is not None
    # THEN the killed run's folder is gone, and the others stay
    assert stale.parent == tmp_path
    assert not stale.exists()
    assert live.exists()
    assert unnamed.exists()
    assert Path(folder).exists()
    assert Path(folder).name.startswith(f"{runner_temp.PREFIX}{os.getpid()}-")
    runner_temp.remove(folder)


def test_a_folder_is_swept_only_when_its_process_is_gone(tmp_path: Path) -> None:
    for name in ("profilesync-tests-41-a", "profilesync-tests-42-b", "profilesync-tests-x-c", "other-43-d"):
        (tmp_path / name).mkdir()
    (tmp_path / "profilesync-tests-44-file").write_text("not a folder")
    removed = runner_temp.sweep_stale(str(tmp_path), alive=lambda pid: pid == 42)
    assert removed == [str(tmp_path / "profilesync-tests-41-a")]
    left = sorted(p.name.removeprefix("profilesync-tests-") for p in tmp_path.iterdir())
    assert left == ["42-b", "44-file", "other-43-d", "x-c"]
