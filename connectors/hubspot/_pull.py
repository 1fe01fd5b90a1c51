"""The HubSpot connector's pull: a full refresh lists every contact (``GET /crm/v3/objects/contacts``);
an incremental pull searches by ``lastmodifieddate`` after the cursor's watermark (a tie walk by id
when one timestamp fills a page), then walks the archived list for the contacts deleted since.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from connectors._http import CursorPaginator, PaginationError, paginate, value_at
from connectors.cursor_ahead import changed_ahead, kept_ahead
from connectors.cursor_seconds import dated, mark
from connectors.cursor_tags import RECORD_PART, another_version, last_versions, latest_of, version_tag
from connectors.cursor_undated import meet
from connectors.tool_clock import answered_at, on_tool_clock
from core.connector import RawPage
from core.schema import RecordDraft
from core.time_bound import TimeBound

from ._client import (
    ARCHIVE_MARGIN_MS,
    CONTACTS_PATH,
    LIST_PAGE_SIZE,
    SEARCH_PAGE_SIZE,
    SEARCH_PATH,
    HubSpotClient,
)
from ._cursor import UNDATED_LIMIT, FullState, IncrementalState, PullState, decode, encode
from ._mapping import (
    MODIFIED,
    OBJECT_TYPE,
    PULL_PROPERTIES,
    contact_id,
    contact_to_draft,
    merged_tombstones,
    modified_ms,
    timestamp_ms,
)

#: The most version tags a cursor keeps of one watermark (a DynamoDB item holds 400 KB).
SEEN_LIMIT = 1000
#: The connector's name, as ``connectors.tool_clock`` counts its answers.
NAME = "hubspot"


class HubSpotPull(HubSpotClient):
    """``pull`` and ``to_records`` of ``HubSpotConnector``: a full refresh by list, else a search by
    ``lastmodifieddate`` from the cursor, ending with the contacts archived since the last run."""

    cursor_tag_key: bytes

    # --- pull -------------------------------------------------------------------------------------
    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        """Contacts page by page: a full refresh for ``cursor=None``, else what changed since the cursor.

        Every page carries the cursor to resume right after it; the last page's cursor starts the next
        incremental run. An incremental run with nothing new yields one empty page carrying its cursor.
        """
        state: PullState | None = decode(cursor, self.cursor_tag_key)
        # A contact stamped far in the future is read as the start of this pull (core.time_bound): it
        # can carry no watermark past the pull, so the changes made after it are asked for next time.
        bound = TimeBound.from_now()
        if state is None or isinstance(state, FullState):
            yield from self._full(state, bound)
        else:
            yield from self._incremental(state, bound)

    def _full(self, state: FullState | None, bound: TimeBound) -> Iterator[RawPage]:
        if state is None:
            newest, answer = self._newest_modification()
            bound = on_tool_clock(bound, answer, NAME)
            state = FullState(after=None, watermark=None if newest is None else _bounded(newest, bound))
        watermark, max_id, ahead = state.watermark, state.max_id, state.ahead
        paginator = CursorPaginator("paging.next.after", "after", start=state.after)
        params = {"limit": LIST_PAGE_SIZE, "properties": ",".join(PULL_PROPERTIES)}
        for page in paginate(
            self._api, "GET", CONTACTS_PATH, paginator, params=params, records_path="results"
        ):
            bound = on_tool_clock(bound, page.headers, NAME)
            # After the tool's clock is read: a resumed walk learns it only here (its first answer)
            handoff = int(bound.handoff.timestamp() * 1000)
            records = list(page.records)  # junk elements too: the mapping quarantines them
            max_id = max([max_id, *(int(i) for i in map(contact_id, records) if i.isdigit())])
            # The versions listed on or after the handoff: the next run asks from it and pulls them
            # again, dating one changed since after them (connectors.cursor_ahead).
            listed = [(self._tag(r), _modified(r, bound)) for r in records if isinstance(r, dict)]
            ahead = kept_ahead(ahead, listed, handoff)
            following: PullState
            if page.has_next:
                following = FullState(after=page.checkpoint, watermark=watermark, max_id=max_id, ahead=ahead)
            else:
                # Every contact modified up to the watermark existed before the first page and was
                # listed, so the next run starts strictly after it (or at this pull's start, when the
                # newest contact was stamped ahead of it: see _capped).
                following = _capped(
                    IncrementalState(
                        watermark=watermark, tie=max_id if watermark is not None else None, ahead=ahead
                    ),
                    bound,
                )
            read = answered_at(page.headers)  # (RawPage.read: a record stamped ahead, by HubSpot's clock)
            yield RawPage(records=records, cursor=encode(following), object_type=OBJECT_TYPE, read=read)

    def _newest_modification(self) -> tuple[int | None, Mapping[str, str]]:
        """The newest ``lastmodifieddate`` in the account (epoch ms), None when it has no contacts,
        and the headers of HubSpot's answer (its ``Date``: connectors.tool_clock)."""
        body = {
            "filterGroups": [],
            "sorts": [{"propertyName": MODIFIED, "direction": "DESCENDING"}],
            "properties": [MODIFIED],
            "limit": 1,
            "after": "0",
        }
        answer, data = self._search.exchange_json("POST", SEARCH_PATH, json=body, idempotent=True)
        results = value_at(data, "results")
        if not isinstance(results, list) or not results or not isinstance(results[0], dict):
            return None, answer.headers
        return modified_ms(results[0]), answer.headers

    def _incremental(self, state: IncrementalState, bound: TimeBound) -> Iterator[RawPage]:
        archived_since = state.archived_since
        while True:
            answer, data = self._search.exchange_json(
                "POST", SEARCH_PATH, json=self._query(state), idempotent=True
            )
            # (the hand-off no later than HubSpot's clock when it first answered: connectors.tool_clock)
            bound = on_tool_clock(bound, answer.headers, NAME)
            found = value_at(data, "results")
            found = found if isinstance(found, list) else []
            raw = [r for r in found if isinstance(r, dict)]
            junk = [r for r in found if not isinstance(r, dict)]  # the mapping quarantines these
            has_more = bool(value_at(data, "paging.next.after"))
            # ``seen`` lists records returned at the watermark; one modified since has a later time.
            fresh, ahead, undated, met = [], state.ahead, state.undated, state.undated_met
            for r in raw:
                modified, tag = _modified(r, bound), self._tag(r)
                if modified is None:  # normalise quarantines it: once in each version, not every run
                    again, undated, met = meet(undated, met, tag, UNDATED_LIMIT)
                    if not again:
                        fresh.append(r)
                    continue
                on = modified is not None and modified == state.watermark
                if on and latest_of(tag, state.seen):
                    continue
                # another version of a contact returned at the watermark (or above a capped one,
                # connectors.cursor_ahead): dated after them all
                again = (on and another_version(tag, state.seen)) or (
                    modified is not None and changed_ahead(tag, ahead)
                )
                fresh.append(mark(r, len(ahead) + (len(state.seen) if on else 0)) if again else r)
                ahead = kept_ahead(ahead, [(tag, modified)], int(bound.handoff.timestamp() * 1000))
            if state.walk is not None:
                following = _walked(state, raw, has_more=has_more, bound=bound)
            else:
                following = advance(
                    state, raw, has_more=has_more, page_size=SEARCH_PAGE_SIZE, bound=bound, tag=self._tag
                )
                if has_more and _stuck(state, following):
                    # No contact on the page can move the query (no readable time, or versions already
                    # returned at the watermark): the same query again would answer the same page, and
                    # paging it by offset stops at search's cap (SEARCH_RESULT_CAP). Walk it by id.
                    began = int(bound.handoff.timestamp() * 1000)  # (the walk's cap: IncrementalState.began)
                    following = dataclasses.replace(state, walk=0, newest=None, began=began)
            following = dataclasses.replace(
                following, archived_since=archived_since, ahead=ahead, undated=undated, undated_met=met
            )
            if has_more and _position(following) == _position(state):
                raise PaginationError(
                    f"hubspot: search at lastmodifieddate {state.watermark} made no progress "
                    f"({state.phase} phase); stopping instead of looping"
                )
            fresh += junk
            last = not has_more and state.phase == "time"  # (a tie walk that ends goes on with the time)
            if last:
                following = dataclasses.replace(  # (the run's end: the next meets none yet)
                    _capped(following, bound),
                    archived_since=archived_since,
                    undated=undated,
                    undated_met=0,
                )
            read = answered_at(answer.headers)  # (RawPage.read: a record stamped ahead, by HubSpot's clock)
            yield RawPage(records=fresh, cursor=encode(following), object_type=OBJECT_TYPE, read=read)
            if last:
                yield from self._archived(following, bound)
                return
            state = following

    def _tag(self, contact: Mapping[str, Any]) -> str:
        """The tag the cursor keeps of a contact: its id with its content (``version_tag``), so a
        contact changed again on the watermark's timestamp is returned again."""
        return version_tag(self.cursor_tag_key, contact_id(contact), contact)

    def _any_tag(self, result: Any) -> str:
        """``_tag`` of a search result, or of an element that is no contact at all (junk held in
        HubSpot's order like any result)."""
        return (
            self._tag(result) if isinstance(result, Mapping) else version_tag(self.cursor_tag_key, "", result)
        )

    def _archived(self, state: IncrementalState, bound: TimeBound) -> Iterator[RawPage]:
        """The contacts archived (deleted) since ``state.archived_since``, as tombstones' pages.

        ``GET /crm/v3/objects/contacts?archived=true`` lists the archived contacts (restorable for 90
        days) ordered by id, each with ``archived: true`` and ``archivedAt``; search never returns
        them, and the list cannot filter by time, so the whole list is walked and only the recent
        ones kept. Every page but the last carries ``state``'s own cursor (a pull cut short walks the
        list again: a tombstone repeated retires nothing twice); the last one moves the archive
        watermark to the newest ``archivedAt`` seen, less ``ARCHIVE_MARGIN_MS`` for contacts archived
        while the list was walked at ids already passed."""
        since = state.archived_since
        newest = since
        paginator = CursorPaginator("paging.next.after", "after")
        params = {"limit": LIST_PAGE_SIZE, "archived": "true", "properties": MODIFIED}
        pages = paginate(self._api, "GET", CONTACTS_PATH, paginator, params=params, records_path="results")
        for page in pages:
            recent = []
            for record in page.records:
                at = timestamp_ms(record.get("archivedAt")) if isinstance(record, dict) else None
                if at is None or since is None or at >= since:
                    recent.append(record)  # (an archived contact with no time is a tombstone to refuse)
                if at is not None:
                    at = _bounded(at, bound)
                    newest = at if newest is None else max(newest, at)
            following = state
            if not page.has_next and newest is not None:
                moved = max(newest - ARCHIVE_MARGIN_MS, since or 0)
                following = dataclasses.replace(state, archived_since=moved)
            yield RawPage(records=recent, cursor=encode(following), object_type=OBJECT_TYPE)

    @staticmethod
    def _query(state: IncrementalState) -> dict[str, Any]:
        """The search body for the next page of ``state`` (see ``_cursor.IncrementalState``)."""
        filters: list[dict[str, Any]]
        sort = MODIFIED if state.walk is None else "hs_object_id"
        if state.phase == "tie":
            sort = "hs_object_id"
            filters = [
                {"propertyName": MODIFIED, "operator": "EQ", "value": str(state.watermark)},
                {"propertyName": "hs_object_id", "operator": "GT", "value": str(state.tie or 0)},
            ]
        elif state.watermark is None:
            filters = []
        else:
            operator = "GT" if state.tie is not None else "GTE"
            filters = [{"propertyName": MODIFIED, "operator": operator, "value": str(state.watermark)}]
        if state.walk is not None:
            # (the watermark's own query walked by id: every search from its first result, under the cap)
            filters.append({"propertyName": "hs_object_id", "operator": "GT", "value": str(state.walk)})
        return {
            "filterGroups": [{"filters": filters}] if filters else [],
            # HubSpot's guide and API take sorts as objects; its published spec types them as strings.
            "sorts": [{"propertyName": sort, "direction": "ASCENDING"}],
            "properties": list(PULL_PROPERTIES),
            "limit": SEARCH_PAGE_SIZE,
            "after": "0",  # (keyset paging, by time or by id: never an offset, never near the cap)
        }

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        """Each contact of ``page`` as a draft (pure; bad values are left for normalisation), then
        a tombstone for each contact a listed one absorbed in a merge at HubSpot (``merged_tombstones``)."""
        drafts = dated([contact_to_draft(record) for record in page.records], page.records)
        return drafts + [gone for record in page.records for gone in merged_tombstones(record)]


