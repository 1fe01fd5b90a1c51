"""Paginators that follow a cursor the vendor hands back: ``CursorPaginator`` (a cursor at a path of
the body, sent as a query parameter, a JSON body key, or as the next page's URL) and
``GraphQLPageInfoPaginator`` (Relay's ``pageInfo``). A cursor that comes back a second time stops the
walk instead of looping.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from ._errors import PaginationError
from ._page import PageRequest, _short, value_at


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


class _Cursors:
    """The state both cursor paginators keep: the next page's cursor (the checkpoint) and every cursor
    followed so far, so that a cursor coming back stops the walk instead of looping."""

    _cursor: str | None
    _seen: set[str]

    @property
    def checkpoint(self) -> str | None:
        return self._cursor

    def _advance(self, cursor: str) -> None:
        if cursor in self._seen:
            raise PaginationError(
                f"the cursor {_short(cursor)} came back a second time; stopping instead of looping"
            )
        self._seen.add(cursor)
        self._cursor = cursor


class CursorPaginator(_Cursors):
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
        self._advance(cursor)


class GraphQLPageInfoPaginator(_Cursors):
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
        self._advance(cursor)
