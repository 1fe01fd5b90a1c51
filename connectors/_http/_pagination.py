"""dlt-style paginators: each reads the paging state out of a response and writes it into the next request.

``paginate`` drives one of them and yields a ``Page`` per response, carrying the checkpoint a caller
can store to resume after that page (pass it back as the paginator's ``start``).

The paginators live by kind: cursors in ``_cursor_paging``, offsets in ``_offset_paging``; what they
share in ``_page``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from core.redaction import redact_path

from ._cursor_paging import CursorPaginator, GraphQLPageInfoPaginator
from ._errors import PaginationError
from ._offset_paging import OffsetPaginator, OverlapOffsetPaginator, SortKey, sort_key
from ._page import Page, PageRequest, Paginator, value_at

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._client import ConnectorHttpClient


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


__all__ = [
    "CursorPaginator",
    "GraphQLPageInfoPaginator",
    "OffsetPaginator",
    "OverlapOffsetPaginator",
    "Page",
    "PageRequest",
    "Paginator",
    "SortKey",
    "paginate",
    "sort_key",
    "value_at",
]