# --- helpers (pure) -------------------------------------------------------------------------------


def _position(state: IncrementalState) -> tuple[Any, ...]:
    """What the next search of ``state`` asks, and what it skips (the same twice: no progress)."""
    return (state.watermark, state.tie, state.phase, state.seen, state.walk)


def _stuck(state: IncrementalState, following: IncrementalState) -> bool:
    """Whether a time-phase page left the query where it was (the next search would be the same)."""
    return state.phase == "time" and _position(following) == _position(state)


def _walked(
    state: IncrementalState, raw: list[dict[str, Any]], *, has_more: bool, bound: TimeBound
) -> IncrementalState:
    """The state after one page of the walk by id (``IncrementalState.walk``).

    The walk reads every contact of the watermark's query, each once (a contact changed once passed
    has a time after the walk began, which the next run asks from). At its end the run ends, and the
    next one starts strictly after the newest time read (the timestamp is covered: ``tie`` 0), but
    never later than the hand-off of the run that began the walk (``IncrementalState.began``: a walk
    handed on by a run cut short goes on in the next, and a contact it passed in the first may have
    changed before a contact it reads in the second did), or, when none was readable, from that
    hand-off itself (a contact it passed that changes later has a later time; a cursor written before
    ``began`` existed: where the walk started). The run's end caps it at its own hand-off too
    (``_capped``)."""
    ids = _numeric_ids(raw)
    walk = max([state.walk or 0, *ids])
    times = [ms for r in raw if (ms := _modified(r, bound)) is not None]
    newest = max([t for t in (state.newest, *times) if t is not None], default=None)
    if has_more:
        if walk == state.walk:  # (no id past the last one: the next search would be the same)
            raise PaginationError(
                f"hubspot: a search page walked by id past {state.walk} at lastmodifieddate "
                f"{state.watermark} held no later contact id; stopping instead of looping"
            )
        return dataclasses.replace(state, walk=walk, newest=newest)
    cap = state.began  # (a contact passed may change after the walk began: never hand on later)
    if cap is not None and newest is None:
        # None readable: every contact of the query up to the walk's start was read, so the next
        # run asks from there (handing on the watermark it began at walked them all again each run)
        newest = cap
    if newest is None or cap is None or (state.watermark is not None and min(newest, cap) <= state.watermark):
        return dataclasses.replace(state, walk=None, newest=None, began=None)
    if newest >= cap:
        return IncrementalState(cap, None, (), "time")  # (asked from the cap on, that time included)
    return IncrementalState(newest, 0, (), "time")


