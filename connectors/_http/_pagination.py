"""dlt-style paginators: each reads the paging state out of a response and writes it into the next request.

``paginate`` drives one of them and yields a ``Page`` per response, carrying the checkpoint a caller
can store to resume after that page (pass it back as the paginator's ``start``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from core.redaction import redact_path, redact_personal

from ._errors import PaginationError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._client import ConnectorHttpClient


@dataclass(frozen=True)
class PageRequest:
    """The parts of a request a paginator may change: the path (a next-page URL), params, JSON body."""

    method: str
    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None


@dataclass(frozen=True)
class Page:
    """One page of records and where to resume after it (``checkpoint``; None when there is no next page).

    ``headers`` are the response's headers (its ``Date`` says when the vendor answered)."""

    records: list[Any]
    checkpoint: Any
    number: int
    has_next: bool
    headers: Mapping[str, str] = field(default_factory=dict)


class Paginator(Protocol):
    """Turns responses into next requests. ``update_request`` runs before every request, the first
    included (so a paginator started from a checkpoint resumes there); ``update_state`` after each.
    A paginator that re-reads records on purpose (``OverlapOffsetPaginator``) also has
    ``select(records)``: ``paginate`` calls it after ``update_state`` and passes on only the records it
    returns (the ones not passed on before).
    """

    @property
    def has_next(self) -> bool: ...

    @property
    def checkpoint(self) -> Any: ...

    def update_request(self, request: PageRequest) -> PageRequest: ...

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None: ...


def value_at(data: Any, path: str | None) -> Any:
    """Return the value at a dotted path (``paging.next.after``, ``data.-1.id``), or None if absent.

    Integer segments index lists, negative ones from the end. An empty path returns ``data`` itself.
    """
    if not path:
        return data
    current = data
    for segment in path.split("."):
        if isinstance(current, dict):
            current = current.get(segment)
        elif isinstance(current, list):
            try:
                current = current[int(segment)]
            except (ValueError, IndexError):
                return None
        else:
            return None
    return current


def _last_with(data: Any, path: str) -> Any:
    """``value_at(data, path)`` where the path's ``-1`` means the last element that has the rest of
    the path: Stripe's next page starts after the last object's id, and a junk element at the end
    of ``data`` (a string, a null) must not end the walk or hide the id before it."""
    head, _, tail = f".{path}.".partition(".-1.")
    items = value_at(data, head.strip("."))
    if not isinstance(items, list):
        return None
    for item in reversed(items):
        found = value_at(item, tail.strip("."))
        if found not in (None, ""):
            return found
    return None


class CursorPaginator:
    """Follows a cursor found at ``cursor_path`` in each body.

    With ``cursor_param`` the cursor is sent as that query parameter, with ``cursor_json_key`` as
    that key of the JSON body; with neither, the cursor is the next page's full URL. With
    ``has_more_path`` a boolean says whether more pages exist; otherwise a missing or empty cursor
    ends the walk. Examples: HubSpot lists ``CursorPaginator("paging.next.after", "after")``;
    HubSpot search ``CursorPaginator("paging.next.after", cursor_json_key="after")``; Klaviyo
    ``CursorPaginator("links.next")``; Stripe ``CursorPaginator("data.-1.id", "starting_after",
    has_more_path="has_more")``.
    """

    def __init__(
        self,
        cursor_path: str,
        cursor_param: str | None = None,
        *,
        cursor_json_key: str | None = None,
        has_more_path: str | None = None,
        start: str | None = None,
    ) -> None:
        if cursor_param is not None and cursor_json_key is not None:
            raise ValueError("give cursor_param or cursor_json_key, not both")
        self._cursor_path = cursor_path
        self._cursor_param = cursor_param
        self._cursor_json_key = cursor_json_key
        self._has_more_path = has_more_path
        self._cursor = start
        self._seen: set[str] = {start} if start else set()
        self.has_next = True

    @property
    def checkpoint(self) -> str | None:
        return self._cursor

    def update_request(self, request: PageRequest) -> PageRequest:
        if self._cursor is None:
            return request
        if self._cursor_param is not None:
            return replace(request, params={**request.params, self._cursor_param: self._cursor})
        if self._cursor_json_key is not None:
            return replace(request, json={**(request.json or {}), self._cursor_json_key: self._cursor})
        # The cursor is the next page's URL, query string included.
        return replace(request, path=self._cursor, params={})

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        found = value_at(body, self._cursor_path)
        if found in (None, "") and ".-1." in f".{self._cursor_path}.":
            found = _last_with(body, self._cursor_path)
        cursor = str(found) if found not in (None, "") else None
        if self._has_more_path is not None:
            more = value_at(body, self._has_more_path) is True
            if more and cursor is None:
                raise PaginationError(
                    f"{self._has_more_path} is true but there is no cursor at {self._cursor_path}"
                )
        else:
            more = cursor is not None
        if not more:
            self._cursor, self.has_next = None, False
            return
        assert cursor is not None
        if cursor in self._seen:
            raise PaginationError(
                f"the cursor {_short(cursor)} came back a second time; stopping instead of looping"
            )
        self._seen.add(cursor)
        self._cursor = cursor


