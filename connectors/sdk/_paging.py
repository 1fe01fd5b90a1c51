"""How a declared stream pages (``Stream.paging``): each way builds the ``connectors._http`` paginator
that walks the vendor's list endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors._http import CursorPaginator, OffsetPaginator, OverlapOffsetPaginator, Paginator, sort_key


@dataclass(frozen=True, slots=True)
class NextUrlPaging:
    """The body names the next page's full URL (Klaviyo ``links.next``, JSON:API)."""

    next_path: str

    def paginator(self, start: str | None, page_size: int, page_size_param: str | None) -> Paginator:
        return CursorPaginator(self.next_path, start=start)


@dataclass(frozen=True, slots=True)
class TokenPaging:
    """A token from the body goes back as a query parameter: HubSpot ``paging.next.after`` ->
    ``after``; Stripe ``data.-1.id`` -> ``starting_after`` with ``has_more_path="has_more"``."""

    token_path: str
    param: str
    has_more_path: str | None = None

    def paginator(self, start: str | None, page_size: int, page_size_param: str | None) -> Paginator:
        return CursorPaginator(self.token_path, self.param, has_more_path=self.has_more_path, start=start)


@dataclass(frozen=True, slots=True)
class OffsetPaging:
    """Offset and page size parameters (Mailchimp ``offset``/``count``), ending at ``total_path``."""

    offset_param: str = "offset"
    total_path: str | None = None

    def paginator(self, start: str | None, page_size: int, page_size_param: str | None) -> Paginator:
        return OffsetPaginator(
            page_size,
            offset_param=self.offset_param,
            limit_param=page_size_param or "limit",
            total_path=self.total_path,
            start=int(start or 0),
        )


@dataclass(frozen=True, slots=True)
class OverlapOffsetPaging:
    """Offset paging over a list sorted by ``sort_key`` (dotted paths, ascending, unique together),
    each page overlapping the last by one record so that records leaving the ordering mid-walk never
    make it skip one (``connectors._http.OverlapOffsetPaginator``). WordPress/WooCommerce:
    ``OverlapOffsetPaging(("id",), total_header="X-WP-Total")`` with ``page_size_param="per_page"``.
    """

    sort_key: tuple[str, ...]
    total_header: str | None = None
    offset_param: str = "offset"

    def paginator(self, start: str | None, page_size: int, page_size_param: str | None) -> Paginator:
        paths = self.sort_key
        return OverlapOffsetPaginator(
            page_size,
            lambda record: sort_key(record, paths),
            offset_param=self.offset_param,
            limit_param=page_size_param or "per_page",
            total_header=self.total_header,
            start=start,
        )


Paging = NextUrlPaging | TokenPaging | OffsetPaging | OverlapOffsetPaging
