"""The tests' temporary folders (``tmp_path``) in memory where the machine has a tmpfs with room.

A durable SQLite store syncs its file to disk when it is made and closed (WAL mode, a checkpoint at
close): 65 ms of an ext4 disk's time per store (2 ms of CPU), paid by every test of the SQLite store
and every CLI run on a new state folder. On tmpfs a sync costs nothing; the files and their
semantics are otherwise the same (each test still has a folder of its own), and nothing in the suite
can tell a synced file from one the kernel holds (only a power cut could).

tests/conftest.py calls ``use_memory_for_tmp_path`` before any folder is made: it points pytest's
``PYTEST_DEBUG_TEMPROOT`` (the root its numbered ``pytest-of-<user>/pytest-N`` folders are made in)
at ``/dev/shm`` when that exists and has ``MIN_FREE`` bytes free, and ``TMPDIR`` (``tempfile``'s
folder) at a folder of the run's there, removed when the run ends. Set ``PYTEST_DEBUG_TEMPROOT`` or
``TMPDIR`` yourself (or pass ``--basetemp``) to choose another place. pyproject's
``tmp_path_retention_policy = "failed"`` removes the folders of a run whose tests all passed, so that
no memory is held after it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, MutableMapping

TEMPROOT = "PYTEST_DEBUG_TEMPROOT"
SHM = "/dev/shm"
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
    folder = tempfile.mkdtemp(prefix="profilesync-tests-", dir=root)
    environ["TMPDIR"] = folder
    tempfile.tempdir = folder
    atexit.register(remove, folder)  # at the end of pytest, or of a script that imported the conftest
    return folder


def remove(folder: str | None) -> None:
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        tempfile.tempdir = None
