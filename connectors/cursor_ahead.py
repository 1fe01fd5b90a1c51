"""The versions a cursor delivered above a watermark capped below them, so a later one is dated after.

A walk hands on a watermark no later than its start less ``CLOCK_SKEW`` (``TimeBound.cap``): with a
record stamped ahead (2099, read as the walk's start) that is below the seconds the walk delivered
since. The next walk pulls those records again from below its watermark, and a record delivered on a
second ``S`` and changed again on ``S`` carries ``S`` again; ingest orders two versions of one time
by content hash, so the first change could win. ``connectors.cursor_seconds`` dates a version after
the ones delivered on the watermark itself; this does the same for the ones delivered above it.

The cursor keeps ``ahead``: the tags (``connectors.cursor_tags.version_tag``) of the versions it
delivered on or after the walk's ``handoff`` (the re-pull window, ``CLOCK_SKEW`` wide, and any time
stamped ahead within the skew), in the order delivered, the last ``AHEAD_LIMIT``. A record found on
or after the watermark in another version than the last one delivered was made after it, and is
marked (``cursor_seconds.mark``) with ``seen_ahead``: the number of versions held (never shrinking:
tags are added, and past ``AHEAD_LIMIT`` the oldest make room), plus the watermark's own when it is
on the watermark. Each later version of a record on one second is then dated later than the one
before, until ``AHEAD_LIMIT`` versions are held: past that the count stays, and a third or later
change of one record on one second is dated like the one before (ingest orders those two by content
hash, as before this). A version delivered again unchanged is not marked, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

from connectors.cursor_tags import RECORD_PART, last_versions

#: At most this many tags are kept above a watermark (64 bits each: about 17 KB of the cursor).
AHEAD_LIMIT: Final = 1000


def changed_ahead(tag: str, ahead: Sequence[str]) -> bool:
    """Whether ``tag`` is another version of a record delivered above the watermark than the last
    one delivered: made after it (``another_version`` and not ``latest_of``, read from an index of
    ``ahead`` made once per state: every record a walk accepts asks, against up to ``AHEAD_LIMIT``
    tags)."""
    if not ahead:
        return False
    last = last_versions(tuple(ahead)).get(tag[:RECORD_PART])
    return last is not None and last != tag


def kept_ahead(ahead: Sequence[str], delivered: Iterable[tuple[str, Any]], floor: Any) -> tuple[str, ...]:
    """``ahead`` with the tags of ``delivered`` (tag, time) on or after ``floor`` (the walk's
    handoff) added, each once where it was last, the last ``AHEAD_LIMIT``."""
    if floor is None:
        return tuple(ahead)
    new = [tag for tag, point in delivered if point is not None and point >= floor]
    if not new:
        return tuple(ahead)
    tags = (*ahead, *new)
    return tuple(reversed(dict.fromkeys(reversed(tags))))[-AHEAD_LIMIT:]


__all__ = ["AHEAD_LIMIT", "changed_ahead", "kept_ahead"]
