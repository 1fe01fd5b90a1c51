"""Paginators that count their way through a list: ``OffsetPaginator`` (an offset advanced by the
records received) and ``OverlapOffsetPaginator`` (each page overlapping the last, so that a record
leaving the ordering mid-walk makes nobody skipped), with ``sort_key`` for the latter's order.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx

from ._errors import PaginationError
from ._page import PageRequest, _short, value_at

if TYPE_CHECKING:
    from collections.abc import Callable


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
