"""The pull cursor: where a HubSpot pull stands, as a small JSON string only this connector reads.

A full refresh walks ``GET /crm/v3/objects/contacts`` (ordered by record id) and remembers the list's
``after`` token. Before its first page it asks search for the newest ``lastmodifieddate`` (the
*watermark*): everything modified up to then is in the list, and anything modified while the list is
walked is modified later, so the incremental run that follows starts there and misses nothing.

An incremental run pages through ``POST /crm/v3/objects/contacts/search`` by keyset, never by offset:
each page is a fresh query starting at the watermark ``w``. Records modified at ``w`` that were already
returned are either listed in ``seen`` or have ids up to ``tie`` (see ``IncrementalState``). Offsets are
avoided because a record modified mid-walk moves to the end of the result and shifts every later
offset by one (silently skipping a record), and because search refuses offsets past 10,000.

Only when a page cannot move the query (every contact on it has no readable ``lastmodifieddate``, or
is a version already in ``seen``) does the walk page by record id instead (``walk``): the same
filter, sorted by ``hs_object_id`` and asked ``hs_object_id > walk``, each query from its first result.
It reads every contact the watermark's query holds, so it ends the run: the next one asks from the
newest time the walk read (``newest``). Before, such pages were followed by offset
(``paging.next.after``), and search answers at most 10,000 results of one query: more than 10,000
such contacts at one watermark stopped every run. A cursor written while paging by offset (``o``)
asks its query from the start again (a repeat, never a skip).

The cursor is stored in the table (``SYNC#hubspot``), and an erased person's contact may be among
those at the watermark, so ``seen`` holds keyed tags of the ids (connectors.cursor_tags, keyed by the
access token), never the ids. ``tie`` is an id HubSpot must be asked with (``hs_object_id > tie``),
so it is kept only while a walk of one timestamp by id is under way; once the time phase resumes it
only says that the whole timestamp is covered, and is written as 0. Version-1 cursors (ids in
clear) are read and re-keyed. A cursor written before ``seen`` kept the order returned (sorted, tags
of ids or of versions) is read in its sorted order: a contact of two versions in it is at worst
returned again (a repeat), as its ids alone would be.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from connectors.cursor_tags import tagged
from core.errors import ConnectorConfigError

_VERSION = 2
_READABLE_VERSIONS = (1, 2)

Phase = Literal["time", "tie"]


@dataclass(frozen=True, slots=True)
class FullState:
    """A full refresh in progress: the list's next ``after`` token (None: the first page), the watermark
    taken before the first page, and the highest record id listed so far."""

    after: str | None
    watermark: int | None
    max_id: int = 0
    ahead: tuple[str, ...] = ()
    """Tags of the versions listed on or after the run's handoff (``connectors.cursor_ahead``): the
    next run asks from there and pulls them again."""


@dataclass(frozen=True, slots=True)
class IncrementalState:
    """An incremental position. Everything modified before ``watermark`` (epoch ms) has been returned;
    of the records modified exactly at ``watermark``, those with ids up to ``tie`` (when set) and those
    in ``seen`` have been returned too.

    ``phase`` is ``time`` (search ``lastmodifieddate >= watermark`` sorted by time, or ``>`` once ``tie``
    covers the whole timestamp) or ``tie`` (search ``lastmodifieddate == watermark`` and ``hs_object_id >
    tie`` sorted by id: how a timestamp shared by more records than a page is walked without offsets).
    A watermark of None means "from the beginning".
    """

    watermark: int | None
    tie: int | None = None
    seen: tuple[str, ...] = ()
    """Tags (connectors.cursor_tags ``version_tag``) of the versions returned at the watermark, in the
    order returned, a version returned again once more: a contact is skipped only in the version
    returned last (``latest_of``), and the count dates a version returned again after them all."""
    phase: Phase = "time"
    archived_since: int | None = None
    """Contacts archived (deleted) at or after this time (epoch ms, HubSpot's clock) are reported as
    tombstones by the next run; None: every archived contact (a cursor written before this field)."""
    ahead: tuple[str, ...] = ()
    """Tags of the versions returned on or after a run's handoff (``connectors.cursor_ahead``)."""
    undated: tuple[str, ...] = ()
    """Tags of the versions returned with no readable modification time (normalise quarantines
    them), at most ``UNDATED_LIMIT`` (``connectors.cursor_undated``): each is returned once, and again
    only when it changes (before, such a contact came back on every run and was quarantined again
    each time)."""
    undated_met: int = 0
    """How many of ``undated``, at its end, the run in progress met (``connectors.cursor_undated``)."""
    walk: int | None = None
    """While pages cannot move the watermark: the highest record id read by the walk by id (the next
    search asks ``hs_object_id > walk``); None: no such walk under way."""
    newest: int | None = None
    """While ``walk`` is set: the newest modification time (epoch ms) the walk has read, where the
    next run starts (None: none readable yet), no later than ``began``."""
    began: int | None = None
    """While ``walk`` is set: the hand-off (epoch ms, ``TimeBound.handoff``) of the run that began
    the walk. A contact the walk has passed is not read again by it, and may change any time after
    that run began, in a later run the walk goes on in too: the watermark the walk hands on is never
    later. None (a cursor written before it): the walk hands on the watermark it began at."""


#: Versions with no readable time a cursor remembers (``IncrementalState.undated``): beyond it, the
#: versions past it come back on each run (a repeat, quarantined again, never a loss:
#: ``connectors.cursor_undated``).
UNDATED_LIMIT = 1000


PullState = FullState | IncrementalState


def encode(state: PullState) -> str:
    """The cursor string for ``state`` (compact JSON; ``seen`` in the order returned)."""
    data: dict[str, Any]
    if isinstance(state, FullState):
        data = {"v": _VERSION, "m": "full", "after": state.after, "w": state.watermark, "x": state.max_id}
        if state.ahead:
            data["ah"] = list(state.ahead)
    else:
        # In the time phase a tie only says the watermark's timestamp is covered (``>`` rather than
        # ``>=``): 0 says so without naming the contact that closed the walk.
        tie = state.tie if state.phase == "tie" or state.tie is None else 0
        data = {"v": _VERSION, "m": "inc", "w": state.watermark, "t": tie, "s": list(state.seen)}
        data["p"] = state.phase
        if state.archived_since is not None:
            data["a"] = state.archived_since
        if state.ahead:
            data["ah"] = list(state.ahead)
        if state.undated:
            data["ud"] = list(state.undated)
        if state.undated_met:
            data["um"] = state.undated_met
        if state.walk is not None:
            data["k"] = state.walk
            if state.newest is not None:
                data["n"] = state.newest
            if state.began is not None:
                data["b"] = state.began
    return json.dumps(data, separators=(",", ":"))


def decode(cursor: str | None, key: bytes) -> PullState | None:
    """The state a cursor stands for; None for None (a full refresh). Raises ConnectorConfigError for a
    string this connector did not write, rather than guessing where to start. A version-1 cursor's
    ids are re-keyed as tags under ``key``."""
    if cursor is None:
        return None
    try:
        data = json.loads(cursor)
        if not isinstance(data, dict) or data.get("v") not in _READABLE_VERSIONS:
            raise ValueError("not a version-1 or version-2 HubSpot cursor")
        watermark = _optional_int(data.get("w"))
        after = data.get("after") if data.get("m") == "full" else None
        if after is not None and not isinstance(after, str):
            raise ValueError("after must be a string")
        seen, ahead = data.get("s") or [], data.get("ah") or []  # (no "ah" in an older cursor)
        undated = data.get("ud") or []  # (nor "ud")
        walk, newest = _optional_int(data.get("k")), _optional_int(data.get("n"))  # (nor "k", "n")
        # (an offset, "o" and "l", written while pages were followed by offset, is dropped: the
        # query is asked from its start, which is walked by id again: a repeat, never a skip)
        if walk is not None and (walk < 0 or data.get("p", "time") != "time"):
            raise ValueError("a walk by id is a non-negative id of the time phase")
        for tags in (seen, ahead, undated):
            if not isinstance(tags, list) or not all(isinstance(s, str) for s in tags):
                raise ValueError("seen ids must be strings")
        if data.get("m") == "full":
            max_id = _optional_int(data.get("x")) or 0
            return FullState(after=after, watermark=watermark, max_id=max_id, ahead=tuple(ahead))
        if data.get("m") == "inc":
            phase = data.get("p", "time")
            if phase not in ("time", "tie"):
                raise ValueError(f"unknown phase {phase!r}")
            if phase == "tie" and watermark is None:
                raise ValueError("a tie phase needs a watermark")
            return IncrementalState(
                watermark=watermark,
                tie=_optional_int(data.get("t")),
                seen=tagged(key, seen) if data["v"] == 1 else tuple(seen),
                phase=phase,
                archived_since=_optional_int(data.get("a")),
                ahead=tuple(ahead),
                undated=tuple(undated),
                undated_met=_optional_int(data.get("um")) or 0,
                walk=walk,
                newest=newest if walk is not None else None,
                began=_optional_int(data.get("b")) if walk is not None else None,  # (nor "b")
            )
        raise ValueError(f"unknown mode {data.get('m')!r}")
    except (ValueError, TypeError) as exc:
        raise ConnectorConfigError(
            f"hubspot: the cursor {cursor[:80]!r} was not written by this connector ({exc}); "
            "pull with no cursor for a full refresh"
        ) from None


def _optional_int(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not an integer")
    return value


__all__ = ["FullState", "IncrementalState", "Phase", "PullState", "decode", "encode"]
