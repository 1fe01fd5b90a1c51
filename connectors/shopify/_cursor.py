"""The pull cursor: one opaque JSON string holding the position of both streams (customers, orders).

Each stream walks ``updated_at:>='<since>'`` sorted by UPDATED_AT. Shopify timestamps have one-second
precision and many records can share one, so the lower bound is inclusive and the cursor keeps, with
``since``, the versions already delivered at or after it (``skip``: tag -> updatedAt). A record comes
back again only when its ``updatedAt`` or its content differs from the one delivered, that is when it
really changed.

During a walk the cursor also holds the GraphQL ``after`` position, the number of nodes walked (paging
stops at 25,000 objects), the newest timestamp delivered so far (``high``) with the ids delivered at it,
and, for a bulk operation, its id and how many of its lines were delivered. ``phase`` says which
stream runs; when both are done the run is complete and the next ``pull`` starts an incremental run.

The cursor is stored in the table (``SYNC#shopify``), and an erased person's records may be among
those delivered at the watermark second, so it never holds a record's id: the id maps are keyed by
``version_tag``, an HMAC of the id and the node's content under a key derived from the shop's access
token (which lives in Secrets Manager, not in the table). A tag names nobody to whoever reads the
table; 64 bits keep thousands of records sharing one second apart. The content is in the tag because
Shopify stamps whole seconds: a record delivered on the watermark second and changed again within it
keeps its ``updatedAt``, and only its content says it is another version. When the token is rotated
(or a cursor written before the content was tagged is read) the tags stop matching and the records
of the watermark second are delivered once more, which ingest takes as unchanged. Version-1 cursors
(ids in clear) are read and re-keyed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.cursor_tags import id_tag, latest_of, version_tag
from connectors.cursor_tags import tag_key as connector_tag_key
from connectors.cursor_undated import meet
from core.errors import ConnectorConfigError
from core.normalise import datable, epoch_moment
from core.time_bound import TimeBound

STREAMS: tuple[str, ...] = ("customers", "orders")
#: Versions with no readable time the cursor remembers per stream (``StreamState.undated``): beyond
#: it, the versions past it come back on each walk (a repeat, quarantined again, never a loss:
#: ``connectors.cursor_undated``).
UNDATED_LIMIT = 1000
_VERSION = 2
_READABLE_VERSIONS = (1, 2)


def tag_key(shop: str, token: str) -> bytes:
    """The key of this shop's cursor tags: derived from its access token, never stored."""
    return connector_tag_key("shopify", shop, token)


def canonical_time(value: Any) -> str | None:
    """A Shopify DateTime in one spelling (``2026-01-05T10:11:12Z``), so equal moments compare equal;
    None for anything that is not a timestamp. Shopify's ``DateTime`` is ISO 8601 text; a stamp in
    epoch time instead (a proxy or an app that re-serialises dates) is read as ``core.normalise``
    reads the record's ``updated_at`` (``epoch_moment``), so the record moves the cursor too."""
    if not isinstance(value, str) or not value:
        epoch = epoch_moment(value)
        return None if epoch is None else _spelled(epoch)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        epoch = epoch_moment(value)
        return None if epoch is None else _spelled(epoch)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    # (a time normalise refuses, 0001-01-01 or 2200, is none: the record is undated, StreamState)
    return None if datable(moment) is None else _spelled(moment)


def bounded_time(value: Any, bound: TimeBound) -> str | None:
    """``canonical_time(value)``, or the pull's start when the time is more than the skew ahead of it
    (a record stamped 2099 must not become the watermark: every later change would look older)."""
    moment = canonical_time(value)
    if moment is None or moment <= _spelled(bound.limit):  # one spelling, so strings compare as times
        return moment
    return _spelled(bound.start)


