"""The tests' temporary folders (``tmp_path``) in memory where the machine has a tmpfs with room.

A durable SQLite store syncs its file to disk when it is made and closed (WAL mode, a checkpoint at
close): 65 ms of an ext4 disk's time per store (2 ms of CPU), paid by every test of the SQLite store
and every CLI run on a new state folder. On tmpfs a sync costs nothing; the files and their
semantics are otherwise the same (each test still has a folder of its own), and nothing in the suite
can tell a synced file from one the kernel holds (only a power cut could).

tests/conftest.py calls ``use_memory_for_tmp_path`` before any folder is made. When ``/dev/shm``
exists and has ``MIN_FREE`` bytes free, it sets two variables, each moving one kind of folder:

- ``PYTEST_DEBUG_TEMPROOT``, the root pytest makes its numbered ``pytest-of-<user>/pytest-N``
  folders in (``tmp_path``, ``tmp_path_factory``), to ``/dev/shm``;
- ``TMPDIR`` (and ``tempfile.tempdir``), ``tempfile``'s folder, to a folder of the run's there,
  ``/dev/shm/profilesync-tests-<pid>-<random>``, removed with whatever is in it when the process
  that made it exits (atexit).

A ``PYTEST_DEBUG_TEMPROOT`` you set turns all of it off (both folders where you and the system
put them); a ``TMPDIR`` you set is kept, and moves ``tempfile``'s folder only: ``tmp_path`` is still
made under ``/dev/shm`` unless ``PYTEST_DEBUG_TEMPROOT`` (or ``--basetemp``) says otherwise. Set
both to move both. pyproject's ``tmp_path_retention_policy = "failed"`` removes the ``tmp_path``
folders of a run whose tests all passed, so that no memory is held after it.

A run killed with SIGKILL (or a machine's out-of-memory killer) runs no atexit: its
``profilesync-tests-<pid>-*`` folder stays. The next run sweeps those whose process is gone (no
process of that pid: ``os.kill(pid, 0)``); a folder of a live process, or one named without a pid,
is left alone. A pid reused by another process keeps its folder until that process ends. (Runs in
two containers sharing one ``/dev/shm`` but not their pids would sweep each other's folders: point
``TMPDIR`` elsewhere there.)
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, MutableMapping

TEMPROOT = "PYTEST_DEBUG_TEMPROOT"
SHM = "/dev/shm"
#: The start of the name of a run's ``tempfile`` folder, followed by its process id and a dash.
PREFIX = "profilesync-tests-"
#: A whole run writes about 250 MB under its temporary root; a small tmpfs (Docker's 64 MB) is left alone.
MIN_FREE = 2 * 1024**3


def memory_temproot(
    environ: MutableMapping[str, str],
    statvfs: Callable[[str], os.statvfs_result] = os.statvfs,
    writable: Callable[[str], bool] = lambda path: os.access(path, os.W_OK),
) -> str | None:
    """The temporary root to use (``/dev/shm``), or None to leave pytest's choice alone."""
    if environ.get(TEMPROOT):
        return None
    try:
        stats = statvfs(SHM)
    except OSError:
        return None  # no /dev/shm: macOS, Windows
    if stats.f_bavail * stats.f_frsize < MIN_FREE or not writable(SHM):
        return None
    return SHM


def use_memory_for_tmp_path(environ: MutableMapping[str, str] = os.environ) -> str | None:
    """Point pytest's temporary root and ``tempfile``'s folder at memory; the folder made for
    ``tempfile`` (to remove at the end of the run: ``remove``), or None when nothing changed."""
    root = memory_temproot(environ)
    if root is None:
        return None
    environ[TEMPROOT] = root
    if environ.get("TMPDIR"):
        return None  # chosen by the user, or by the controller of this xdist worker
    # The stores tests make in a tempfile.TemporaryDirectory (tests/integration/test_erasure_attacks.py's
    # STORES, one per example of a property) sync there too: one folder of this process's, removed
    # at its end with whatever a killed subprocess left in it.
    sweep_stale(root)
    folder = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=root)
    environ["TMPDIR"] = folder
    tempfile.tempdir = folder
    atexit.register(remove, folder)  # at the end of pytest, or of a script that imported the conftest
    return folder


def remove(folder: str | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        tempfile.tempdir = None


def sweep_stale(root: str, alive: Callable[[int], bool] | None = None) -> list[str]:
    """Remove the ``tempfile`` folders under ``root`` of runs whose process is gone (killed before
    its atexit ran); the folders removed."""
    alive = alive or _alive
    removed: list[str] = []
    for entry in os.scandir(root):
        pid, dash, _ = entry.name.removeprefix(PREFIX).partition("-")
        if not entry.name.startswith(PREFIX) or not dash or not pid.isdigit() or not entry.is_dir():
            continue
        if not alive(int(pid)):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
