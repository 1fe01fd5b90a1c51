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
    """One page of records and where to resume after it (``checkpoint``; None when there is no next page)."""

    records: list[Any]
    checkpoint: Any
    number: int
    has_next: bool


class Paginator(Protocol):
    """Turns responses into next requests. ``update_request`` runs before every request, the first
    included (so a paginator started from a checkpoint resumes there); ``update_state`` after each.
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
        try:
            paginator.update_state(response, body, records)
        except PaginationError as exc:
            raise PaginationError(
                f"{client.config.connector}: {base.method} {redact_path(path)} page {number + 1}: {exc}"
            ) from None
        number += 1
        yield Page(
            records=records, checkpoint=paginator.checkpoint, number=number, has_next=paginator.has_next
        )
        if not paginator.has_next:
            return


def _short(cursor: str, limit: int = 80) -> str:
    # A cursor can be the id of the last record of a page (Stripe's ``starting_after``): redacted,
    # since the message reaches logs.
    return repr(redact_personal(cursor if len(cursor) <= limit else cursor[: limit - 1] + "…"))
