"""A version a cursor pulls on its watermark second is dated after every version it delivered there.

Tools stamp whole seconds. A record delivered on the cursor's watermark second ``w`` and changed
again within it carries ``w`` again; the cursor, which keeps the versions it delivered on ``w``
(``connectors.cursor_tags.version_tag``), pulls it. But ingest orders two versions of one time by
their content hash (a rule that does not depend on the order they arrive in), so half such changes
would be stale. What the cursor knows orders them: another version, on ``w``, of a record the cursor
delivered on ``w`` was made after the version delivered (that one was current when it was read), and
after every other version delivered there; the cursor has delivered ``seen`` versions on ``w``.
Dated ``w`` plus ``seen + 1`` microseconds, the new version is later than any of them: the versions
a walk from an earlier watermark delivered on ``w`` are dated ``w``, and each later walk's ``seen``
counts every version delivered before it. A record new on ``w`` is left as the vendor dates it: no
version of it was delivered there, and a full pull dates it the same. The time stays within its
second: the change was made in it.

The pull marks such a record (``mark``: a key the vendor never sends); the pull's hook moves the
draft's time (``core.version_marks.drafts_of``: every connector's pages pass it, whatever its
``to_records``; ``dated`` is re-exported here for a ``to_records`` that dates itself, and dates a draft
once). The cursor's own watermark reads the vendor's time, never the mark.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.version_marks import AFTER, END_OF_SECOND, after, dated


def mark(record: Mapping[str, Any], seen: int) -> dict[str, Any]:
    """``record`` (a copy) marked as made after the ``seen`` versions delivered on its second."""
    return {**record, AFTER: min(seen + 1, END_OF_SECOND - 1)}


__all__ = ["AFTER", "END_OF_SECOND", "after", "dated", "mark"]
