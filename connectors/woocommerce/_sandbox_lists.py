"""The WooCommerce sandbox's list reads, ``GET /customers`` and ``GET /orders``: paging by ``page`` or
``offset``, ``orderby``/``order``, the filters each controller takes, and the ``X-WP-Total``,
``X-WP-TotalPages`` and ``Link`` headers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

import httpx

from connectors._sandbox import json_response

from ._sandbox_params import Params

if TYPE_CHECKING:
    from ._sandbox import WooCommerceSandbox

_ORDER_STATUSES: Final = (
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "checkout-draft",
)
_ROLES: Final = (
    "all",
    "administrator",
    "editor",
    "author",
    "contributor",
    "subscriber",
    "customer",
    "shop_manager",
)


# --- lists ---------------------------------------------------------------------------------------
def list_objects(
    sb: WooCommerceSandbox, kind: str, params: Params, base: str, request: httpx.Request
) -> httpx.Response:
    per_page = params.integer("per_page", 10, 1, 100) or 10
    page = params.integer("page", 1, 1) or 1
    offset = params.integer("offset", None, 0)
    chosen = _customers(sb, params) if kind == "customers" else _orders(sb, params)
    params.check()
    start = offset if offset else (page - 1) * per_page
    items = chosen[start : start + per_page]
    render = sb.shop.customer_json if kind == "customers" else sb.shop.order_json
    # WooCommerce's Link headers count pages from ``offset`` for customers, from ``page`` for orders.
    current = math.ceil(start / per_page + 1) if kind == "customers" else page
    pages = math.ceil(len(chosen) / per_page)
    headers = {"X-WP-Total": str(len(chosen)), "X-WP-TotalPages": str(pages)}
    links = []
    here = f"{base}/{kind}"
    query = dict(request.url.params)
    if current > 1:
        links.append(f'<{here}?{urlencode({**query, "page": min(current - 1, max(pages, 1))})}>; rel="prev"')
    if pages > current:
        links.append(f'<{here}?{urlencode({**query, "page": current + 1})}>; rel="next"')
    if links:
        headers["Link"] = ", ".join(links)
    return json_response(200, [render(item, base) for item in items], headers)


def _customers(sb: WooCommerceSandbox, params: Params) -> list[dict[str, Any]]:
    orderby = params.choice("orderby", "name", ("id", "include", "name", "registered_date"))
    descending = params.choice("order", "asc", ("asc", "desc")) == "desc"
    role = params.choice("role", "customer", _ROLES)
    email = params.query.get("email")
    if email is not None and "@" not in email:
        params.problems["email"] = ("rest_invalid_email", "Invalid email address.")
    include, exclude = params.ids("include"), set(params.ids("exclude"))
    search = params.query.get("search", "").strip().lower()
    chosen = [
        c
        for c in sb.shop.customers.values()
        if (role == "all" or c["role"] == role)
        and (email is None or c["email"].lower() == email.strip().lower())
        and (not include or c["id"] in include)
        and c["id"] not in exclude
        and (
            not search or search in f"{c['email']} {c['username']} {c['first_name']} {c['last_name']}".lower()
        )
    ]
    keys: dict[str, Callable[[dict[str, Any]], Any]] = {
        "id": lambda c: c["id"],
        "include": lambda c: include.index(c["id"]) if c["id"] in include else c["id"],
        "name": lambda c: (c["username"], c["id"]),
        "registered_date": lambda c: (c["date_created"], c["id"]),
    }
    return sorted(chosen, key=keys[orderby], reverse=descending)


def _orders(sb: WooCommerceSandbox, params: Params) -> list[dict[str, Any]]:
    orderby = params.choice("orderby", "date", ("date", "id", "include", "title", "slug", "modified"))
    descending = params.choice("order", "desc", ("asc", "desc")) == "desc"
    statuses = [s for s in re.split(r"[\s,]+", params.query.get("status", "any")) if s] or ["any"]
    for status in statuses:
        if status not in ("any", "trash", *_ORDER_STATUSES):
            params.problems["status"] = (
                "rest_not_in_enum",
                f"status is not one of any, trash, {', '.join(_ORDER_STATUSES)}.",
            )
    gmt = params.boolean("dates_are_gmt")
    bounds = {name: params.date(name) for name in ("after", "before", "modified_after", "modified_before")}
    customer = params.integer("customer", None, 0)
    include, exclude = params.ids("include"), set(params.ids("exclude"))
    search = params.query.get("search", "").strip().lower()
    offset = timedelta(0) if gmt else sb.shop.utc_offset

    def inside(order: dict[str, Any]) -> bool:
        for name, bound in bounds.items():
            if bound is None:
                continue
            column = order["date_modified" if name.startswith("modified") else "date_created"]
            value = (column + offset).replace(tzinfo=None)
            if (name.endswith("after") and not value > bound) or (
                name.endswith("before") and not value < bound
            ):
                return False
        return True

    def found(order: dict[str, Any]) -> bool:
        b = order["billing"]
        return (
            search
            in f"{b['email']} {b['first_name']} {b['last_name']} {b['phone']} {order['number']}".lower()
        )

    chosen = [
        o
        for o in sb.shop.orders.values()
        if (o["status"] != "trash" if "any" in statuses else o["status"] in statuses)
        and (customer is None or o["customer_id"] == customer)
        and (not include or o["id"] in include)
        and o["id"] not in exclude
        and (not search or found(o))
        and inside(o)
    ]
    keys: dict[str, Callable[[dict[str, Any]], Any]] = {
        "date": lambda o: (o["date_created"], o["id"]),
        "modified": lambda o: (o["date_modified"], o["id"]),
        "id": lambda o: o["id"],
        "include": lambda o: include.index(o["id"]) if o["id"] in include else o["id"],
        "title": lambda o: o["id"],
        "slug": lambda o: o["id"],
    }
    return sorted(chosen, key=keys[orderby], reverse=descending)
