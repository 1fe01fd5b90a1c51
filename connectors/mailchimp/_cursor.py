"""The pull cursor: a ``last_changed`` watermark, the member versions delivered on it, and an offset.

Mailchimp pages list members with ``count``/``offset`` (at most 1000 per page) and filters them with
``since_last_changed``, documented as "changed after the set timeframe"
(https://mailchimp.com/developer/marketing/api/list-members/list-members-info/). Offsets over a set
that changes while it is read skip records: when a member on an earlier page changes, it moves to the
end and everything after it shifts left by one. So the walk never pages by offset across timestamps.
Each request starts again at the watermark ``w`` (the newest ``last_changed`` read so far), sorted by
``last_changed`` ascending, and within a walk the offset only steps over the members already read
*on* ``w`` (many members can share one second, e.g. after an import). Members changing later leave
that block for a later timestamp, where the walk meets them again.

Timestamps have one-second resolution. The spec says ``since_last_changed`` keeps members "changed
after" it, the sandbox reads it as ``>``; requests ask for ``w - 1 s`` and the walk drops what is
older than ``w``: right under either reading. The request after the first page re-reads one member
(``pos - 1``), which must be one already passed (on ``w`` and delivered there in the version read);
if it is not, the block moved under us and the walk reads it again from offset 0.

Why the next pull starts at offset 0, not at ``pos``: members sort within a second in an order of
the vendor's own (the sandbox's: ``web_id``). A member changed onto ``w`` after a walk ended there
can sort anywhere in the block, and an offset carried over to the next pull stepped over it (the
overlap check sees only the member at ``pos - 1``). So a walk that ends hands on ``pos = 0`` and the
versions it delivered on ``w`` (``seen``: ``connectors.cursor_tags.version_tag``, the last
``SEEN_LIMIT``): the next pull reads the block again from its start and skips only the versions
delivered. One delivered on ``w`` and changed again within that second keeps its time; pulled again,
it is marked (``connectors.cursor_seconds.mark``) so that ``to_records`` dates it after the versions
delivered there. A block larger than ``SEEN_LIMIT`` keeps its offset (its versions do not all fit
in a cursor; reading it whole on every pull would repeat it) and its size (``block``): the next pull
first counts the members on ``w`` and reads the block from its start when they are not as many (a
member joined it, or one left it; the block's first members then come once more). A member joining
a large block while another leaves it, both between two pulls, is still stepped over.

The cursor is stored in the table (``SYNC#mailchimp``), and a member id is the MD5 of the member's
lowercased address (Mailchimp's subscriber hash): an erased person at the watermark would stay
there, in a form anyone can match against an address. So ``seen`` keeps keyed tags of the versions
(connectors.cursor_tags, keyed by the API key and the audience), never the ids.

Version 4 keeps tags of versions and ends a walk at offset 0. A version-3 cursor's tags name ids, no
version: it is read at offset 0, so its first pull delivers the members of its watermark second once
more (ingest takes an unchanged copy as unchanged and writes nothing) and writes a version-4 cursor.

Version 3 came with records keyed by ``contact_id`` (``member_to_draft``): a cursor of version 1 or 2
was written where records were keyed by the member id, so it is read as a walk from the start that
retires those keys (``retire_member_ids``): the connector then pulls the whole audience once, each
member with a tombstone of its former key. ``retire`` stays in the cursors of that walk until it is
done, so a walk cut short resumes retiring.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Final

from connectors.cursor_seconds import mark
from connectors.cursor_tags import version_tag
from connectors.cursor_undated import meet
from core.errors import ConnectorConfigError
from core.normalise import datable, epoch_moment
from core.time_bound import TimeBound

_VERSION: Final = 4
_READABLE_VERSIONS: Final = (1, 2, 3, 4)
ONE_SECOND: Final = timedelta(seconds=1)
#: The cursor keeps the versions of at most this many members read on the watermark (the latest
#: ones): an import can put 100 000 members on one second, whose tags would not fit in a saved cursor
#: (a DynamoDB item holds 400 KB). Should the block move under a walk that has dropped some of its
#: tags, reading it again repeats members, never loses one.
SEEN_LIMIT: Final = 1000
#: Versions with no readable ``last_changed`` a cursor remembers (``WalkState.undated``): beyond it,
#: only the versions past it come back on each walk (``connectors.cursor_undated``).
UNDATED_LIMIT: Final = 1000


def parse_time(value: Any) -> datetime | None:
    """A Mailchimp timestamp (``2015-10-21T15:41:36+00:00``) as an aware UTC datetime, or None. Epoch
    time instead (a JSON integer, nine or more digits) is read as normalise dates the member by it
    (``core.normalise.epoch_moment``), so the member moves the watermark too."""
    if not isinstance(value, str) or not value.strip():
        return epoch_moment(value)
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return epoch_moment(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def format_time(value: datetime) -> str:
    """A timestamp as Mailchimp writes it: seconds, ``+00:00``."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class WalkState:
    """Where a walk stands: watermark ``w`` (None: from the start), the versions delivered on ``w``
    (tags, in the order delivered, the last ``SEEN_LIMIT``), and ``pos``, the offset of the next
    unread member in the query that starts at ``w`` (0 once a walk is done: the module docstring)."""

    w: datetime | None = None
    seen: tuple[str, ...] = ()
    pos: int = 0
    key: bytes | None = field(default=None, compare=False, repr=False)
    """The key of the tags ``seen`` holds (the connector's ``cursor_tag_key``); never encoded. None
    tags under an empty key (a state built by hand, in tests)."""
    retire_member_ids: bool = False
    """The walk also reports each member's record under its former key, the member id, as deleted
    (see the module docstring): the first pull from a version-1 or -2 cursor, or a full refresh with
    the option ``retire_member_id_keys``."""
    block: int | None = None
    """How many members the query from ``w`` served when a walk ended on a block larger than
    ``SEEN_LIMIT``, keeping its offset: the next pull counts them again first (the module docstring)."""
    undated: tuple[str, ...] = ()
    """Tags of the versions delivered with no readable ``last_changed`` (normalise quarantines them),
    at most ``UNDATED_LIMIT``, kept apart from ``seen`` (``connectors.cursor_undated``: each is
    delivered once, and again only when it changes)."""
    met: int = 0
    """How many of ``undated``, at its end, the walk in progress met (0 once a walk is done)."""
    tail: str | None = None
    """The tag of the member at ``pos - 1`` when it had no readable time (the next page's overlap:
    ``passed``), kept when ``undated`` is too full to hold it."""

    def tag(self, member: Mapping[str, Any]) -> str:
        """What ``seen`` keeps of a member: a tag of its id with its content (one version of it)."""
        return version_tag(self.key or b"", str(member.get("id", "")), dict(member))

    def encode(self) -> str:
        """The opaque cursor string (JSON) for this state."""
        return json.dumps(
            {
                "v": _VERSION,
                "w": format_time(self.w) if self.w else None,
                "seen": list(self.seen),
                "pos": self.pos,
                **({"retire": True} if self.retire_member_ids else {}),
                **({"n": self.block} if self.block is not None else {}),
                **({"ud": list(self.undated)} if self.undated else {}),
                **({"um": self.met} if self.met else {}),
                **({"ut": self.tail} if self.tail else {}),
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
            block = data.get("n")
            if block is not None and (not isinstance(block, int) or isinstance(block, bool) or block < 0):
                raise ValueError("bad block size")
            undated, met, tail = data.get("ud", []), data.get("um", 0), data.get("ut")  # (absent before them)
            if not isinstance(undated, list) or not all(isinstance(s, str) for s in undated):
                raise ValueError("bad undated list")
            if not isinstance(met, int) or isinstance(met, bool) or met < 0:
                raise ValueError("bad undated count")
            if tail is not None and not isinstance(tail, str):
                raise ValueError("bad tail")
        except (ValueError, TypeError, KeyError) as exc:
            raise ConnectorConfigError(
                f"mailchimp: the saved cursor cannot be read ({exc}); run a full refresh (cursor None)"
            ) from None
        if data["v"] < 3:
            # Written where records were keyed by the member id: walk the whole audience again,
            # retiring those keys (the module docstring).
            return cls(key=key, retire_member_ids=True)
        if data["v"] == 3:
            # Tags of ids, no version, and maybe an offset past members changed onto ``w`` since:
            # the block is read again from its start (the module docstring).
            pos = 0
        return cls(w, tuple(seen), pos, key, data.get("retire") is True, block, tuple(undated), met, tail)

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
        """Whether the walk has already gone past this member (older than ``w``, or delivered on ``w``
        in this version: one read there that changed since is not).
        An element that is not a member at all cannot be placed: it is taken as passed, so junk in
        the list cannot make the overlap check restart the walk forever."""
        if not isinstance(member, Mapping):
            return True
        changed = _changed(member, bound)
        if changed is None:  # delivered (or met) with no readable time: in ``undated``
            tag = self.tag(member)
            return tag == self.tail or tag in self.undated
        if self.w is not None and changed != self.w:
            # Older than the watermark: passed. Newer: it changed after the walk read it on ``w``
            # (its id is in ``seen``), so the block shifted and its new version is still to read.
            return changed < self.w
        return _Held(self.seen).delivered(self.tag(member))


class _Held:
    """The versions delivered on the watermark: in the order delivered, each once where it was last
    (``connectors.cursor_tags.latest_of``), and each record's latest, by the tag's first half (the
    record's, ``connectors.cursor_tags.another_version``). ``first`` is the tag of a version delivered
    before ``tags``, taken only when asked for: hashing a member's content is most of a walk's CPU,
    and a member whose second no other shares needs no tag unless it ends the page."""

    def __init__(self, tags: Iterable[str] = (), first: Callable[[], str] | None = None) -> None:
        self._order: dict[str, None] = {}
        self._latest: dict[str, str] = {}
        self._first = first
        for tag in tags:
            self.add(tag)

    def _settle(self) -> None:
        if self._first is not None:
            tag, self._first = self._first(), None
            self._order = {tag: None, **self._order}
            self._latest.setdefault(tag[:8], tag)

    def add(self, tag: str) -> None:
        self._settle()
        self._order.pop(tag, None)
        self._order[tag] = None
        self._latest[tag[:8]] = tag

    def delivered(self, tag: str) -> bool:
        """Whether this version is the latest delivered of its record."""
        self._settle()
        return self._latest.get(tag[:8]) == tag

    def holds_record(self, tag: str) -> bool:
        """Whether a version of this tag's record was delivered."""
        self._settle()
        return tag[:8] in self._latest

    def __len__(self) -> int:
        self._settle()
        return len(self._order)

    def kept(self) -> tuple[str, ...]:
        self._settle()
        return tuple(self._order)[-SEEN_LIMIT:]


@dataclass(frozen=True)
class Step:
    """What one page did to the walk: the members to emit, the new state, and whether it is done."""

    emit: list[dict[str, Any]]
    state: WalkState
    done: bool
    restarted: bool = False
    read: datetime | None = None
    """When Mailchimp answered with the page, by its own clock (``RawPage.read``)."""


def _changed(member: Mapping[str, Any], bound: TimeBound | None) -> datetime | None:
    """A member's ``last_changed``, read as the pull's start when it is too far in the future (a
    member stamped 2099 must not become the watermark: every later change would look older)."""
    changed = parse_time(member.get("last_changed"))
    changed = None if changed is None else datable(changed)  # (one normalise refuses is none)
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
            return Step([], replace(state, pos=0, block=None), done=False, restarted=True)
        page = page[1:]
    w, pos = state.w, state.pos
    held = _Held(state.seen)
    undated, met, tail = state.undated, state.met, None
    emit: list[dict[str, Any]] = []

    def now(done: bool = False) -> Step:
        # A walk that is done hands on offset 0 (the module docstring) unless its block holds more
        # members than the cursor keeps versions of: then its offset, and the block's size.
        large = done and pos > SEEN_LIMIT and len(held) > SEEN_LIMIT
        end = pos if large or not done else 0
        kept = (undated, 0, None) if done else (undated, met, tail)
        return Step(
            emit, WalkState(w, held.kept(), end, state.key, False, pos if large else None, *kept), done
        )

    for member in page:
        if not isinstance(member, Mapping):
            # Junk in the list (a string, a null): handed on for the mapping to quarantine. It holds
            # a place in the vendor's order, so it counts in the offset, and moves nothing else.
            emit.append(member)
            pos, tail = pos + 1, None
            continue
        changed = _changed(member, bound)
        if changed is None:
            # No readable time (normalise quarantines it): it moves nothing, and is delivered once in
            # each version, apart from ``seen`` (connectors.cursor_undated: past UNDATED_LIMIT only
            # those beyond it come back; held with ``seen``, all of them came back on every walk).
            tail = state.tag(member)
            again, undated, met = meet(undated, met, tail, UNDATED_LIMIT)
            if not again:
                emit.append(dict(member))
            pos += 1
            continue
        tail = None
        if upper is not None and changed is not None and changed >= upper:
            return now(done=True)
        if w is not None and changed is not None and changed < w:
            pos += 1  # before the watermark: only served when the API reads "since" as ">="
            continue
        if w is not None and changed == w:
            tag = state.tag(member)
            if not held.delivered(tag):
                # Another version of a member delivered on ``w`` was made after all delivered there.
                again = held.holds_record(tag)
                emit.append(mark(member, len(held)) if again else dict(member))
                held.add(tag)
            pos += 1
            continue
        w, held, pos = changed, _Held(first=partial(state.tag, member)), 1
        emit.append(dict(member))
    return now(done=last or returned < page_size)


__all__ = ["ONE_SECOND", "SEEN_LIMIT", "Step", "WalkState", "advance", "format_time", "parse_time"]
