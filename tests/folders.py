"""Folders whose surroundings fail: one that becomes read-only, one on a disk that fills up.

As root (who ignores permissions) both are a tmpfs mounted on a fresh folder; a test that needs one
where neither works (no root, no mount permission) is skipped with the reason.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def _tmpfs(folder: Path, size: str) -> Iterator[None]:
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


@contextmanager
def freezable_folder(folder: Path) -> Iterator[Callable[[], None]]:
    """Create ``folder`` (writable); what the block gets makes it read-only."""
    folder.mkdir(mode=0o700, parents=True)
    if os.geteuid() != 0:
        try:
            yield lambda: folder.chmod(0o500)
        finally:
            folder.chmod(0o700)
        return

    def remount() -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)

    with _tmpfs(folder, "8m"):
        yield remount


@contextmanager
def tiny_disk(folder: Path, size: str = "1m") -> Iterator[Path]:
    """``folder`` on a disk of ``size`` (root only: a tmpfs)."""
    folder.mkdir(parents=True)
    if os.geteuid() != 0:
        pytest.skip("a full disk is a tmpfs of its own, which only root may mount")
    with _tmpfs(folder, size):
        yield folder