def _bounded(ms: int, bound: TimeBound) -> int:
    """A time in epoch milliseconds, read as the pull's start when it is too far in the future."""
    limit = int(bound.limit.timestamp() * 1000)
    return ms if ms <= limit else int(bound.start.timestamp() * 1000)


def _capped(state: IncrementalState, bound: TimeBound) -> IncrementalState:
    """The state a finished run hands to the next: its watermark no later than the run's start less
    ``CLOCK_SKEW`` (``TimeBound.cap``: a tool clock behind ours). A contact stamped hours ahead
    (within the skew) is read as stamped while the run lasts, but the next run asks from the start
    of this one: asking after the contact's time would never return the edits made before it."""
    handoff = int(bound.handoff.timestamp() * 1000)
    if state.watermark is None or state.watermark <= handoff:
        return state
    return IncrementalState(handoff, ahead=state.ahead)


def _modified(contact: Mapping[str, Any], bound: TimeBound | None) -> int | None:
    ms = modified_ms(contact)
    if ms is not None and not _DATABLE_MS[0] <= ms < _DATABLE_MS[1]:
        return None  # a time normalise refuses (1969, 0001-01-01, 2200): undated, returned once
    return ms if ms is None or bound is None else _bounded(ms, bound)


#: The milliseconds normalise dates a record by (``core.normalise.datable``: years 1970..2100).
_DATABLE_MS: Final = (0, int(datetime(2101, 1, 1, tzinfo=UTC).timestamp()) * 1000)


