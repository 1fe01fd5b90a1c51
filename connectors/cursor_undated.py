"""The versions a cursor delivered with no readable time, so each is delivered (and quarantined) once.

A record whose stamp no reader can date (``"last Tuesday"``, an object) never moves a watermark, so
a walk that meets it once meets it on every later walk. The cursor keeps the tags of those versions
(``connectors.cursor_tags.version_tag``) in ``undated``, and how many at its end were met on the walk
in progress (``met``). ``meet`` answers whether a version was delivered already, and keeps:

* a version met again: moved to the end (met on this walk);
* a new version: added, and past ``limit`` it takes the place of the oldest one not met on this
  walk (one whose record changed, was fixed, or was not returned);
* a new version when every one held was met on this walk (more undated versions than ``limit``): not
  kept. It is delivered again on the next walk (a repeat, quarantined again, never a loss), and only
  the versions past ``limit`` are; dropping the oldest instead evicted each just before the walk met
  it again, so all of them came back on every walk.

A walk's end sets ``met`` back to 0. A cursor written before ``met`` reads as 0.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["meet"]


def meet(undated: Sequence[str], met: int, tag: str, limit: int) -> tuple[bool, tuple[str, ...], int]:
    """``(delivered already, undated after, met after)`` for a version with no readable time."""
    held = tuple(undated)
    met = max(0, min(met, len(held)))  # (a cursor edited by hand, or a smaller limit)
    try:
        at = held.index(tag)
    except ValueError:
        if len(held) < limit:
            return False, (*held, tag), met + 1
        if met < limit:  # the oldest not met on this walk make room (the met ones are at the end)
            return False, (*held[len(held) - limit + 1 :], tag), met + 1
        return False, held, met
    if at >= len(held) - met:
        return True, held, met
    return True, (*held[:at], *held[at + 1 :], tag), met + 1
