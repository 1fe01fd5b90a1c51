"""When a full pull's listed customers and charges were last changed, from the events Stripe holds.

Stripe customers and charges carry no modification time. A list version is dated by ``created``, a
change by its event (``created`` plus the microseconds ``_event_seconds.sub_second`` orders one second
with). A full pull into a store that earlier syncs filled listed a customer renamed since the last
sync dated ``created``: older than the event version the store held, so the store kept the old
name. So a full pull first reads the events Stripe holds (``GET /v1/events``, 30 days, with
``types[]`` of its event streams: ``customer.updated``, ``charge.refunded``, ``charge.captured``,
``charge.expired``, ``customer.deleted``) and dates each listed object by its newest update event
held when the pull began. The deletion
events held then are tombstones of the customers deleted since the last sync: the list no longer
returns them, and the event streams start where the pull began (a tombstone of a customer the store
never held retires nothing). ``customer.created`` is not read: a customer whose newest event is its
creation is dated ``created`` anyway.

The date of such an object whose newest event is on second ``s``: ``s`` plus ``j + 1`` microseconds,
where ``j`` is the place, oldest first among the events of its stream's types on ``s``, of its
previous event of those types on ``s`` (0 when it has none on ``s``). Every version of it a sync
stored from an older event is older than that (an event read on ``s`` after ``k`` seen ones is dated
``k + 1``, and at most ``j - 1`` events of ``s`` came before its previous one); the version its
newest event gave is dated at least ``j + 1``: a later sync than the previous one's had seen the
previous event and every event before it, and a sync that read both counts the events of ``s`` after
the newest in its page, the previous one among them (``_event_seconds.sub_second``): the same time
or later, with the same content as the list when nothing changed since, so no touch. A later change
is dated after: on a later second, or on ``s`` past every event held on it (``s`` is then the
watermark second the event streams start from, and they date such an event after all of them).

A sync counts the events of ``s`` after the newest across its pages (``_event_seconds.
counted_across_pages``: a page whose last second the next goes on with is held until the walk leaves
it), so more than a page of events of one type on one second (``PAGE`` = 100 a request) date the
version as this does (tests/unit/connectors/stripe/test_stripe_renames_across_pages.py, 101 and 201
renames). Past ``SEEN_LIMIT`` events of one second and a page held, the rest are not counted (the
microseconds stop at ``SEEN_LIMIT + 1`` here too).

"Held when the pull began" is what the cursor's event streams hold as read: events before their
watermark second, and the ones on it in their seen ids. A pull resumed from a full pull's cursor
reads the events again and keeps those same ones, so the objects listed after it resumed are dated
as the ones listed before. A listed object whose content is not what its newest held event carries
changed after the pull began: its event streams read that change, dated after it.

An object with no event held (none in the 30 days Stripe keeps them) last changed before the
retention horizon: 30 days before Stripe's clock when the walk read the events (its ``Date``
header; a pull resumed later reads them again, and a later horizon still bounds the change of an
object with none left), rounded up to the next midnight (UTC), and no later than the newest event
Stripe held when the pull began (the event streams' watermark: such an object changed before every
held event; a ``Date`` header ahead of Stripe's events, a proxy's or a cache's, dated it after the
pull began). An account holding no event has no such bound, nor any other time of Stripe's (every
object and event of it is older than 30 days). It is dated there and marked ``undated``
(``RecordDraft.undated``): any version a sync stored from an event of it is older (that event is
gone: before the horizon), and so is one an earlier full pull dated at its own horizon, so a version
of other content wins; a version of the same content is left as stored, with no write (ingest does
not touch a stored version to an undated time). A version the event streams read after the pull
began is newer, whatever the header said: once stored, an undated version gives way to any later
version of other content that is not undated, and a tombstone retires it (core.undated), so a
header far ahead of a quiet account's clock loses no change read after the pull (one read before
it and delivered after it is still ordered by time; docs/connectors.md). An object created
after the horizon and never changed keeps ``created``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Final

from connectors._http import ConnectorHttpClient, ConnectorRequestError, value_at
from connectors.cursor_tags import id_tag
from connectors.sdk import SEEN_LIMIT, PullCursor, RestConnectorSpec, StreamState
from core.connector import RawPage

from ._declaration import DELETION_STREAMS, EVENT_STREAMS, EVENTS, PAGE, event_types

#: The key ``pull`` adds to a listed object it dates: epoch microseconds of its version. Not a Stripe
#: field; only ``to_records`` reads it, and it takes it out before mapping the object.
DATED: Final = "profilesync_dated_us"
#: Beside ``DATED`` on an object dated at the retention horizon: its version's time is a bound.
UNDATED: Final = "profilesync_undated"
#: How long Stripe keeps events ("List all events": "going back up to 30 days").
EVENT_RETENTION: Final = timedelta(days=30)
#: An event stream's watermark when Stripe held no event as the full pull began (no bound): a full
#: pull of such an account reads every event that appears during the walk.
NO_EVENT_YET: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _micros(at: datetime) -> int:
    return (at - NO_EVENT_YET) // timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class Held:
    """A listed object's newest event held when the pull began: its version's date, and the hash of
    the object as the event carries it."""

    at: datetime
    fingerprint: bytes

    @property
    def micros(self) -> int:
        return _micros(self.at)


def fingerprint(obj: Any) -> bytes:
    """A hash of an object as listed or as an event carries it (a pull keeps one per listed object)."""
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def dated(record: dict[str, Any]) -> tuple[dict[str, Any], datetime | None, bool]:
    """A listed object without ``DATED`` and ``UNDATED``, the time it gave (None without one), and
    whether that time only bounds its last change (``UNDATED``)."""
    micros = record.get(DATED)
    if not isinstance(micros, int) or isinstance(micros, bool):
        return record, None, False
    rest = {k: v for k, v in record.items() if k not in (DATED, UNDATED)}
    try:
        at = NO_EVENT_YET + timedelta(microseconds=micros)
    except OverflowError:
        return rest, None, False
    return rest, at, record.get(UNDATED) is True


@dataclass(frozen=True, slots=True)
class HeldEvents:
    """What a full pull learns from the events held when it began: the date of each object by its
    newest event, and the deletion events (a customer deleted since the last sync, which the list
    no longer returns and the event streams, starting where the pull began, do not read)."""

    dates: dict[tuple[str, str], Held]
    deletions: dict[str, list[dict[str, Any]]]
    """By the object type of the deletion stream that reads them (``event:customer.deleted``)."""
    horizon: datetime | None = None
    """Before this, Stripe held no event when the walk read them: an object without one last
    changed before it (None: Stripe's clock unknown, such an object keeps ``created``)."""


@dataclass
class _Newest:
    group: str  # the event stream that reads it
    second: int
    fingerprint: bytes
    previous: int | None = None  # place, newest first, of its previous event on that second


def held_events(
    declaration: RestConnectorSpec, cursor: str, client: ConnectorHttpClient, tag_key: bytes
) -> HeldEvents | None:
    """What the events held when this pull began say (``_held``), or None when the pull lists
    nothing from the start (an incremental pull lists only the objects created since) or its event
    streams have no watermark (a cursor of an older version: nothing says when it began)."""
    state = PullCursor.decode(cursor, declaration.name, tag_key)
    streams = declaration.streams
    order = [s.name for s in streams]
    ahead = order[order.index(state.active) :] if state.active in order else order
    lists = [s for s in streams if s.object_type not in EVENT_STREAMS]
    fresh = [s for s in lists if s.name in ahead and state.state(s.name).since is None]
    # Between pulls, a list stream with no watermark found nothing on its last walk: it lists the
    # objects created since from the start, as an incremental pull does.
    if not fresh or (state.active is None and len(fresh) < len(lists)):
        return None
    # A deletion event is kept by its stream's object type (its RawPage's), an update by its object's.
    events = [s for s in streams if s.object_type in EVENT_STREAMS]
    types = {
        kind: (
            s.object_type if s.object_type in DELETION_STREAMS else EVENT_STREAMS[s.object_type],
            s.name,
            state.state(s.name),
        )
        for s in events
        for kind in event_types(s)
    }
    if any(stream.since is None for _, _, stream in types.values()):
        return None
    deletions = frozenset(
        kind for s in streams if s.object_type in DELETION_STREAMS for kind in event_types(s)
    )
    return _held(client, EVENTS, PAGE, types, deletions, lambda i: id_tag(tag_key, i))


def listed_page(
    page: RawPage,
    dates: dict[tuple[str, str], Held] | None,
    listed: set[tuple[str, str]],
    same: dict[tuple[str, str], bytes],
    horizon: datetime | None = None,
) -> RawPage:
    """A list stream's page, its objects dated by ``dates`` when the pull has them (``DATED``);
    records the keys it lists in ``listed``, and in ``same`` the hash of those an event with the
    same content need not repeat.

    Without ``dates`` (an incremental pull: the objects created on or after its watermark, some of
    which an earlier sync stored) an event read after is repeated, dated by the event: the listed
    version is dated ``created``, as an earlier sync stored the object, and two versions of one time
    are ordered by their content hash (a charge authorised, synced and captured, a customer created,
    synced and renamed, before the watermark moved past them, kept the old version half the time).
    With ``dates`` an event with the content listed is not repeated when the object is as its newest
    held event left it: else it changed after the pull began, and its event is read, dated after.
    With them, an object with no held event is dated at the ``horizon`` and marked ``UNDATED``."""
    records: list[Any] = []
    for record in page.records:
        if not isinstance(record, dict):
            records.append(record)
            continue
        key = (page.object_type, str(value_at(record, "id")))
        listed.add(key)
        content = fingerprint(record)
        found = None if dates is None else dates.get(key)
        if found is not None and found.fingerprint == content:
            same[key] = content
        if found is not None:
            record = {**record, DATED: found.micros}
        elif dates is not None and horizon is not None:
            record = {**record, DATED: _micros(horizon), UNDATED: True}
        records.append(record)
    return RawPage(records=records, cursor=page.cursor, object_type=page.object_type)


def _held(
    client: ConnectorHttpClient,
    path: str,
    page_size: int,
    types: Mapping[str, tuple[str, str, StreamState]],
    deletions: frozenset[str],
    tag: Callable[[str], str],
) -> HeldEvents:
    """The date of each object by its newest held event (see the module docstring), and the held
    deletion events.

    ``types``: event type -> (the object type its events carry, the name and the state of the event
    stream that reads it: its watermark and seen ids, which say what was held when the pull began;
    a stream reading several types counts their events on a second as one); the types in
    ``deletions`` are deletion events (they date nothing). ``tag``: an
    event id as the cursor keeps it. One walk of ``GET path?types[]=...`` newest first, paged with
    ``starting_after``: the events of 30 days, ``page_size`` a request."""
    names = sorted(types)
    params: dict[str, Any] = {"limit": page_size, **{f"types[{i}]": t for i, t in enumerate(names)}}
    newest: dict[tuple[str, str], _Newest] = {}
    on_second: dict[tuple[str, int], int] = {}  # events of a stream on a second, counted newest first
    deleted: dict[str, list[dict[str, Any]]] = {}
    answered: datetime | None = None
    while True:
        try:
            response, body = client.exchange_json("GET", path, params=params)
            body = body or {}
            if answered is None:
                answered = _answered(response.headers)
        except ConnectorRequestError as exc:
            anchor = params.get("starting_after")
            if anchor and exc.status in (400, 404) and str(anchor) in exc.vendor_message:
                break  # the last event read expired (30 days): the rest are older still
            raise
        data = body.get("data") if isinstance(body, dict) else None
        events = [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
        for event in events:
            kind = str(event.get("type"))
            created = event.get("created")
            object_id = value_at(event, "data.object.id")
            if kind not in types or not isinstance(created, int) or isinstance(created, bool):
                continue
            object_type, group, stream = types[kind]
            since = None if stream.since is None else int(stream.since.timestamp())
            if since is None or created > since:
                continue  # made after the pull began: the event streams read it as a change
            if created == since and tag(str(event.get("id"))) not in stream.skip:
                continue
            if kind in deletions:
                deleted.setdefault(object_type, []).append(event)
                continue
            place = on_second[(group, created)] = on_second.get((group, created), 0) + 1
            if not object_id:
                continue
            key = (object_type, str(object_id))
            found = newest.get(key)
            if found is None:
                newest[key] = _Newest(group, created, fingerprint(value_at(event, "data.object")))
            elif found.previous is None and found.second == created and found.group == group:
                found.previous = place
        if not events or not (isinstance(body, dict) and body.get("has_more")):
            break
        params = {**params, "starting_after": events[-1].get("id")}
    out: dict[tuple[str, str], Held] = {}
    for key, found in newest.items():
        before = 0
        if found.previous is not None:
            # Its place oldest first: the events of that second after it, newest first, come before.
            before = on_second[(found.group, found.second)] - found.previous + 1
        micros = min(before + 1, SEEN_LIMIT + 1)
        at = datetime.fromtimestamp(found.second, UTC) + timedelta(microseconds=micros)
        out[key] = Held(at, found.fingerprint)
    horizon = None if answered is None else _next_day(answered - EVENT_RETENTION)
    began = max((stream.since for _, _, stream in types.values() if stream.since is not None), default=None)
    if horizon is not None and began is not None and NO_EVENT_YET < began < horizon:
        # No later than the newest event Stripe held when the pull began (its watermark, by Stripe's
        # event clock), which every event of an object without one left came before: a Date header
        # ahead of Stripe's events (a proxy's, a cache's) dated such objects after the pull began.
        horizon = began
    return HeldEvents(out, deleted, horizon)


def _next_day(at: datetime) -> datetime:
    """The first midnight (UTC) at or after ``at``: a later bound is as true (the object changed
    before ``at``, and a day is far from the pull's beginning), and full pulls on one day date such
    an object alike, so that one pull's version is never older than the next's."""
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight if midnight == at else midnight + timedelta(days=1)


def _answered(headers: Mapping[str, str]) -> datetime | None:
    """When Stripe answered, by its clock (the ``Date`` header), or None without a readable one:
    this machine's clock is no stand-in (a fast one would date objects after their change)."""
    try:
        at = parsedate_to_datetime(headers.get("date") or "")
    except (TypeError, ValueError, IndexError):
        return None
    return None if at is None or at.tzinfo is None else at.astimezone(UTC)


__all__ = [
    "DATED",
    "EVENT_RETENTION",
    "UNDATED",
    "Held",
    "HeldEvents",
    "dated",
    "fingerprint",
    "held_events",
    "listed_page",
]
