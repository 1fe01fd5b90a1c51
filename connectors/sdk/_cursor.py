"""The pull cursor of a declared connector: per stream, a watermark, the versions seen on it, and the page.

A walk reads a stream sorted or filtered by its modification time, following the vendor's own page
tokens. Its lower bound stays fixed for the whole walk (``since``); what it has read is summed up as
the newest modification time (``high``) and the ids of the records on it (``at_high``). When the walk
ends, ``high`` becomes the next walk's ``since``.

Why ids at the watermark: vendors stamp many records with the same second (an import, a bulk update).
A next walk asking for "after ``w``" would miss records stamped ``w`` that arrived after the last walk
read ``w``; asking for "from ``w``" would return the ones already read again. So the next walk asks
from ``w`` (one resolution earlier if the vendor's filter is strict) and drops the records it already
has, in the version it has them: the key ``accept`` is given is a tag of the record's id with its
content (``connectors.cursor_tags.version_tag``), so a record changed again within the watermark
second, which keeps its time, is returned again; one returned unchanged is dropped.

Why the vendor's page token and not our own offset: a record that changes mid-walk leaves its place
in the order; an offset would then skip the record after it. Every page carries the whole state,
token included, so a pull cut short resumes after the last durable page. (An offset API can still be
walked safely when every page overlaps the one before: ``OverlapOffsetPaging``.)

Why tags, not ids: the cursor is stored in the table (``SYNC#<connector>``), and an erased person's
records may be among those at the watermark. The connector hands ``accept`` keyed tags of the ids
(connectors.cursor_tags, keyed by its credentials), so ``skip`` and ``at_high`` name nobody. Version-1
cursors (ids in clear) are read and re-keyed; their tags, and those of a cursor written before tags
held the content, name ids and no version: the records of their watermark second are returned once
more (a repeat, which ingest takes as unchanged, never a loss).

Why a walk not in modification order starts the next one no later than it began (``started``): a
walk that pages by id reads record A, then A changes, then the walk reads B, changed later still. The
newest time read is B's, past A's new time: a next walk from there would never see A's change.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Final

from connectors.cursor_ahead import changed_ahead, kept_ahead
from connectors.cursor_seconds import mark
from connectors.cursor_tags import another_version, latest_of, tagged
from connectors.cursor_undated import meet
from core.errors import ConnectorConfigError
from core.normalise import epoch_moment

_VERSION: Final = 2
_READABLE_VERSIONS: Final = (1, 2)
#: The cursor keeps at most this many ids per watermark. A cursor is stored in one DynamoDB item
#: (400 KB); beyond this many records on one timestamp, the oldest ids are dropped, and the next walk
#: returns those again (a repeat, never a loss).
SEEN_LIMIT: Final = 1000


def parse_point(value: Any, time_format: str = "iso") -> datetime | None:
    """A record's modification time as an aware UTC datetime, or None when it is missing or unreadable.

    ISO 8601 text (``2026-01-02T03:04:05+00:00``, ``...Z``) or, for ``epoch``, seconds since 1970.
    An ISO stream's record stamped in epoch time instead (a JSON integer, nine or more digits: a
    plugin or proxy that re-serialises dates) is read as ``core.normalise`` reads its ``updated_at``
    (``epoch_moment``), so the record it dates moves the cursor rather than come back every walk.
    """
    try:
        if time_format == "epoch" and isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if not isinstance(value, str) or not value.strip():
            return epoch_moment(value)
        text = value.strip()
        if time_format == "epoch" and text.isdigit():
            return datetime.fromtimestamp(int(text), UTC)
    except (OverflowError, OSError, ValueError):  # a year beyond datetime's, NaN: no time at all
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return epoch_moment(text)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def format_point(value: datetime, time_format: str = "iso") -> str:
    """A time as sent in a filter: ISO 8601 in UTC with ``Z``, or whole epoch seconds."""
    if time_format == "epoch":
        return str(int(value.timestamp()))
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class StreamState:
    """Where one stream stands. Everything modified before ``since`` has been returned, and so have
    the records on ``since`` listed in ``skip``. A walk in progress also knows ``page`` (the vendor's
    next-page token, URL or offset) and what it read so far (``high``, ``at_high``)."""

    since: datetime | None = None
    skip: tuple[str, ...] = ()
    high: datetime | None = None
    at_high: tuple[str, ...] = ()
    page: str | None = None
    started: datetime | None = None
    """When a walk that is not in modification order began, by the vendor's clock: the next
    ``since`` is never later (see the module docstring)."""
    ahead: tuple[str, ...] = ()
    """Tags of the versions delivered on or after a walk's handoff (``connectors.cursor_ahead``)."""
    undated: tuple[str, ...] = ()
    """Tags of the versions delivered with no readable time (normalise quarantines them), at most
    ``SEEN_LIMIT`` (``connectors.cursor_undated``): each is delivered once, and again only when it
    changes. Without them such a record came back on every walk and was quarantined and counted
    again each time."""
    undated_met: int = 0
    """How many of ``undated``, at its end, the walk in progress met (``connectors.cursor_undated``)."""

    def undated_again(self, key: str) -> tuple[bool, StreamState]:
        """Whether this version, which has no readable time, was delivered already, and the state
        after meeting it (``connectors.cursor_undated.meet``)."""
        again, undated, met = meet(self.undated, self.undated_met, key, SEEN_LIMIT)
        return again, replace(self, undated=undated, undated_met=met)

    def passed(self, key: str, point: datetime | None) -> bool:
        """Whether a record was returned before this walk (older than ``since``, or seen on it)."""
        if point is None or self.since is None:
            return False
        return point < self.since or (point == self.since and latest_of(key, self.skip))

    def read(self, key: str, point: datetime | None) -> StreamState:
        """The state after returning one record."""
        if point is None:
            return self
        if self.high is None or point > self.high:
            return replace(self, high=point, at_high=(key,))
        if point == self.high:  # (delivered again: last, so the version it left does not hide it)
            return replace(self, at_high=(*self.at_high, key)[-SEEN_LIMIT:])
        return self

    def finished(self, latest: datetime | None = None) -> StreamState:
        """The state once the walk has read its last page: its newest time is the next ``since``
        (no later than ``started``, when set; records on that instant then all come back), and no
        later than ``latest`` (the walk's start less ``CLOCK_SKEW``, ``core.time_bound.TimeBound.cap``):
        a record stamped hours ahead must not start the next walk after the edits made before its
        time."""
        done = self._finished()
        if latest is not None and done.since is not None and done.since > latest:
            return StreamState(latest, ahead=self.ahead, undated=self.undated)
        return replace(done, ahead=self.ahead, undated=self.undated)  # (a walk's end: none met yet)

    def _finished(self) -> StreamState:
        high, at_high = self.high, self.at_high
        if self.started is not None and high is not None and high > self.started:
            high, at_high = self.started, ()
        if high is None or (self.since is not None and high < self.since):
            return StreamState(self.since, self.skip)
        if high == self.since:
            return StreamState(self.since, (*self.skip, *at_high)[-SEEN_LIMIT:])
        return StreamState(high, at_high)


