"""The pull cursor: a ``last_changed`` watermark, the members already seen on it, and an offset.

Mailchimp pages list members with ``count``/``offset`` (at most 1000 per page) and filters them with
``since_last_changed``, documented as "changed after the set timeframe"
(https://mailchimp.com/developer/marketing/api/list-members/list-members-info/). Offsets over a set
that changes while it is read skip records: when a member on an earlier page changes, it moves to the
end and everything after it shifts left by one. So the walk never pages by offset across timestamps.
Each request starts again at the watermark ``w`` (the newest ``last_changed`` read so far), sorted by
``last_changed`` ascending, and the offset only steps over the members already read *on* ``w``
(many members can share one second, e.g. after an import). Members changing later leave that block
for a later timestamp, where the walk meets them again.

Timestamps have one-second resolution. Whether ``since_last_changed`` is ``>`` or ``>=`` is not
documented precisely, so requests ask for ``w - 1 s`` and the walk drops what is older than ``w``:
right under both readings. The request before the offset re-reads one member (``pos - 1``), which
must be one already passed (on ``w`` and seen there: a member read there that has changed since is
not); if it is not, the block moved under us and the walk reads it again from offset 0, skipping
the ids it has seen. A resumed pull therefore neither loses nor repeats a
member.

The cursor is stored in the table (``SYNC#mailchimp``), and a member id is the MD5 of the member's
lowercased address (Mailchimp's subscriber hash): an erased person at the watermark would stay
there, in a form anyone can match against an address. So ``seen`` keeps keyed tags of the ids
(connectors.cursor_tags, keyed by the API key and the audience), never the ids.

Version 3 came with records keyed by ``contact_id`` (``member_to_draft``): a cursor of version 1 or 2
was written where records were keyed by the member id, so it is read as a walk from the start that
retires those keys (``retire_member_ids``): the connector then pulls the whole audience once, each
member with a tombstone of its former key. ``retire`` stays in the cursors of that walk until it is
done, so a walk cut short resumes retiring.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from connectors.cursor_tags import id_tag
from core.errors import ConnectorConfigError
from core.time_bound import TimeBound

_VERSION: Final = 3
_READABLE_VERSIONS: Final = (1, 2, 3)
ONE_SECOND: Final = timedelta(seconds=1)
#: The cursor keeps the ids of at most this many members read on the watermark (the latest ones):
#: the overlap check needs only the last, and an import can put 100 000 members on one second,
#: whose ids would not fit in a saved cursor (a DynamoDB item holds 400 KB). Should the block move
#: under a walk that has dropped some of its ids, reading it again repeats members, never loses one.
SEEN_LIMIT: Final = 1000


def parse_time(value: Any) -> datetime | None:
    """A Mailchimp timestamp (``2015-10-21T15:41:36+00:00``) as an aware UTC datetime, or None."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def format_time(value: datetime) -> str:
    """A timestamp as Mailchimp writes it: seconds, ``+00:00``."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class WalkState:
    """Where a walk stands: watermark ``w`` (None: from the start), the ids read on ``w`` (in the
    order read, the last ``SEEN_LIMIT``), and ``pos``, the offset of the next unread member in the
    query that starts at ``w``."""

    w: datetime | None = None
    seen: tuple[str, ...] = ()
    pos: int = 0
    key: bytes | None = field(default=None, compare=False, repr=False)
    """The key of the tags ``seen`` holds (the connector's ``cursor_tag_key``); never encoded. None
    keeps ids as they are (a state built by hand, in tests)."""
    retire_member_ids: bool = False
    """The walk also reports each member's record under its former key, the member id, as deleted
    (see the module docstring): the first pull from a version-1 or -2 cursor, or a full refresh with
    the option ``retire_member_id_keys``."""

    def tag(self, member: Mapping[str, Any]) -> str:
        """What ``seen`` keeps of a member's id."""
        member_id = str(member.get("id", ""))
        return member_id if self.key is None else id_tag(self.key, member_id)

    def encode(self) -> str:
        """The opaque cursor string (JSON) for this state."""
        return json.dumps(
            {
                "v": _VERSION,
                "w": format_time(self.w) if self.w else None,
                "seen": list(self.seen),
                "pos": self.pos,
                **({"retire": True} if self.retire_member_ids else {}),
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, cursor: str, key: bytes | None = None) -> WalkState:
        """Read a cursor written by ``encode``; a cursor from anything else is a config error. The
        state tags with ``key``; a version-1 or -2 cursor is a walk from the start that retires the
        member-id keys (the module docstring)."""
        try:
            data = json.loads(cursor)
            if not isinstance(data, dict) or data.get("v") not in _READABLE_VERSIONS:
                raise ValueError("not a mailchimp cursor")
            w = parse_time(data["w"]) if data.get("w") is not None else None
            if data.get("w") is not None and w is None:
                raise ValueError("bad watermark")
            seen = data.get("seen", [])
            pos = data.get("pos", 0)
            if not isinstance(seen, list) or not all(isinstance(s, str) for s in seen):
                raise ValueError("bad seen list")
            if not isinstance(pos, int) or isinstance(pos, bool) or pos < 0:
                raise ValueError("bad position")
            if not isinstance(data.get("retire", False), bool):
                raise ValueError("bad retire flag")
        except (ValueError, TypeError, KeyError) as exc:
            raise ConnectorConfigError(
                f"mailchimp: the saved cursor cannot be read ({exc}); run a full refresh (cursor None)"
            ) from None
        if data["v"] < 3:
            # Written where records were keyed by the member id: walk the whole audience again,
            # retiring those keys (the module docstring).
            return cls(key=key, retire_member_ids=True)
        return cls(w, tuple(seen), pos, key, data.get("retire") is True)

    @classmethod
    def since(cls, at: datetime, key: bytes | None = None) -> WalkState:
        """A state that reads everything changed at or after ``at``."""
        return cls(at.astimezone(UTC).replace(microsecond=0), key=key)

    def query(self) -> tuple[str | None, int, bool]:
        """``(since_last_changed, offset, verify)`` for the next request: ``verify`` means the first
        member returned is the overlap at ``pos - 1`` and must be one already passed."""
        since = format_time(self.w - ONE_SECOND) if self.w else None
        if self.pos > 0:
            return since, self.pos - 1, True
        return since, 0, False

    def passed(self, member: Mapping[str, Any], bound: TimeBound | None = None) -> bool:
        """Whether the walk has already gone past this member (older than ``w``, or read on ``w`` and
        still on it: one read there that changed since is not).
        An element that is not a member at all cannot be placed: it is taken as passed, so junk in
        the list cannot make the overlap check restart the walk forever."""
        if not isinstance(member, Mapping):
            return True
        changed = _changed(member, bound)
        if self.w is not None and changed is not None and changed != self.w:
            # Older than the watermark: passed. Newer: it changed after the walk read it on ``w``
            # (its id is in ``seen``), so the block shifted and its new version is still to read.
            return changed < self.w
        return self.tag(member) in self.seen


@dataclass(frozen=True)
class Step:
    """What one page did to the walk: the members to emit, the new state, and whether it is done."""

    emit: list[dict[str, Any]]
    state: WalkState
    done: bool
    restarted: bool = False


def _changed(member: Mapping[str, Any], bound: TimeBound | None) -> datetime | None:
    """A member's ``last_changed``, read as the pull's start when it is too far in the future (a
    member stamped 2099 must not become the watermark: every later change would look older)."""
    changed = parse_time(member.get("last_changed"))
    if changed is None or bound is None:
        return changed
    return bound.clamp(changed).replace(microsecond=0)


def advance(
    state: WalkState,
    members: Iterable[Mapping[str, Any]],
    *,
    verify: bool,
    page_size: int,
    upper: datetime | None = None,
    last: bool = False,
    bound: TimeBound | None = None,
) -> Step:
    """Apply one page (sorted by ``last_changed`` ascending) to ``state``.

    ``verify``: the page was asked for at ``pos - 1``, so its first member is the overlap check.
    ``upper``: members changed at or after it belong to another walk (a parallel range) and end this
    one. A page shorter than ``page_size`` ends the walk, and so does ``last`` (the response's
    ``total_items`` says nothing follows it).
    """
    page = list(members)
    returned = len(page)
    if verify:
        if not page or not state.passed(page[0], bound):
            # The block on ``w`` shifted (a member read on it changed or was deleted): read it again.
            return Step([], replace(state, pos=0), done=False, restarted=True)
        page = page[1:]
    w, pos = state.w, state.pos
    order = list(state.seen)
    seen = set(order)
    emit: list[dict[str, Any]] = []

    def now() -> WalkState:
        return WalkState(w, tuple(order[-SEEN_LIMIT:]), pos, state.key)

    for member in page:
        if not isinstance(member, Mapping):
            # Junk in the list (a string, a null): handed on for the mapping to quarantine. It holds
            # a place in the vendor's order, so it counts in the offset, and moves nothing else.
            emit.append(member)
            pos += 1
            continue
        changed = _changed(member, bound)
        member_id = state.tag(member)
        if upper is not None and changed is not None and changed >= upper:
            return Step(emit, now(), done=True)
        if w is not None and changed is not None and changed < w:
            pos += 1  # before the watermark: only served when the API reads "since" as ">="
            continue
        if changed is None or (w is not None and changed == w):
            # Unparseable timestamps stay on the current watermark (normalise will quarantine them).
            if member_id not in seen:
                seen.add(member_id)
                order.append(member_id)
                emit.append(dict(member))
            pos += 1
            continue
        w, seen, order, pos = changed, {member_id}, [member_id], 1
        emit.append(dict(member))
    return Step(emit, now(), done=last or returned < page_size)


__all__ = ["ONE_SECOND", "SEEN_LIMIT", "Step", "WalkState", "advance", "format_time", "parse_time"]