def _spelled(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class BulkPosition:
    """A bulk operation being read: its GID, root lines delivered, when it started (its snapshot may
    include changes from then on), and records delivered with ``updatedAt`` at or after that moment."""

    id: str
    started: str
    offset: int = 0
    late: dict[str, str] = field(default_factory=dict)
    reread: bool = False
    """The export is read again from its first line by a run that resumed it part-read (so that run
    lists every customer, and a full refresh's sweep can run: ``refresh_began``); once only, so an
    export too large for one run still ends (a later resume goes on from ``offset``)."""


@dataclass
class StreamState:
    """One stream's position; see the module docstring."""

    since: str | None = None
    skip: dict[str, str] = field(default_factory=dict)
    after: str | None = None
    walked: int = 0
    high: str | None = None
    high_ids: dict[str, str] = field(default_factory=dict)
    mode: str | None = None  # "bulk" or "paging", decided by a count on a full pull
    bulk: BulkPosition | None = None
    repeats: int = 0
    """Versions delivered on ``since`` again (A, B, then A: ``skip`` holds A once), so that
    ``delivered_on_since`` counts every delivery there (``connectors.cursor_seconds``)."""
    high_repeats: int = 0
    ahead: list[str] = field(default_factory=list)
    """Tags of the versions delivered on or after a walk's handoff (``connectors.cursor_ahead``)."""
    undated: list[str] = field(default_factory=list)
    """Tags of the versions delivered with no readable ``updatedAt`` (normalise quarantines them),
    at most ``UNDATED_LIMIT`` (``connectors.cursor_undated``): each is delivered once, and again only
    when it changes (before, such a record came back on every walk and was quarantined and counted
    each time)."""
    undated_met: int = 0
    """How many of ``undated``, at its end, the walk in progress met (``connectors.cursor_undated``)."""

    def undated_again(self, tag: str) -> bool:
        """Whether a version with no readable time was delivered already; noted as met if not."""
        again, undated, self.undated_met = meet(self.undated, self.undated_met, tag, UNDATED_LIMIT)
        self.undated = list(undated)
        return again

    def begin_walk(self) -> None:
        """Start walking from ``since``: nothing walked yet, the newest delivery is the bound itself."""
        self.after, self.walked, self.undated_met = None, 0, 0
        self.high, self.high_ids, self.high_repeats = self.since, dict(self.skip), self.repeats

    def delivered_on_since(self) -> int:
        """How many versions the cursor delivered on ``since``: what a version marked there follows."""
        return len(self.skip) + self.repeats

    def already_delivered(self, tag: str, updated_at: str | None) -> bool:
        """Whether the record version tagged ``tag`` (``version_tag``) was delivered at ``updated_at``."""
        return updated_at is not None and self.skip.get(tag) == updated_at and latest_of(tag, self.skip)

    def delivered(self, tag: str, updated_at: str | None) -> None:
        """Note a record version (by its ``version_tag``) handed to the caller, moving ``high`` forward."""
        if updated_at is None:
            return
        if self.high is None or updated_at > self.high:
            self.high, self.high_ids, self.high_repeats = updated_at, {tag: updated_at}, 0
        elif updated_at == self.high:
            # last, so the version it left does not hide it (``latest_of``: A, B, then A again)
            if self.high_ids.pop(tag, None) is not None:
                self.high_repeats += 1
            self.high_ids[tag] = updated_at

    def finish_walk(self, bound: TimeBound | None = None) -> None:
        """The walk reached the end: the next one starts at the newest timestamp delivered, or at the
        start of the pull less ``CLOCK_SKEW`` when that is earlier (``TimeBound.cap``: a record
        stamped hours ahead must not hide the edits made before its time)."""
        self._from_high()
        if bound is not None and self.since is not None and self.since > _spelled(bound.handoff):
            self.since, self.skip, self.repeats = _spelled(bound.handoff), {}, 0
        self.mode, self.bulk = None, None
        self.begin_walk()

    def restart_walk(self) -> None:
        """Start another walk from the newest timestamp delivered, skipping what was delivered at it
        (cursor paging stops at 25,000 objects)."""
        self._from_high()
        self.begin_walk()

    def _from_high(self) -> None:
        self.since, self.skip, self.repeats = self.high, dict(self.high_ids), self.high_repeats

    def finish_bulk(self, bulk: BulkPosition) -> None:
        """A bulk operation was read to the end. Changes made while it ran may or may not be in its
        file, so the next walk starts at the moment it started, skipping what the file already gave."""
        self.since, self.skip, self.repeats = bulk.started, dict(bulk.late), 0
        self.mode, self.bulk = None, None
        self.begin_walk()


@dataclass
class PullState:
    """Both streams and which one runs (``phase`` indexes STREAMS; ``len(STREAMS)`` means done)."""

    phase: int = 0
    streams: dict[str, StreamState] = field(default_factory=lambda: {s: StreamState() for s in STREAMS})

    @property
    def done(self) -> bool:
        return self.phase >= len(STREAMS)

    def next_run(self) -> None:
        """Start a new incremental run after a completed one."""
        self.phase = 0
        for stream in self.streams.values():
            stream.begin_walk()

    def encode(self) -> str:
        body = {"v": _VERSION, "phase": self.phase, **{s: _stream_json(self.streams[s]) for s in STREAMS}}
        return json.dumps(body, separators=(",", ":"))

    @classmethod
    def decode(cls, cursor: str, key: bytes) -> PullState:
        """The state ``cursor`` encodes; a version-1 cursor's ids are re-keyed as tags under ``key``."""
        try:
            body = json.loads(cursor)
            if not isinstance(body, dict) or body.get("v") not in _READABLE_VERSIONS:
                raise ValueError("not a version-1 or version-2 Shopify cursor")
            streams: dict[str, StreamState] = {}
            for name in STREAMS:
                raw = dict(body[name])
                bulk = raw.pop("bulk", None)
                if body["v"] == 1:
                    raw["skip"], raw["high_ids"] = _tagged(key, raw["skip"]), _tagged(key, raw["high_ids"])
                    if bulk:
                        bulk["late"] = _tagged(key, bulk.get("late", {}))
                for kept in ("ahead", "undated"):
                    if not isinstance(raw.get(kept, []), list):
                        raise ValueError(f"{kept} must be a list of tags")
                if not isinstance(raw.get("undated_met", 0), int):
                    raise ValueError("undated_met must be an integer")
                streams[name] = StreamState(**raw, bulk=BulkPosition(**bulk) if bulk else None)
            return cls(phase=int(body["phase"]), streams=streams)
        except (ValueError, TypeError, KeyError) as exc:
            raise ConnectorConfigError(
                f"shopify: the saved cursor cannot be read ({exc}); pull with cursor=None for a full refresh"
            ) from None


def _tagged(key: bytes, ids: dict[str, str]) -> dict[str, str]:
    return {id_tag(key, str(node_id)): updated for node_id, updated in dict(ids).items()}


def _stream_json(stream: StreamState) -> dict[str, Any]:
    # By hand rather than dataclasses.asdict, which deep-copies: the id maps can hold thousands of
    # entries when many records share one timestamp, and the cursor is encoded after every page.
    bulk = stream.bulk
    return {
        "since": stream.since,
        "skip": stream.skip,
        "after": stream.after,
        "walked": stream.walked,
        "high": stream.high,
        "high_ids": stream.high_ids,
        "mode": stream.mode,
        "bulk": None
        if bulk is None
        else {
            "id": bulk.id,
            "started": bulk.started,
            "offset": bulk.offset,
            "late": bulk.late,
            **({"reread": True} if bulk.reread else {}),  # (absent from an older cursor: not yet)
        },
        # (only when there are any: a cursor without them reads as none, and stays as it was written)
        **({"repeats": stream.repeats} if stream.repeats else {}),
        **({"high_repeats": stream.high_repeats} if stream.high_repeats else {}),
        **({"ahead": stream.ahead} if stream.ahead else {}),  # (absent from an older cursor: none kept)
        **({"undated": stream.undated} if stream.undated else {}),  # (likewise)
        **({"undated_met": stream.undated_met} if stream.undated_met else {}),  # (likewise)
    }


__all__ = [
    "STREAMS",
    "BulkPosition",
    "PullState",
    "StreamState",
    "bounded_time",
    "canonical_time",
    "id_tag",
    "tag_key",
    "version_tag",
]