def advance(
    state: IncrementalState,
    raw: list[dict[str, Any]],
    *,
    has_more: bool,
    page_size: int,
    tag: Callable[[Mapping[str, Any]], str],
    bound: TimeBound | None = None,
) -> IncrementalState:
    """The incremental state after one search page (``raw``: every result, seen ones included);
    ``tag`` gives what the cursor keeps of a contact's version (connectors.cursor_tags).

    In the tie phase the id keyset moves to the page's highest id, and the tags of the page's contacts
    leave ``seen`` (the keyset is past them); once the timestamp is exhausted the time phase resumes
    strictly after it. In the time phase the watermark moves to the page's newest timestamp,
    remembering the tags of the contacts returned at it; when that timestamp alone fills a page,
    paging by time cannot get past it, so the tie phase takes over.
    """
    if state.phase == "tie":
        tie = max([state.tie if state.tie is not None else -1, *_numeric_ids(raw)])
        passed = {tag(r) for r in raw}
        seen = tuple(t for t in state.seen if t not in passed)
        return IncrementalState(state.watermark, tie, seen, "tie" if has_more else "time")
    stamped = [(ms, tag(r) if contact_id(r) else "") for r in raw if (ms := _modified(r, bound)) is not None]
    if not stamped:
        return state
    newest = max(ms for ms, _ in stamped)
    at_newest = [i for ms, i in stamped if ms == newest and i]
    if state.watermark is None or newest > state.watermark:
        following = IncrementalState(newest, None, _returned((), at_newest), "time")
    else:
        following = IncrementalState(state.watermark, state.tie, _returned(state.seen, at_newest), "time")
    if has_more and following.tie is None and len(set(following.seen)) >= page_size:
        return dataclasses.replace(following, phase="tie")
    return following


def _returned(seen: tuple[str, ...], tags: list[str]) -> tuple[str, ...]:
    """``seen`` with ``tags`` returned after it, in order: a version not the last of its contact goes
    last again (``latest_of``), one that is stays where it is (a search repeats what it returned);
    the oldest leave beyond ``SEEN_LIMIT`` (their contacts are returned again: a repeat)."""
    out, last = list(seen), dict(last_versions(seen))  # the index of ``out``, kept as it grows
    for tag in tags:
        if last.get(tag[:RECORD_PART]) != tag:
            out.append(tag)
            last[tag[:RECORD_PART]] = tag
    return tuple(out[-SEEN_LIMIT:])


def _numeric_ids(raw: list[dict[str, Any]]) -> list[int]:
    return [int(i) for i in map(contact_id, raw) if i.isdigit()]