def accept(
    state: StreamState, records: Iterable[Mapping[str, Any]], key_point: Any, floor: datetime | None = None
) -> tuple[list[dict[str, Any]], StreamState]:
    """Apply one page: the records not returned before, and the state after them.

    ``key_point(record)`` gives ``(key, modification time or None)``: the key is what the cursor
    keeps of the record at the watermark, best the tag of its version
    (``connectors.cursor_tags.version_tag``; a tag of the id alone skips a record changed again on
    the watermark second). A record with no readable time never moves the watermark and is returned
    once in each version (normalise quarantines it; ``StreamState.undated`` remembers it); elements
    that are not objects at all are always returned (the mapping quarantines them). A record on the watermark
    that the cursor delivered there in another version is marked (``connectors.cursor_seconds.mark``)
    so that ``to_records`` dates it after the versions delivered there. A time too far ahead is
    the caller's to clamp in ``key_point`` (``core.time_bound``), so it cannot carry the watermark
    past the pull. ``floor`` (the walk's ``TimeBound.handoff``): the versions delivered on or after
    it are kept in ``ahead``, and one found there in another version is marked as well
    (``connectors.cursor_ahead``).

    The skip list keeps every version in the order delivered, a version delivered again once more
    (``latest_of`` reads its last place), so its length counts the versions delivered on the
    watermark and each mark is later than the one before, up to ``SEEN_LIMIT``.
    """
    emit: list[dict[str, Any]] = []
    for record in records:
        if not isinstance(record, Mapping):
            emit.append(record)  # vendors send junk: the mapping quarantines it
            continue
        key, point = key_point(record)
        if state.passed(key, point):
            continue
        if point is None:  # normalise quarantines it: once, not on every walk
            again, state = state.undated_again(key)
            if not again:
                emit.append(dict(record))
            continue
        # Another version of a record the cursor delivered on its watermark was made after every
        # version it delivered there: marked, its draft is dated after them (connectors.cursor_seconds).
        on = point is not None and point == state.since
        # (or one it delivered above a capped watermark: connectors.cursor_ahead; ``passed`` has
        # dropped what is below the watermark)
        again = (on and another_version(key, state.skip)) or (
            point is not None and changed_ahead(key, state.ahead)
        )
        seen = len(state.ahead) + (len(state.skip) if on else 0)
        emit.append(mark(record, seen) if again else dict(record))
        state = replace(state.read(key, point), ahead=kept_ahead(state.ahead, [(key, point)], floor))
    return emit, state