class OffsetPaginator:
    """Pages with an offset and a page size (Mailchimp ``offset``/``count`` up to 1000, ``total_items``).

    The offset advances by the number of records received, not by ``limit``: an API that silently
    caps the page size would otherwise make us skip records. The walk ends at the total (when
    ``total_path`` is given), on an empty page, or on a short page when there is no total. An API that
    ignores the offset (a misspelt parameter) returns the same page again: that raises PaginationError.
    """

    def __init__(
        self,
        limit: int,
        *,
        offset_param: str = "offset",
        limit_param: str = "count",
        total_path: str | None = None,
        max_limit: int | None = None,
        start: int = 0,
    ) -> None:
        if limit <= 0 or (max_limit is not None and limit > max_limit):
            raise ValueError(f"limit must be between 1 and {max_limit or 'the API maximum'}, got {limit}")
        self._limit = limit
        self._offset_param = offset_param
        self._limit_param = limit_param
        self._total_path = total_path
        self._offset = start
        self._last_page: str | None = None
        self.has_next = True

    @property
    def checkpoint(self) -> int | None:
        return self._offset if self.has_next else None

    def update_request(self, request: PageRequest) -> PageRequest:
        return replace(
            request,
            params={**request.params, self._offset_param: self._offset, self._limit_param: self._limit},
        )

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        fingerprint = hashlib.sha256(json.dumps(records, sort_keys=True, default=str).encode()).hexdigest()
        if records and fingerprint == self._last_page:
            raise PaginationError(
                f"offset {self._offset} returned the same records as the page before it: the API is "
                f"ignoring {self._offset_param!r}; stopping instead of looping"
            )
        self._last_page = fingerprint
        self._offset += len(records)
        total = value_at(body, self._total_path) if self._total_path else None
        if not records:
            self.has_next = False
        elif isinstance(total, int) and not isinstance(total, bool):
            self.has_next = self._offset < total
        else:
            self.has_next = len(records) >= self._limit


SortKey = tuple[tuple[int, Any], ...]


def sort_key(record: Any, paths: tuple[str, ...]) -> SortKey:
    """The values at ``paths`` as a key that compares across types: absent < numbers < text."""
    parts: list[tuple[int, Any]] = []
    for path in paths:
        value = value_at(record, path)
        if value is None:
            parts.append((0, ""))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            parts.append((1, value))
        elif isinstance(value, str):
            parts.append((2, value))
        else:
            parts.append((3, json.dumps(value, sort_keys=True, default=str)))
    return tuple(parts)


class OverlapOffsetPaginator:
    """Offset paging that proves no record slipped between two pages (WordPress/WooCommerce
    ``offset``/``per_page``, sorted by a unique key such as ``id`` or ``date_modified_gmt, id``).

    Plain offset paging skips a record whenever one before the walk's position leaves the ordering
    between two requests (deleted, trashed, or modified in a walk sorted by modification time):
    everything after it moves up one place. So every page after the first starts on the last
    record already passed on, ``limit - 1`` new ones per request. If that anchor is not where it
    should be (the page starts past it), records moved: the paginator steps back until a page
    overlaps again, and passes on only records whose key is above the last one passed on, so
    nothing is skipped and nothing is passed on twice. A record that moves to the end of the
    ordering (modified mid-walk) is passed on again there, as its new version.

    The walk ends when ``offset + len(page)`` reaches ``total_header`` (``X-WP-Total``), or on a
    short page when the API sends no total. ``key`` gives each record's sort key; it must agree
    with the API's order and be unique. The checkpoint is a JSON text ``[offset, last key]``.
    """

    #: A walk that steps back this many times without getting anywhere is churning; stop it.
    MAX_STEPS_BACK = 1000

    def __init__(
        self,
        limit: int,
        key: Callable[[Any], SortKey],
        *,
        offset_param: str = "offset",
        limit_param: str = "per_page",
        total_header: str | None = None,
        start: str | None = None,
    ) -> None:
        if limit < 2:
            raise ValueError(f"an overlapping page needs room for a new record: limit >= 2, got {limit}")
        self._limit = limit
        self._key = key
        self._offset_param = offset_param
        self._limit_param = limit_param
        self._total_header = total_header
        self._offset = 0
        self._last: SortKey | None = None
        self._fresh: list[Any] = []
        self._steps_back = 0
        self.has_next = True
        if start:
            try:
                offset, last = json.loads(start)
                self._offset = int(offset)
                self._last = None if last is None else tuple((int(r), v) for r, v in last)
            except (ValueError, TypeError) as exc:
                raise PaginationError(f"the checkpoint {_short(start)} is not [offset, key]: {exc}") from None

    @property
    def checkpoint(self) -> str | None:
        if not self.has_next:
            return None
        return json.dumps([self._offset, self._last], separators=(",", ":"))

    def update_request(self, request: PageRequest) -> PageRequest:
        return replace(
            request,
            params={**request.params, self._offset_param: self._offset, self._limit_param: self._limit},
        )

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        offset, last = self._offset, self._last
        keys = [self._key(r) for r in records]
        total = _int_header(response, self._total_header)
        if last is not None and offset > 0 and (not keys or keys[0] > last):
            # The page starts past the anchor (or past the end): records before ``offset`` left the
            # ordering since the last page. Step back far enough for the next page to overlap again.
            self._steps_back += 1
            if self._steps_back > self.MAX_STEPS_BACK:
                raise PaginationError(
                    f"the ordering kept moving under the walk ({self.MAX_STEPS_BACK} steps back); "
                    "stopping instead of looping"
                )
            self._fresh = []
            self._offset = max(0, offset - (self._limit - 1))
            return
        self._fresh = [r for r, k in zip(records, keys, strict=True) if last is None or k > last]
        if self._fresh:
            self._last = max(self._key(r) for r in self._fresh)
        if total is not None:
            self.has_next = bool(records) and offset + len(records) < total
        else:
            self.has_next = len(records) >= self._limit
        self._offset = offset + len(records) - 1

    def select(self, records: list[Any]) -> list[Any]:
        """The records of the page just read that were not passed on before."""
        return self._fresh


