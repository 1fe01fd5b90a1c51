"""``StripeConnector``: the SDK's ``RestConnector`` plus what the declaration cannot say.

* Charges become orders with money in major units (the SDK's ``OrdersMap`` reads orders embedded in
  a record and copies the amount as is; a Stripe charge *is* the order, in minor units).
* Event streams: their records are events; each draft is made from the event's ``data.object`` with
  the stream of that object's type, so a changed customer comes back as ``customer:<id>``. A full
  pull starts them at the newest event Stripe holds when it begins (the events already on that
  second count as seen: ``created[gte]`` returns the whole second), so every event of the walk is
  a change: a customer renamed or deleted, a charge refunded after its page was read (a full pull
  read the events only to set the watermark, and those changes were lost for good). A walk begun
  by an older version (its event streams without a watermark) keeps the events of the objects it
  returned whose newest event differs from what it returned. Within one pull an object's event
  comes back once: the newest wins (Stripe lists newest first), and an object its own stream
  returned as the event left it is not repeated (in a full pull, only when its newest event held
  when the pull began carries it too).
* A full pull dates what its lists return by the events Stripe held when it began (an object with
  none, at the 30-day retention horizon, ``undated``), and retires the customers whose deletions it
  held (``_full_dates``); a pull resumed from its cursor does the same.
* Versions on one second: an event's ``created`` is in whole seconds, and an object changed again on
  the second of the change the last pull read would have two versions of one time (the store then
  keeps the larger content hash). Stripe lists events newest first and stamps them by its clock, so
  the events on the watermark second that the cursor has not seen were all made after those it has:
  an update is dated ``created`` plus one microsecond more than the events of its stream seen on
  that second and those after it in its walk on that second, across pages (made before it:
  ``_event_seconds.sub_second``), and a deletion at the end of its second (nothing changes a deleted
  customer). Beyond ``SEEN_LIMIT`` events of one type on one second the count stops growing, and a
  third version on that second ties again.
* A list walk pages with ``starting_after`` (the id of the last object read): once that customer is
  deleted Stripe refuses the id, and the walk begins again from its first page (``walk``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from typing import Any

from connectors._http import ConnectorRequestError, value_at
from connectors.cursor_tags import tagged
from connectors.sdk import (
    SEEN_LIMIT,
    PullCursor,
    RestConnector,
    Stream,
    StreamState,
    parse_point,
    record_to_draft,
)
from core.connector import ConnectorPlugin, ConnectorSettings, RawPage
from core.schema import RecordDraft
from core.version_marks import after, settled

from ._charges import charge_order, to_major
from ._cursor_upgrade import upgraded
from ._declaration import (
    DECLARATION,
    DELETION_STREAMS,
    EVENT_STREAMS,
    EVENTS,
    PAGE,
    customer_shipping_traits,
    event_types,
    guest_charge_traits,
    paced,
)
from ._event_seconds import counted_across_pages, stamp, sub_second
from ._full_dates import NO_EVENT_YET, dated, held_events, listed_page
from ._full_dates import fingerprint as _fingerprint
from ._redacted import as_deletion

#: How many times one walk begins again after its page token was refused (its object deleted).
_RESTARTS = 3


def _as_of_event(draft: RecordDraft, event: Any) -> RecordDraft:
    """The draft of an event's ``data.object``, dated when the event happened.

    Stripe customers and charges have no modification time, so their drafts carry ``created``; an
    object changed later (``customer.updated``, ``charge.refunded``) must be newer than the version
    stored before, or the store compares two versions of one time and keeps the one whose content
    hash sorts higher: half of all renames and refunds were dropped as stale.
    """
    if draft.problem or not isinstance(event, dict):
        return draft
    if after(event):  # dated by the event's own rule (``stamp``): the pull's hook adds no more
        draft = settled(draft)
    happened = stamp(event)
    if happened is None:
        return draft
    created = draft.updated_at
    if isinstance(created, int) and not isinstance(created, bool) and created > event["created"]:
        return draft
    return draft.model_copy(update={"updated_at": happened})


def _as_listed(draft: RecordDraft, at: datetime | None, undated: bool = False) -> RecordDraft:
    """A listed object's draft, dated ``at`` (its newest event held when a full pull began, or for
    one with none, the retention horizon, ``undated``: ``_full_dates``) rather than by ``created``;
    one created after ``at`` keeps ``created``."""
    if draft.problem or at is None:
        return draft
    created = draft.updated_at
    if isinstance(created, int) and not isinstance(created, bool) and created > at.timestamp():
        return draft
    return draft.model_copy(update={"updated_at": at, "undated": undated})


def _tombstone(event: Any, object_type: str) -> RecordDraft:
    """A ``customer.deleted`` event as a tombstone of its customer, dated by the event (junk in the
    list, or an event naming no object, is quarantined like any such element)."""
    if not isinstance(event, dict):
        return RecordDraft.not_an_object("stripe", object_type, event)
    object_id = value_at(event, "data.object.id")
    if not object_id:
        return RecordDraft(
            source="stripe",
            object_type=object_type,
            problem=f"a {event.get('type')} event without data.object.id: no record to retire",
            raw={"event": str(event.get("id"))},
        )
    return RecordDraft(
        source="stripe",
        object_type=object_type,
        source_id=object_id,
        updated_at=stamp(event) or event.get("created"),
        deleted=True,
    )


class StripeConnector(RestConnector):
    """The declared Stripe connector (see the module docstring for what it adds)."""

    #: Its streams' time is ``created``, which a change never moves: an event never changes under
    #: its id, and an object's changes come as events. So the cursor keeps ids alone (the full
    #: walk's seen events, ``_full_walk``, are tags of ids).
    versioned_tags = False

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        # A cursor of a version that read the charge events as three streams: one stream now.
        cursor = self._full_walk() if cursor is None else upgraded(cursor, self.cursor_tag_key)
        state = PullCursor.decode(cursor, self.declaration.name)
        streams = self.declaration.streams
        # A previous walk finished every object stream: the events since then are changes. (An event
        # stream that found no event yet has no watermark of its own, so this is what says so.)
        walked = state.active is None and all(
            state.state(s.name).since is not None for s in streams if s.object_type not in EVENT_STREAMS
        )
        baseline = {s.object_type: walked or state.state(s.name).since is not None for s in streams}
        # A full pull (or one resumed from its cursor) dates what it lists by the events held when
        # it began (``_full_dates``): None when it lists nothing from the start.
        held = held_events(self.declaration, cursor, self.context.client("pull"), self.cursor_tag_key)
        listed: set[tuple[str, str]] = set()
        #: The listed objects an event carrying the same content need not repeat, by their hash.
        same: dict[tuple[str, str], bytes] = {}
        changed: set[tuple[str, str]] = set()
        deleted: set[tuple[str, str]] = set()
        for kind, events in ({} if held is None else held.deletions).items():
            # Customers deleted before the pull began: the list no longer returns them, and the
            # event streams start where it began (the pages carry the cursor it began from).
            for start in range(0, len(events), PAGE):
                chunk = events[start : start + PAGE]
                deleted.update((EVENT_STREAMS[kind], str(value_at(e, "data.object.id"))) for e in chunk)
                tombstones = [sub_second(e, None, 0, deletion=True) for e in chunk]
                yield RawPage(records=tombstones, cursor=cursor, object_type=kind)
        # A second's events are counted across the pages of their stream (``counted_across_pages``).
        for page, older in counted_across_pages(super().pull(cursor), EVENT_STREAMS):
            target = EVENT_STREAMS.get(page.object_type)
            if target is None:
                dates, horizon = (None, None) if held is None else (held.dates, held.horizon)
                yield listed_page(page, dates, listed, same, horizon)
                continue
            since_walk = baseline[page.object_type]
            stream_state = state.state(self.declaration.stream_for(page.object_type).name)
            kept: list[Any] = []
            for index, event in enumerate(page.records):
                if not isinstance(event, dict):
                    if since_walk:
                        kept.append(event)  # junk in the list: the mapping quarantines it
                    continue
                key = (target, str(value_at(event, "data.object.id")))
                if page.object_type in DELETION_STREAMS:
                    # Kept even when the customer's update came earlier in this pull: a deletion is
                    # newer than any update (a deleted customer cannot change), and retiring needs
                    # it. On a full pull, only the deletion of a customer this walk returned.
                    if key in deleted or not (since_walk or key in listed):
                        continue
                    deleted.add(key)
                elif key in changed:
                    continue  # the newest event of the object came first (Stripe lists newest first)
                else:
                    changed.add(key)
                    if same.get(key) == _fingerprint(value_at(event, "data.object")):
                        continue  # its own stream returned the object as the event left it
                    if key not in listed and not since_walk:
                        continue  # a full pull's list streams return the object as it is now
                kept.append(
                    sub_second(
                        event,
                        stream_state.since,
                        len(stream_state.skip),
                        page.object_type in DELETION_STREAMS,
                        older[index],
                    )
                )
            yield RawPage(records=kept, cursor=page.cursor, object_type=page.object_type)

    def walk(
        self, stream: Stream, state: StreamState
    ) -> Iterator[tuple[list[dict[str, Any]], StreamState, bool]]:
        """The SDK's walk, begun again from the stream's first page when Stripe refuses the page
        token: ``starting_after`` names the last object read, and once that customer is deleted
        Stripe answers 400 "No such customer" for it. The walk, and every pull resumed from its
        saved cursor, failed that way for good; the pages read again are repeats, never a loss."""
        current = state
        for _ in range(_RESTARTS):
            try:
                for records, after, done in super().walk(stream, current):
                    current = after
                    yield records, after, done
                return
            except ConnectorRequestError as exc:
                anchor = current.page
                if not anchor or exc.status not in (400, 404) or anchor not in exc.vendor_message:
                    raise
                current = replace(current, page=None)
        yield from super().walk(stream, current)

    def _full_walk(self) -> str:
        """The cursor a full pull starts from: the list streams from the start, the event streams
        from the newest event Stripe holds (by Stripe's clock), so that every event of the walk is
        read as a change even when the walk is cut short and resumed.

        ``created[gte]`` has a resolution of one second: the events already on that second are in
        the cursor's seen ids, so they are not read as changes made during the walk (the lists
        return their objects as they are now). Read as changes, a customer updated and deleted on
        the second the full pull began came back from its update event: the list no longer returns
        it, and its tombstone tied with the update."""
        newest, before = self._newest_second()
        events_state = {
            s.name: StreamState(
                since=newest,
                skip=tagged(self.cursor_tag_key, [i for kind, i in before if kind in event_types(s)]),
            )
            for s in self.declaration.streams
            if s.object_type in EVENT_STREAMS
        }
        return PullCursor(events_state).encode()

    def _newest_second(self) -> tuple[datetime, list[tuple[str, str]]]:
        """The second of the newest event Stripe holds (``NO_EVENT_YET`` when it holds none), and
        the type and id of each event on it (newest first, paged while they fill a page; at most
        ``SEEN_LIMIT``: past that, the oldest are read again, a repeat)."""
        newest, on_it = NO_EVENT_YET, list[tuple[str, str]]()
        params: dict[str, Any] = {"limit": PAGE}
        client = self.context.client("pull")
        for _ in range(SEEN_LIMIT // PAGE):
            body = client.get_json(EVENTS, params=params) or {}
            data = body.get("data") if isinstance(body, dict) else None
            events = [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []
            for event in events:
                created = parse_point(event.get("created"), "epoch")
                if created is None:
                    continue
                if newest == NO_EVENT_YET:
                    newest = created
                if created < newest:
                    return newest, on_it
                on_it.append((str(event.get("type")), str(event.get("id"))))
            if not events or not body.get("has_more"):
                break
            params = {"limit": PAGE, "starting_after": events[-1].get("id")}
        return newest, on_it

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        if page.object_type in DELETION_STREAMS:
            return [_tombstone(e, EVENT_STREAMS[page.object_type]) for e in page.records]
        target = EVENT_STREAMS.get(page.object_type)
        if target is not None:
            stream = self.declaration.stream_for(target)
            # An event whose data.object is missing maps to what it is (junk): quarantined.
            objects = [value_at(e, "data.object") if isinstance(e, dict) else e for e in page.records]
        else:
            stream = self.declaration.stream_for(page.object_type)
            listed = [dated(r) if isinstance(r, dict) else (r, None, False) for r in page.records]
            objects = [r for r, _, _ in listed]
        drafts = [record_to_draft(self.declaration.name, stream, r) for r in objects]
        if target is not None:
            drafts = [_as_of_event(d, e) for d, e in zip(drafts, page.records, strict=True)]
        else:
            drafts = [_as_listed(d, at, undated) for d, (_, at, undated) in zip(drafts, listed, strict=True)]
        if stream.object_type == "charge":
            drafts = [
                d.model_copy(
                    update={"orders": [charge_order(r)], "traits": {**guest_charge_traits(r), **d.traits}}
                )
                if isinstance(r, dict) and not d.problem
                else d
                for d, r in zip(drafts, objects, strict=True)
            ]
        elif stream.object_type == "customer":
            drafts = [
                d.model_copy(update={"traits": {**customer_shipping_traits(r), **d.traits}})
                if isinstance(r, dict) and not d.problem and not d.deleted
                else d
                for d, r in zip(drafts, objects, strict=True)
            ]
        # A redacted customer or charge is gone for good, though Stripe lists it (``_redacted``).
        return [as_deletion(d, r) for d, r in zip(drafts, objects, strict=True)]


def build(settings: ConnectorSettings) -> StripeConnector:
    return StripeConnector(paced(settings), settings)


def make_plugin(sandbox: Any) -> ConnectorPlugin:
    return ConnectorPlugin(spec=DECLARATION.connector_spec(), build=build, sandbox=sandbox)


__all__ = ["StripeConnector", "build", "charge_order", "make_plugin", "to_major"]
