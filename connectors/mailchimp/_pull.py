"""Pulling a Mailchimp audience: members page by page along ``last_changed`` (connectors.mailchimp._cursor),
a full refresh in parallel ranges within the connection limit.

``MailchimpPull`` is mixed into ``MailchimpConnector`` (which sets its attributes).
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from connectors._http import PaginationError
from connectors.cursor_seconds import dated
from connectors.tool_clock import answered_at, on_tool_clock
from core.connector import RawPage
from core.schema import RecordDraft
from core.time_bound import TimeBound

from ._audience import MailchimpAudience
from ._cursor import ONE_SECOND, Step, WalkState, advance, format_time, parse_time
from ._mapping import MEMBER_FIELDS, OBJECT_TYPE, former_key_tombstone, member_to_draft

#: A full refresh splits the audience into ``last_changed`` ranges walked in parallel, a multiple of
#: ``max_connections`` of them (equal ranges then finish together: no connection idles at the end),
#: each at most about this many pages (so read-ahead stays bounded; see ``_parallel_walks``).
RANGE_PAGES: Final = 10
#: A walk whose overlap check fails this many times in a row gives up (the block keeps moving).
_MAX_RESTARTS: Final = 20
#: The pages of a walk that also retires the records keyed by member id before (``WalkState``'s
#: ``retire_member_ids``): ``to_records`` adds each member's ``former_key_tombstone``.
RETIRING_PAGE: Final = f"{OBJECT_TYPE}+former-keys"

_PULL_FIELDS: Final = ",".join([*(f"members.{f}" for f in MEMBER_FIELDS), "total_items"])


class MailchimpPull(MailchimpAudience):
    """``pull``, ``cursor_since`` and ``to_records`` of ``MailchimpConnector``."""

    cursor_tag_key: bytes
    retire_member_id_keys: bool
    page_size: int
    _bound: TimeBound

    def cursor_since(self, since: datetime) -> str:
        """A cursor that pulls every member changed at or after ``since`` (``sync --since``)."""
        return WalkState.since(since, self.cursor_tag_key).encode()

    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        """Members page by page. ``None`` is a full refresh (parallel over ``last_changed`` ranges
        when the audience is large); a cursor continues the walk from its watermark."""
        # A member stamped far in the future is read as the start of this pull (core.time_bound): it
        # can carry no watermark past the pull, so the changes made after it are asked for next time.
        self._bound = TimeBound.from_now()
        if cursor is None:
            yield from self._full_refresh(retiring=self.retire_member_id_keys)
            return
        state = WalkState.decode(cursor, self.cursor_tag_key)
        if state.retire_member_ids and state.w is None and state.pos == 0:
            # The first pull from a cursor written where records were keyed by the member id
            # (_cursor's docstring): the whole audience, each member retiring its former key.
            yield from self._full_refresh(retiring=True)
            return
        if state.block is not None:
            state = self._recount(state)
        yield from self._pages(self._walk(state, None), retiring=state.retire_member_ids)

    def _recount(self, state: WalkState) -> WalkState:
        """``state`` (a walk that ended on a block larger than the cursor keeps versions of) at its
        offset if the block holds as many members as it did, else at offset 0: a member that joined
        it may sort before the offset (connectors.mailchimp._cursor's docstring)."""
        assert state.w is not None
        body = self._walk_get(
            f"{self._list_path}/members",
            {
                "count": 1,
                "since_last_changed": format_time(state.w - ONE_SECOND),
                "before_last_changed": format_time(state.w + ONE_SECOND),
                "fields": "total_items",
            },
        )
        total = body.get("total_items")
        same = isinstance(total, int) and not isinstance(total, bool) and total == state.block
        return replace(state, pos=state.pos if same else 0, block=None)

    def _walk_get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        """``_get`` for the pull: the first answer of the pull sets the tool's clock of its bound
        (connectors.tool_clock: the hand-off is no later than Mailchimp's clock then, less
        ``CLOCK_SKEW``)."""
        return self._walk_answer(path, params)[1]

    def _walk_answer(self, path: str, params: dict[str, Any]) -> tuple[datetime | None, dict[str, Any]]:
        """``_walk_get``, with when Mailchimp answered by its own clock (``RawPage.read``)."""
        headers, body = self._answer(path, params)
        self._bound = on_tool_clock(self._bound, headers, "mailchimp")
        return answered_at(headers), body

    def _request(
        self, state: WalkState, upper: datetime | None
    ) -> tuple[list[dict[str, Any]], bool, int, datetime | None]:
        """One page of the walk from ``state``: its members, whether the first is the overlap check,
        ``total_items`` (-1 if absent) and when Mailchimp answered, by its clock."""
        since, offset, verify = state.query()
        params: dict[str, Any] = {
            "count": self.page_size,
            "offset": offset,
            "sort_field": "last_changed",
            "sort_dir": "ASC",
            "fields": _PULL_FIELDS,
        }
        if since is not None:
            params["since_last_changed"] = since
        if upper is not None:
            params["before_last_changed"] = format_time(upper)
        read, body = self._walk_answer(f"{self._list_path}/members", params)
        members = body.get("members")
        if not isinstance(members, list):
            raise PaginationError(f"mailchimp: GET {self._list_path}/members answered no members list")
        total = body.get("total_items")
        total = total if isinstance(total, int) and not isinstance(total, bool) else -1
        return list(members), verify, total, read  # junk elements too: the mapping quarantines them

    def _fetch(self, state: WalkState, upper: datetime | None) -> Step:
        members, verify, total, read = self._request(state, upper)
        last = 0 <= total <= state.query()[1] + len(members)
        step = advance(
            state, members, verify=verify, page_size=self.page_size, upper=upper, last=last, bound=self._bound
        )
        return replace(step, read=read)

    def _walk(self, state: WalkState, upper: datetime | None) -> Iterator[Step]:
        """Every step of one walk from ``state`` to the end (or to ``upper``)."""
        restarts = total = 0
        while True:
            step = self._fetch(state, upper)
            if step.restarted:
                restarts += 1
                total += 1
                # Consecutive restarts, and all of one walk: a block that shifts on every other read
                # (a member that changes each time it is read) must not loop forever either.
                if restarts > _MAX_RESTARTS or total > 10 * _MAX_RESTARTS:
                    raise PaginationError(
                        f"mailchimp: the members on {format_time(state.w) if state.w else 'the start'} "
                        f"kept changing while being read ({restarts} restarts); run the pull again"
                    )
            else:
                restarts = 0
            if step.done:
                # The next walk starts no later than this pull began (or Mailchimp's clock when it
                # first answered) less CLOCK_SKEW (TimeBound.cap): a member stamped hours ahead must
                # not hide the changes made before its time, nor a clock behind ours those it
                # stamps just after the pull.
                w = step.state.w
                if w is not None and self._bound.cap(w) != w:
                    # Mailchimp's times are whole seconds: the start, floored, repeats rather than skips.
                    handoff = self._bound.handoff.replace(microsecond=0)
                    kept = WalkState(handoff, key=self.cursor_tag_key, undated=step.state.undated)
                    step = replace(step, state=kept)
                yield step
                return
            yield step
            state = step.state

    @staticmethod
    def _pages(steps: Iterator[Step], *, retiring: bool) -> Iterator[RawPage]:
        """RawPages for the steps that found members, then an empty page if the cursor moved on.

        ``retiring``: the walk also retires the member-id keys (``RETIRING_PAGE``); its cursors say so
        until the last, which is written once every page before it is durable."""
        last: str | None = None
        final: WalkState | None = None
        object_type = RETIRING_PAGE if retiring else OBJECT_TYPE
        for step in steps:
            final = step.state
            if step.emit:
                last = replace(step.state, retire_member_ids=retiring).encode()
                yield RawPage(step.emit, last, object_type, read=step.read)
        assert final is not None  # a walk makes at least one step
        done = replace(final, retire_member_ids=False).encode()
        if last != done:
            yield RawPage([], done, object_type)

    def _probe(self, offset: int, sort_dir: str = "ASC") -> tuple[datetime | None, int]:
        body = self._walk_get(
            f"{self._list_path}/members",
            {
                "count": 1,
                "offset": offset,
                "sort_field": "last_changed",
                "sort_dir": sort_dir,
                "fields": "members.last_changed,total_items",
            },
        )
        members = body.get("members")
        first = members[0] if isinstance(members, list) and members else {}
        total = body.get("total_items")
        return (
            parse_time(first.get("last_changed")) if isinstance(first, dict) else None,
            total if isinstance(total, int) else 0,
        )

    def _full_refresh(self, *, retiring: bool) -> Iterator[RawPage]:
        # A one-member probe says how large the audience is (total_items) before anything is read.
        _, total = self._probe(0)
        pages = math.ceil(total / self.page_size)
        per_round = self.max_connections * RANGE_PAGES
        ranges = min(pages, self.max_connections * math.ceil(pages / per_round))
        if ranges < 2 or self.max_connections == 1:
            yield from self._pages(self._walk(WalkState(key=self.cursor_tag_key), None), retiring=retiring)
            return
        # Range bounds are the last_changed values at evenly spaced offsets. They only balance the
        # work: each range is walked by watermark, so bounds that moved since cannot lose a member.
        offsets = [k * total // ranges for k in range(1, ranges)]
        with ThreadPoolExecutor(self.max_connections, thread_name_prefix="mailchimp-probe") as pool:
            probed = list(pool.map(self._probe, offsets))
        bounds = sorted({self._bound.clamp(at).replace(microsecond=0) for at, _ in probed if at is not None})
        lowers: list[datetime | None] = [None, *bounds]
        uppers: list[datetime | None] = [*bounds, None]
        yield from self._pages(self._parallel_walks(lowers, uppers), retiring=retiring)

    def _parallel_walks(self, lowers: list[datetime | None], uppers: list[datetime | None]) -> Iterator[Step]:
        """The steps of every range's walk, range after range, while up to ``max_connections`` ranges
        are read ahead in parallel. Range ``i``'s states are valid cursors once ranges before it are
        done: everything older than its watermark has been read."""
        count = len(lowers)
        outboxes: list[queue.SimpleQueue[tuple[str, Any]]] = [queue.SimpleQueue() for _ in range(count)]
        stop = threading.Event()

        def run(index: int) -> None:
            try:
                for step in self._walk(WalkState(lowers[index], key=self.cursor_tag_key), uppers[index]):
                    if stop.is_set():
                        return
                    outboxes[index].put(("step", step))
                outboxes[index].put(("end", None))
            except BaseException as exc:  # handed to the consumer, which re-raises it
                outboxes[index].put(("error", exc))

        # Ranges are queued up to ``window`` ahead of the one being consumed: the pool runs
        # ``max_connections`` of them at once, and read-ahead stays bounded (window x RANGE_PAGES).
        window = 2 * self.max_connections
        pool = ThreadPoolExecutor(self.max_connections, thread_name_prefix="mailchimp-pull")
        started = 0
        try:
            for _ in range(min(count, window)):
                pool.submit(run, started)
                started += 1
            for index in range(count):
                while True:
                    kind, item = outboxes[index].get()
                    if kind == "error":
                        raise item
                    if kind == "end":
                        break
                    yield item
                if started < count:
                    pool.submit(run, started)
                    started += 1
        finally:
            stop.set()
            pool.shutdown(wait=False, cancel_futures=True)

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        """Map a page of members to drafts (pure; bad values are left to ``normalise_record``); a
        page of a walk that retires the member-id keys also carries each member's tombstone there."""
        # A member the cursor pulled again on its watermark second is dated after the versions it
        # delivered there (connectors.cursor_seconds).
        drafts = dated([member_to_draft(member) for member in page.records], page.records)
        if page.object_type == RETIRING_PAGE:
            drafts += [t for t in map(former_key_tombstone, page.records) if t is not None]
        return drafts
