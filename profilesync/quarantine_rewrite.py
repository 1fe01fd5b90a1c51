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

from core.errors import ProfileSyncError
from core.schema import Quarantined

__all__ = ["QuarantineCopyError", "drop_erased_lines", "remove_leftover_copy"]

#: The copy is made, never opened as found: ``O_EXCL`` fails on any name already there (a symlink
#: too, dangling or not) and ``O_NOFOLLOW`` says so again, so a link planted at ``<file>.erasing``
#: cannot send the kept lines (or hers) to a file it points at.
_NEW_COPY = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW


class QuarantineCopyError(ProfileSyncError):
    """``<file>.erasing`` is something the rewrite did not make (a symlink, a directory, a file with
    other names): nothing was written through it, and the quarantine file is as the run wrote it."""


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
    kept line in the copy and none of hers anywhere (docs/privacy.md). The copy is always a new file:
    a killed run's leftover (a regular file of one name) is removed first, and anything else at
    that name (a symlink, a directory, a file with other names) raises ``QuarantineCopyError``
    before a line is written, the quarantine file left as it was."""
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
    # the umask): opened with them and set again, since the umask narrows what open gives
    status = target.stat()
    mode = stat.S_IMODE(status.st_mode)
    descriptor = _new_copy(copy, mode, target)
    os.fchmod(descriptor, mode)
    with open(descriptor, "w+", encoding="utf-8") as out:
        with target.open(encoding="utf-8") as lines:
            # (the run flushed its handle and writes no more while this runs: the same lines again)
            out.writelines(line for line, mine in zip(lines, hers, strict=True) if not mine)
        out.flush()
        os.fsync(out.fileno())
        if status.st_nlink == 1:
            os.replace(copy, target)
            return dropped
        # read back through the handle it was written by, not the name (which may be another
        # file by now)
        out.seek(0)
        with target.open("r+", encoding="utf-8") as shared:
            shared.truncate(0)
            shutil.copyfileobj(out, shared)
            shared.flush()
            os.fsync(shared.fileno())
    copy.unlink()
    return dropped


def remove_leftover_copy(target: Path) -> bool:
    """Remove the copy a killed rewrite of ``target`` left (``<file>.erasing``, a regular file of one
    name), when a run starts writing ``target`` anew: it may hold the line of a person erased since
    (attack30: it outlived her erasure for as long as no erasure landed during a run). Its name only:
    a symlink, a directory or a file of several names there is left, and the rewrite refuses it.
    Whether a leftover was removed."""
    copy = target.with_name(target.name + ".erasing")
    try:
        found = copy.lstat()
    except FileNotFoundError:
        return False
    if not stat.S_ISREG(found.st_mode) or found.st_nlink > 1:
        return False
    copy.unlink(missing_ok=True)
    return True


def _new_copy(copy: Path, mode: int, target: Path) -> int:
    """A descriptor on a new file ``copy`` (permissions ``mode``). A regular file of one name there
    is a killed rewrite's leftover from an earlier run (each run writes its quarantine file anew),
    so it is removed (its name only: ``unlink`` never follows a link) and the file made again;
    anything else is refused, and so is a name that is back after the leftover was removed."""
    kind = "a name made again each time the rewrite removed what was there"
    for attempt in range(2):
        try:
            return os.open(copy, _NEW_COPY, mode)
        except FileExistsError:
            pass
        try:
            found = copy.lstat()
        except FileNotFoundError:  # gone since: try again
            continue
        if stat.S_ISLNK(found.st_mode):
            kind = "a symlink"
        elif not stat.S_ISREG(found.st_mode):
            kind = "not a regular file"
        elif found.st_nlink > 1:
            kind = f"a file with {found.st_nlink} names"
        elif attempt == 0:
            copy.unlink(missing_ok=True)
            continue
        break
    raise QuarantineCopyError(
        f"cannot take an erased person's lines out of {target}: {copy} is {kind}, which this run "
        "did not make, and nothing was written through it; the quarantine file is as the run "
        f"wrote it (her lines still in it). Remove {copy} (check who put it there) and run again"
    )