@dataclass(frozen=True, slots=True)
class PullCursor:
    """Every stream's state, and the stream a walk in progress is on (None: between pulls)."""

    streams: Mapping[str, StreamState]
    active: str | None = None

    def state(self, stream: str) -> StreamState:
        return self.streams.get(stream, StreamState())

    def encode(self) -> str:
        """The opaque cursor string (compact JSON)."""
        data = {
            "v": _VERSION,
            "active": self.active,
            "streams": {name: _encode_state(s) for name, s in sorted(self.streams.items())},
        }
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, cursor: str | None, connector: str, key: bytes | None = None) -> PullCursor:
        """Read a cursor this connector wrote; None is a full refresh. Any other string is a config
        error naming the way out, rather than a guess at where to start. A version-1 cursor's ids are
        re-keyed as tags under ``key`` (the connector's ``cursor_tag_key``; without it they are kept
        as they are, for a reader that only wants the watermarks)."""
        if cursor is None:
            return cls({})
        try:
            data = json.loads(cursor)
            if not isinstance(data, dict) or data.get("v") not in _READABLE_VERSIONS:
                raise ValueError("not a version-1 or version-2 cursor of the connector SDK")
            active = data.get("active")
            if active is not None and not isinstance(active, str):
                raise ValueError("active must be a stream name")
            streams = data.get("streams")
            if not isinstance(streams, dict):
                raise ValueError("streams must be an object")
            states = {str(k): _decode_state(v) for k, v in streams.items()}
            if data["v"] == 1 and key is not None:
                states = {
                    name: replace(s, skip=tagged(key, s.skip), at_high=tagged(key, s.at_high))
                    for name, s in states.items()
                }
            return cls(states, active)
        except (ValueError, TypeError, KeyError) as exc:
            raise ConnectorConfigError(
                f"{connector}: the cursor {cursor[:80]!r} was not written by this connector ({exc}); "
                "pull with no cursor (sync --full) for a full refresh"
            ) from None


def _encode_state(state: StreamState) -> dict[str, Any]:
    return {
        "w": state.since.isoformat() if state.since else None,
        "skip": list(state.skip),
        "hi": state.high.isoformat() if state.high else None,
        "at_hi": list(state.at_high),
        "page": state.page,
        **({"st": state.started.isoformat()} if state.started else {}),
        **({"ahead": list(state.ahead)} if state.ahead else {}),
        **({"undated": list(state.undated)} if state.undated else {}),
        **({"undated_met": state.undated_met} if state.undated_met else {}),
    }


def _decode_state(data: Any) -> StreamState:
    if not isinstance(data, dict):
        raise ValueError("a stream state must be an object")
    skip, at_high, page = data.get("skip", []), data.get("at_hi", []), data.get("page")
    ahead = data.get("ahead", [])  # (absent from a cursor written before it: nothing kept)
    undated = data.get("undated", [])  # (likewise)
    met = data.get("undated_met", 0)  # (likewise: none met)
    if not isinstance(met, int) or isinstance(met, bool):
        raise ValueError("undated_met must be an integer")
    for ids in (skip, at_high, ahead, undated):
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
    if page is not None and not isinstance(page, str):
        raise ValueError("page must be a string")
    return StreamState(
        _time(data.get("w")),
        tuple(skip),
        _time(data.get("hi")),
        tuple(at_high),
        page,
        _time(data.get("st")),
        tuple(ahead),
        tuple(undated),
        met,
    )


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = parse_point(value)
    if parsed is None:
        raise ValueError(f"{value!r} is not a time")
    return parsed


__all__ = [
    "SEEN_LIMIT",
    "PullCursor",
    "StreamState",
    "accept",
    "format_point",
    "parse_point",
]
