"""What every paginator shares: the request it may change (``PageRequest``), the page ``paginate``
yields (``Page``), the ``Paginator`` protocol, ``value_at`` (a dotted path into a body) and how a
cursor is quoted in an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from core.redaction import redact_personal


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


def _short(cursor: str, limit: int = 80) -> str:
    # A cursor can be the id of the last record of a page (Stripe's ``starting_after``): redacted,
    # since the message reaches logs.
    return repr(redact_personal(cursor if len(cursor) <= limit else cursor[: limit - 1] + "…"))
