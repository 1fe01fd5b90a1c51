"""The Shopify sandbox's search and cursor paging: the search syntax as a filter, sort keys with the id
as tie-break, opaque cursors, and the ``page_cap`` where cursor paging stops.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._sandbox import ShopifySandbox

from ._graphql import Field
from ._sandbox_wire import GraphQLFailureError, _error, _jsonable
from ._search import build_filter, parse_query


@dataclass
class _Page:
    items: list[dict[str, Any]]
    cursors: list[str]
    has_next: bool
    has_previous: bool


def search_filter(
    sb: ShopifySandbox, query: Any, kind: str
) -> tuple[Callable[[dict[str, Any]], bool], list[str]]:
    common: dict[str, Callable[[dict[str, Any]], Any]] = {
        "updated_at": lambda o: o.get("updatedAt"),
        "created_at": lambda o: o.get("createdAt"),
        "id": lambda o: o["_num"],
    }
    if kind == "customers":
        fields = {
            **common,
            "email": lambda o: (o.get("defaultEmailAddress") or {}).get("emailAddress"),
            "phone": lambda o: (o.get("defaultPhoneNumber") or {}).get("phoneNumber"),
            "first_name": lambda o: o.get("firstName"),
            "last_name": lambda o: o.get("lastName"),
            "": lambda o: " ".join(
                str(v)
                for v in (
                    o.get("firstName"),
                    o.get("lastName"),
                    (o.get("defaultEmailAddress") or {}).get("emailAddress"),
                )
                if v
            ),
        }
    else:
        fields = {
            **common,
            "processed_at": lambda o: o.get("processedAt"),
            "email": lambda o: o.get("email"),
            "phone": lambda o: o.get("phone"),
            "customer_id": lambda o: o.get("_customer"),
            "financial_status": lambda o: str(o.get("displayFinancialStatus") or "").lower(),
            "": lambda o: " ".join(str(v) for v in (o.get("name"), o.get("email")) if v),
        }
    return build_filter(parse_query(query if isinstance(query, str) else None), fields)


def page_objects(
    sb: ShopifySandbox,
    objects: list[dict[str, Any]],
    args: dict[str, Any],
    node: Field,
    kind: str,
    *,
    capped: bool = True,
) -> _Page:
    keep, _ignored = search_filter(sb, args.get("query"), kind)
    sort_key = str(args.get("sortKey") or ("ID" if kind == "customers" else "PROCESSED_AT"))
    column = {"UPDATED_AT": "updatedAt", "CREATED_AT": "createdAt", "PROCESSED_AT": "processedAt"}.get(
        sort_key
    )
    items = [o for o in objects if keep(o)]

    def key(obj: dict[str, Any]) -> tuple[Any, int]:
        return (obj.get(column) or "") if column else 0, obj["_num"]

    return page(sb, items, args, node, key=key, capped=capped)


def page(
    sb: ShopifySandbox,
    items: list[dict[str, Any]],
    args: dict[str, Any],
    node: Field,
    *,
    key: Callable[[dict[str, Any]], Any],
    capped: bool = True,
) -> _Page:
    # Cursors carry the last item's sort value and id, as Shopify's do, so a page boundary stays put
    # while records change; cursor paging stops at ``page_cap`` objects (bulk exports do not).
    cap = sb.page_cap if capped else len(items) + 1
    ordered = sorted(items, key=key, reverse=bool(args.get("reverse")))
    position = 0
    after = args.get("after")
    if after is not None:
        try:
            decoded = json.loads(base64.urlsafe_b64decode(str(after).encode()))
            last = tuple(decoded["last"]) if isinstance(decoded["last"], list) else decoded["last"]
        except (ValueError, KeyError, TypeError):
            raise GraphQLFailureError(
                [_error("Invalid cursor for current pagination", "BAD_REQUEST", node)]
            ) from None
        keys = [_jsonable(key(item)) for item in ordered]
        marker = _jsonable(last)
        position = next(
            (i for i, k in enumerate(keys) if (k < marker if args.get("reverse") else k > marker)),
            len(ordered),
        )
    if position >= cap and ordered[position:]:
        raise GraphQLFailureError(
            [
                _error(
                    f"Pagination is limited to {cap} objects: narrow the query with a filter, "
                    "or use a bulk operation to read them all",
                    "BAD_REQUEST",
                    node,
                )
            ]
        )
    first = args.get("first")
    size = first if isinstance(first, int) else len(ordered)
    end = min(position + size, len(ordered), max(cap, position))
    chosen = ordered[position:end]
    cursors = [
        base64.urlsafe_b64encode(json.dumps({"last": _jsonable(key(item))}).encode()).decode()
        for item in chosen
    ]
    return _Page(chosen, cursors, has_next=end < len(ordered), has_previous=position > 0)
