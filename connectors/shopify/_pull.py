"""The Shopify connector's pull: customers, then orders, each walked by ``updated_at`` in pages (cursor
paging restarts a walk from its newest timestamp before Shopify's 25,000-object limit), or, for the
first full pull of a large store, exported by a bulk operation whose JSONL result is downloaded.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import httpx

from connectors._http import (
    ConnectorAuthError,
    HttpClientConfig,
    PaginationError,
    RetryPolicy,
    build_client,
    describe_vendor_error,
    secret_env_var,
)
from connectors.cursor_ahead import changed_ahead, kept_ahead
from connectors.cursor_seconds import dated, mark
from connectors.cursor_tags import another_version
from connectors.tool_clock import answered_at, on_tool_clock
from core.connector import RawPage
from core.schema import RecordDraft
from core.time_bound import TimeBound

from . import _documents as docs
from ._client import CREDENTIAL, ShopifyBulkOperationError, ShopifyClient
from ._cursor import STREAMS, BulkPosition, PullState, StreamState, bounded_time, canonical_time, version_tag
from ._mapping import CUSTOMER, ORDER, SOURCE, draft

_BULK_DONE: Final = frozenset({"COMPLETED", "FAILED", "CANCELED", "EXPIRED"})

_OBJECT_TYPE: Final[Mapping[str, str]] = {"customers": CUSTOMER, "orders": ORDER}

_PAGE: Final[Mapping[str, tuple[str, str, int, int]]] = {
    # stream -> (document, root field, largest first, cost of a node)
    "customers": (docs.CUSTOMERS_PAGE, "customers", docs.CUSTOMER_PAGE_SIZE, docs.CUSTOMER_NODE_COST),
    "orders": (docs.ORDERS_PAGE, "orders", docs.ORDER_PAGE_SIZE, docs.ORDER_NODE_COST),
}

_BULK: Final[Mapping[str, str]] = {"customers": docs.CUSTOMERS_BULK, "orders": docs.ORDERS_BULK}


def parse_bulk_jsonl(content: bytes) -> list[dict[str, Any]]:
    """The root objects of a bulk operation's JSONL result, in file order.

    A nested connection's nodes come as lines of their own carrying ``__parentId`` (the parent's GID),
    after their parent; they are gathered under the parent's ``__children`` list.
    """
    roots: list[dict[str, Any]] = []
    by_id: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(content.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, parse_float=Decimal)
        except ValueError:
            raise ShopifyBulkOperationError(
                f"shopify: line {number} of the bulk operation's result is not JSON; run the pull again"
            ) from None
        parent = obj.get("__parentId") if isinstance(obj, dict) else None
        if isinstance(parent, str):
            holder = by_id.get(parent)
            if holder is not None:
                holder.setdefault("__children", []).append(obj)
            continue
        roots.append(obj)  # a line that is not an object is kept: the mapping quarantines it
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            by_id[obj["id"]] = obj
    return roots


class ShopifyPull(ShopifyClient):
    """``pull``, ``cursor_since`` and ``to_records`` of ``ShopifyConnector``: customers, then orders, by
    ``updated_at`` (``_cursor``); a first full pull of a large store runs a bulk operation."""

    bulk_threshold: int
    walk_limit: int
    page_size: int
    _bound: TimeBound
    _read: datetime | None = None
    """When the shop answered last, by its own clock (``RawPage.read``)."""
    _tag_key: bytes
    _retry: RetryPolicy
    _transport: httpx.BaseTransport | None

    # --- pull ---------------------------------------------------------------------------------------
    def pull(self, cursor: str | None = None) -> Iterator[RawPage]:
        """Customers, then orders, page by page; each page's cursor resumes right after it."""
        state = PullState() if cursor is None else PullState.decode(cursor, self._tag_key)
        if state.done:
            state.next_run()
        # A record stamped far in the future is read as the start of this pull (core.time_bound): it
        # can carry no watermark past the pull, so the changes made after it are asked for next time.
        self._bound = TimeBound.from_now()
        last: str | None = None
        while not state.done:
            stream = STREAMS[state.phase]
            for records in self._walk(stream, state):
                kind = _OBJECT_TYPE[stream]
                page = RawPage(records=records, cursor=state.encode(), object_type=kind, read=self._read)
                last = page.cursor
                yield page
        final = state.encode()
        if last != final:
            # Nothing new, or the last stream ended on records already delivered: hand back the cursor.
            yield RawPage(records=[], cursor=final, object_type=CUSTOMER)

    def _answered(self, headers: Mapping[str, str]) -> None:
        # The first answer of a pull sets the shop's clock of its bound: the hand-off is no later
        # than that less CLOCK_SKEW either (connectors.tool_clock).
        self._bound = on_tool_clock(self._bound, headers, SOURCE)
        self._read = answered_at(headers)  # (the page's RawPage.read: a record stamped ahead)

    def cursor_since(self, since: datetime) -> str:
        """A cursor whose pull returns the customers and orders updated at or after ``since``."""
        moment = since if since.tzinfo else since.replace(tzinfo=UTC)
        state = PullState()
        for stream in state.streams.values():
            stream.since = canonical_time(moment.isoformat())
            stream.begin_walk()
        return state.encode()

    def _walk(self, stream: str, state: PullState) -> Iterator[list[dict[str, Any]]]:
        position = state.streams[stream]
        if position.since is None and position.mode is None and position.after is None:
            self._choose_modes(state)
        if position.mode == "bulk":
            yield from self._walk_bulk(stream, state)
        else:
            yield from self._walk_pages(stream, state)

    def _choose_modes(self, state: PullState) -> None:
        """On a full pull, count customers and orders (one request) and pick bulk or paging for each."""
        data = self.graphql("counts", docs.COUNTS, {"limit": self.bulk_threshold}, cost=docs.COUNTS_COST)
        for stream, field in (("customers", "customersCount"), ("orders", "ordersCount")):
            position = state.streams[stream]
            if position.since is None and position.mode is None:
                count = (data.get(field) or {}).get("count")
                big = isinstance(count, int) and count >= self.bulk_threshold
                position.mode = "bulk" if big else "paging"

    def _walk_pages(self, stream: str, state: PullState) -> Iterator[list[dict[str, Any]]]:
        position = state.streams[stream]
        document, root, largest, node_cost = _PAGE[stream]
        first = min(largest, self.page_size)
        cost = docs.connection_cost(first, node_cost)
        if position.after is None and position.walked == 0:
            position.begin_walk()
        while True:
            if position.walked and position.walked + first > self.walk_limit:
                self._restart_walk(stream, position)
            variables = {"first": first, "after": position.after, "query": _updated_since(position.since)}
            data = self.graphql(stream, document, variables, cost=cost)
            connection = data.get(root) or {}
            nodes = connection.get("nodes") or []
            nodes = nodes if isinstance(nodes, list) else []
            info = connection.get("pageInfo") or {}
            fresh = self._fresh(position, nodes, self._bound)
            position.walked += len(nodes)
            more = info.get("hasNextPage") is True
            if more:
                end = info.get("endCursor")
                if not isinstance(end, str) or not end or end == position.after:
                    raise PaginationError(
                        f"shopify: {stream}: hasNextPage is true but endCursor did not move"
                    )
                position.after = end
            else:
                position.finish_walk(self._bound)
                state.phase += 1
            if fresh:
                yield fresh
            if not more:
                return

    def _fresh(self, position: StreamState, nodes: list[Any], bound: TimeBound) -> list[dict[str, Any]]:
        fresh = []
        for node in nodes:
            if not isinstance(node, dict):
                fresh.append(node)  # junk in the list: the mapping quarantines it
                continue
            tag, updated = (
                version_tag(self._tag_key, str(node.get("id")), node),
                bounded_time(node.get("updatedAt"), bound),
            )
            if position.already_delivered(tag, updated):
                continue
            if updated is None:  # normalise quarantines it: once in each version, not every walk
                if not position.undated_again(tag):
                    fresh.append(node)
                continue
            if position.since is not None and updated is not None and updated < position.since:
                # Shopify documents the customers filter on updated_at as "matching a whole day": what
                # comes back from before the bound was delivered by the walk that set it.
                continue
            # Another version of a record delivered on the watermark: made after every one delivered
            # (or above a capped watermark: connectors.cursor_ahead).
            on = updated is not None and updated == position.since
            again = (on and another_version(tag, position.skip)) or (
                updated is not None and changed_ahead(tag, position.ahead)
            )
            seen = len(position.ahead) + (position.delivered_on_since() if on else 0)
            position.delivered(tag, updated)
            position.ahead = list(
                kept_ahead(position.ahead, [(tag, updated)], canonical_time(bound.handoff.isoformat()))
            )
            fresh.append(mark(node, seen) if again else node)
        return fresh

    def _restart_walk(self, stream: str, position: StreamState) -> None:
        # Cursor paging stops at 25,000 objects: start a new walk from the newest timestamp delivered,
        # skipping what was delivered at it. Impossible only if one second holds a whole walk of records.
        if position.high == position.since:
            raise PaginationError(
                f"shopify: {stream}: more than {self.walk_limit} records share updated_at {position.since}, "
                "which cursor paging cannot get past; run a full pull (cursor=None): it uses a bulk operation"
            )
        position.restart_walk()

    def _walk_bulk(self, stream: str, state: PullState) -> Iterator[list[dict[str, Any]]]:
        position = state.streams[stream]
        if _rereadable(state, stream):
            # A full refresh's customers resumed part-read (a run cut short mid-read): read again
            # from the first line, once, so this run lists every customer and may sweep (the
            # repeats are unchanged versions). Resumed from ``offset``, the run listed a part only.
            assert position.bulk is not None
            position.bulk.offset, position.bulk.reread = 0, True
        if position.bulk is None:
            position.bulk = self._start_bulk(stream)
            # Hand the operation's id to the caller at once: a run cut short while Shopify works polls
            # the same operation when it resumes instead of starting another.
            yield []
        operation = yield from self._await_bulk(position.bulk.id)
        code = operation.get("errorCode")
        if code == "ACCESS_DENIED":
            raise ConnectorAuthError(SOURCE, 403, credential_hint=secret_env_var(CREDENTIAL))
        if operation.get("status") in ("EXPIRED", "FAILED", "CANCELED"):
            # Results are kept seven days; a resume after that exports again (repeats are harmless).
            # A failed or cancelled one is started again too, once a run: its id stays in the saved
            # cursor, so resuming it would fail on every run after (a second failure stops the run).
            position.bulk = self._start_bulk(stream)
            yield []  # (the new operation's id handed on at once, as above)
            operation = yield from self._await_bulk(position.bulk.id)
        if operation.get("status") != "COMPLETED":
            code = operation.get("errorCode")
            if code == "ACCESS_DENIED":
                raise ConnectorAuthError(SOURCE, 403, credential_hint=secret_env_var(CREDENTIAL))
            raise ShopifyBulkOperationError(
                f"shopify: bulk operation {position.bulk.id} for {stream} ended {operation.get('status')}"
                f" ({code or 'no error code'}); run the pull again"
            )
        bulk = position.bulk
        roots = self._download(operation.get("url"))[bulk.offset :]
        # A bulk export is one download: it is handed on in pages of the API's largest ``first``,
        # whatever the page_size option (which sizes the requests of a paged walk only).
        size = docs.MAX_PAGE_SIZE
        if not roots:
            position.finish_bulk(bulk)
            state.phase += 1
            return
        for start in range(0, len(roots), size):
            chunk = roots[start : start + size]
            late = []
            for node in chunk:
                updated = bounded_time(node.get("updatedAt"), self._bound) if isinstance(node, dict) else None
                if updated is not None and updated >= bulk.started:
                    late.append((version_tag(self._tag_key, str(node.get("id")), node), updated))
            bulk.late.update(late)
            # The next walk asks from the operation's start and pulls these again: one changed since
            # on its second is dated after them (connectors.cursor_ahead), as a walk's would be.
            position.ahead = list(kept_ahead(position.ahead, late, bulk.started))
            bulk.offset += len(chunk)
            if start + size >= len(roots):
                position.finish_bulk(bulk)
                state.phase += 1
            yield chunk

    def _start_bulk(self, stream: str) -> BulkPosition:
        data = self.graphql(
            "bulkOperationRunQuery",
            docs.BULK_RUN,
            {"query": _BULK[stream]},
            cost=docs.MUTATION_COST,
            idempotent=False,
        )
        payload = data.get("bulkOperationRunQuery") or {}
        errors = payload.get("userErrors") or []
        operation = payload.get("bulkOperation") or {}
        started = canonical_time(operation.get("createdAt"))
        if errors or not operation.get("id") or started is None:
            raise ShopifyBulkOperationError(
                f"shopify: could not start a bulk export of {stream}: "
                f"{describe_vendor_error(errors) or 'no operation was returned'}"
            )
        return BulkPosition(id=str(operation["id"]), started=started)

    def _await_bulk(self, operation_id: str) -> Generator[list[dict[str, Any]], None, dict[str, Any]]:
        """Poll the operation until it ends; its last answer. After each poll that finds it still
        running, an empty page (the cursor unchanged, naming the operation): a caller short of time
        (a Lambda near its limit) stops there, and the next run polls the same operation, never
        starting another (functions.pull; ``refresh_began`` then lets that run sweep)."""
        delay = 1.0
        while True:
            data = self.graphql(
                "bulkOperation", docs.BULK_STATUS, {"id": operation_id}, cost=docs.BULK_STATUS_COST
            )
            operation = data.get("bulkOperation")
            if not isinstance(operation, dict):
                raise ShopifyBulkOperationError(f"shopify: bulk operation {operation_id} no longer exists")
            if operation.get("status") in _BULK_DONE:
                return operation
            yield []
            self._retry.sleep(delay)
            delay = min(delay * 2, 30.0)

    def refresh_listed(self, cursor: str) -> bool:
        """Whether a run at ``cursor`` has read every customer (the ``refresh_lists`` type): the
        customers' walk is over and the orders' begun. Meaningful after a full refresh's start only;
        the caller asks only while it marks one (functions._refresh_sweep.listed_all)."""
        return PullState.decode(cursor, self._tag_key).phase >= 1

    def refresh_began(self, cursor: str) -> datetime | None:
        """When a full refresh resumed from ``cursor`` lists every customer in the run that resumes
        it (its customers' bulk operation still to be read from its first line, or read in part by
        a run cut short, which reads it again from its first line once: ``BulkPosition.reread``): the
        moment that export began, which a sweep after it dates its tombstones before; None for any
        other cursor. A refresh whose bulk operation outlived the run that started it, or whose
        export a run left half read, is swept by the run that reads it (functions._refresh_sweep.listing)."""
        state = PullState.decode(cursor, self._tag_key)
        position = state.streams[STREAMS[0]]
        bulk = position.bulk
        if state.phase != 0 or position.mode != "bulk" or bulk is None or position.since:
            return None
        if bulk.offset and not _rereadable(state, STREAMS[0]):
            return None  # (read again once already: this run goes on from where the last stopped)
        return datetime.fromisoformat(bulk.started.replace("Z", "+00:00"))

    def _download(self, url: Any) -> list[dict[str, Any]]:
        if not url:
            return []  # Shopify gives no url when the export holds no objects
        target = httpx.URL(str(url))
        origin = f"{target.scheme}://{target.netloc.decode('ascii')}"
        # A signed URL on Shopify's storage: it carries its own authorisation, so the access token is
        # never sent there (the kit would refuse to send it to another host anyway).
        config = HttpClientConfig(connector=SOURCE, base_url=origin, retry=self._retry, read_timeout=300.0)
        with build_client(config, self._transport) as client:
            response = client.request("GET", str(url))
        return parse_bulk_jsonl(response.content)

    def to_records(self, page: RawPage) -> list[RecordDraft]:
        """Map a page of customers or orders (``page.object_type``); never raises."""
        return dated([draft(page.object_type, node) for node in page.records], page.records)


def _updated_since(since: str | None) -> str | None:
    # Date values must be quoted: unquoted, Shopify compares the date and drops the time
    # (https://shopify.dev/docs/api/usage/search-syntax). Inclusive, with the cursor's skip list.
    return f"updated_at:>='{since}'" if since else None


def _rereadable(state: PullState, stream: str) -> bool:
    """Whether a pull resumed at ``state`` reads ``stream``'s export again from its first line: a full
    refresh's customers (the ``refresh_lists`` type), part-read by a run cut short, not read again yet."""
    position = state.streams[stream]
    bulk = position.bulk
    return (
        stream == STREAMS[0]
        and state.phase == 0
        and position.mode == "bulk"
        and position.since is None
        and bulk is not None
        and bulk.offset > 0
        and not bulk.reread
    )