def _int_header(response: httpx.Response, name: str | None) -> int | None:
    if name is None:
        return None
    text = response.headers.get(name, "").strip()
    return int(text) if text.isdigit() else None


class GraphQLPageInfoPaginator:
    """Relay-style GraphQL paging: ``pageInfo { hasNextPage endCursor }`` at ``page_info_path``; the
    cursor goes into the query variable ``cursor_variable`` (Shopify: ``data.customers.pageInfo``, ``after``).
    """

    def __init__(
        self, page_info_path: str, *, cursor_variable: str = "after", start: str | None = None
    ) -> None:
        self._page_info_path = page_info_path
        self._cursor_variable = cursor_variable
        self._cursor = start
        self._seen: set[str] = {start} if start else set()
        self.has_next = True

    @property
    def checkpoint(self) -> str | None:
        return self._cursor

    def update_request(self, request: PageRequest) -> PageRequest:
        if self._cursor is None:
            return request
        body = dict(request.json or {})
        body["variables"] = {**(body.get("variables") or {}), self._cursor_variable: self._cursor}
        return replace(request, json=body)

    def update_state(self, response: httpx.Response, body: Any, records: list[Any]) -> None:
        info = value_at(body, self._page_info_path)
        if not isinstance(info, dict):
            raise PaginationError(f"the response has no pageInfo at {self._page_info_path}")
        cursor = info.get("endCursor")
        if info.get("hasNextPage") is not True:
            self._cursor, self.has_next = None, False
            return
        if not isinstance(cursor, str) or not cursor:
            raise PaginationError(f"hasNextPage is true but {self._page_info_path}.endCursor is empty")
        if cursor in self._seen:
            raise PaginationError(
                f"the cursor {_short(cursor)} came back a second time; stopping instead of looping"
            )
        self._seen.add(cursor)
        self._cursor = cursor


def paginate(
    client: ConnectorHttpClient,
    method: str,
    path: str,
    paginator: Paginator,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    records_path: str | None = None,
    cost: float = 1.0,
    parse_float: Callable[[str], Any] | None = None,
) -> Iterator[Page]:
    """Request page after page until ``paginator`` says there is no next one, yielding each as a Page.

    ``records_path`` is the dotted path of the record list in each body (empty: the body is the list).
    Every request is sent as idempotent, so timeouts and 5xx are retried: paging only reads, even
    through a POST (HubSpot search, GraphQL). Checkpoint after each page to resume a long walk.
    """
    base = PageRequest(method.upper(), path, dict(params or {}), json)
    number = 0
    while True:
        request = paginator.update_request(base)
        response, body = client.exchange_json(
            request.method,
            request.path,
            params=request.params,
            json=request.json,
            cost=cost,
            idempotent=True,
            parse_float=parse_float,
        )
        found = value_at(body, records_path)
        if found is not None and not isinstance(found, list):
            raise PaginationError(
                f"{client.config.connector}: {base.method} {redact_path(path)}: {records_path or 'the body'} "
                "is not a list"
            )
        records: list[Any] = found or []
        select = getattr(paginator, "select", None)
        try:
            paginator.update_state(response, body, records)
            fresh = select(records) if select is not None else records
        except PaginationError as exc:
            raise PaginationError(
                f"{client.config.connector}: {base.method} {redact_path(path)} page {number + 1}: {exc}"
            ) from None
        number += 1
        yield Page(
            records=fresh,
            checkpoint=paginator.checkpoint,
            number=number,
            has_next=paginator.has_next,
            headers=response.headers,
        )
        if not paginator.has_next:
            return


def _short(cursor: str, limit: int = 80) -> str:
    # A cursor can be the id of the last record of a page (Stripe's ``starting_after``): redacted,
    # since the message reaches logs.
    return repr(redact_personal(cursor if len(cursor) <= limit else cursor[: limit - 1] + "…"))
