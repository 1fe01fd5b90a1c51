"""The quarantine file of a ``resolve`` without an erased person's lines (``drop_erased_lines``).

``profilesync.resolve_erasures`` calls it when an erasure landed during the run; docs/privacy.md,
"The quarantine rewrite", says why a file with other hard links is overwritten in place.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

from core.schema import Quarantined

__all__ = ["drop_erased_lines"]


def drop_erased_lines(path: Path, erased: Callable[[Quarantined], bool]) -> list[Quarantined]:
    """Rewrite the quarantine file ``path`` without the lines ``erased`` says are an erased
    person's; the entries left out. ``erased`` is asked once a line and its answer kept: the lines
    returned are exactly the lines left out, so the run's counts stay right when an erasure lands
    while the file is read. The file is written again only when it holds such a line, and only a
    regular file (``--quarantine /dev/null`` is left alone: nothing written there can be read back).

    The kept lines are written to ``<file>.erasing`` beside it first. A file with one name is then
    replaced by that copy (a reader sees the old file or the new one, never half of one). A file
    with other hard links is overwritten in place instead, so that no other name keeps her lines
    (a replace gives this name a new file and leaves the old one, her lines in it, at the others);
    the copy is removed once the file holds the kept lines, so a run killed in between leaves every
    kept line in the copy and none of hers anywhere (docs/privacy.md)."""
    target = path.resolve()
    if not target.is_file():
        return []
    dropped: list[Quarantined] = []
    hers = bytearray()  # per line, whether it is an erased person's: the one answer kept
    with target.open(encoding="utf-8") as lines:
        for line in lines:
            entry = Quarantined.model_validate_json(line)
            mine = erased(entry)
            hers.append(mine)
            if mine:
                dropped.append(entry)
    if not dropped:
        return []
    copy = target.with_name(target.name + ".erasing")
    # the copy keeps the file's permissions (a private 0600 quarantine stays private, whatever
    # the umask): opened with them and set again, since the umask narrows what open gives and
    # O_CREAT keeps the permissions of a copy a killed run left
    status = target.stat()
    mode = stat.S_IMODE(status.st_mode)
    descriptor = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.fchmod(descriptor, mode)
    with target.open(encoding="utf-8") as lines, open(descriptor, "w", encoding="utf-8") as out:
        # (the run flushed its handle and writes no more while this runs: the same lines again)
        out.writelines(line for line, mine in zip(lines, hers, strict=True) if not mine)
        out.flush()
        os.fsync(out.fileno())
    if status.st_nlink == 1:
        os.replace(copy, target)
        return dropped
    with target.open("r+", encoding="utf-8") as shared, copy.open(encoding="utf-8") as written:
        shared.truncate(0)
        shutil.copyfileobj(written, shared)
        shared.flush()
        os.fsync(shared.fileno())
    copy.unlink()
    return dropped
