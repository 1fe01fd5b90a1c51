"""A fake of a WooCommerce store's REST API v3 (``/wp-json/wc/v3``), seeded from the population.

Reproduced, after the v3 controllers and the REST API docs: authentication (``_sandbox_auth``: Basic,
query-string keys, OAuth 1.0a as the ``woocommerce`` Python client signs it over HTTP; a route refuses
an anonymous request with its own 401); ``GET /customers`` (``page``/``offset``/``per_page`` 1-100,
``orderby`` id/include/name/registered_date, ``order`` default asc, ``role`` default customer,
``email``, ``search``, ``include``/``exclude``; no date filter, unknown parameters ignored);
``GET /orders`` (``orderby`` date/id/include/title/slug/modified with ties broken by id,
``order`` default desc, ``status`` default any = not trashed, ``customer``, ``search``,
``after``/``before``/``modified_after``/``modified_before`` strict, on the GMT columns only with
``dates_are_gmt``); ``X-WP-Total``, ``X-WP-TotalPages`` and ``Link`` headers; single objects
(``GET``/``PUT``/``POST``/``PATCH``, ``DELETE`` with ``force``: customers cannot be trashed, orders go
to the trash without it); ``POST /customers/batch`` and ``/orders/batch`` (100 items at most, 413
beyond; per-item errors); order notes (list, add, delete with ``force``); ``meta_data`` upserted by
key, deleted by a null value; WordPress REST error bodies (``rest_invalid_param`` with ``params`` and
``details``, ``rest_no_route``, ``woocommerce_rest_*``); a ``Date`` header on every answer; and a
store-wide budget of 25 requests per 10 seconds (WooCommerce's Store API default), answered, as a
host answers, with 429 and ``Retry-After``.

Simplifications: one API key (read/write unless ``permissions`` says otherwise); one shop timezone
(fixed offset, no daylight saving); ``_fields``, ``context=edit`` and ``dp`` are ignored; order search
matches billing email, names, phone and number; creating orders over the API is not served.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, Final
from urllib.parse import urlencode

import httpx

from connectors._sandbox import Faults, SlidingWindow, VendorSandbox, holdings_text, json_response
from core.connector import ConnectorSettings
from core.errors import ConnectorConfigError, NormalisationError
from core.normalise import normalise_email

from ._declaration import CREDENTIAL, DEFAULT_REQUESTS_PER_10S, RATE_OPTION
from ._push import META_PREFIX
from ._sandbox_auth import REALM, AuthError, KeyStore, denied, php_query
from ._sandbox_params import InvalidParamsError, Params, wp_error
from ._sandbox_shop import ADDRESS_KEYS, SandboxShop, address

API: Final = "/wp-json/wc/v3"
STORE_URL: Final = "https://woo.sandbox.test"
BATCH_LIMIT: Final = 100
_ID = re.compile(r"^(customers|orders)/(\d+)$")
_NOTES = re.compile(r"^orders/(\d+)/notes(?:/(\d+))?$")
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


class WooCommerceSandbox(VendorSandbox):
    """One WooCommerce store in memory (see the module docstring)."""

    name = "woocommerce"

    def __init__(
        self,
        *,
        people: int = 200,
        seed: int = 7,
        token: str | None = None,
        faults: Faults | None = None,
        requests_per_10s: int = DEFAULT_REQUESTS_PER_10S,
        permissions: str = "read_write",
        utc_offset_hours: int = -3,
    ) -> None:
        key, secret = _key_pair(token, seed)
        super().__init__(token=f"{key}:{secret}", seed=seed, faults=faults or Faults(seed=seed))
        self.keys = KeyStore(key, secret, permissions)
        self.requests_per_10s = requests_per_10s
        self.window = SlidingWindow(requests_per_10s, 10.0)
        self.shop = SandboxShop(utc_offset=timedelta(hours=utc_offset_hours))
        self.shop.seed(people, seed)
        self._turns = 0
        self._new = 0

    # --- VendorSandbox hooks -----------------------------------------------------------------------
    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        route = request.url.path.removeprefix(API).strip("/")
        outcome = self.keys.check(request, self.clock.now())
        if isinstance(outcome, AuthError):
            challenge = {"WWW-Authenticate": f'Basic realm="{REALM}"'} if outcome.challenge else None
            return self._dated(wp_error(401, outcome.code, outcome.message, headers=challenge))
        if outcome is False:
            if not request.url.path.startswith(f"{API}/"):
                return None  # rest_no_route comes first: there is no route to ask permission of
            code, message = denied(request.method, route)
            return self._dated(wp_error(401, code, message))
        refused = self.keys.may(request.method)
        return self._dated(wp_error(401, refused.code, refused.message)) if refused else None

    def limit(self, request: httpx.Request) -> httpx.Response | None:
        wait = self.window.admit()
        return self.throttled(str(max(1, math.ceil(wait)))) if wait else None

    def throttled(self, retry_after: str | None) -> httpx.Response:
        seconds = retry_after if retry_after is not None else "10"
        message = f"Too many requests. Please wait {seconds} seconds before trying again."
        headers = {"Retry-After": retry_after} if retry_after is not None else None
        return self._dated(wp_error(429, "rate_limit_exceeded", message, headers=headers))

    def account_budget(self) -> tuple[float, float] | None:
        return (self.requests_per_10s / 10.0, float(self.requests_per_10s))

    def _dated(self, response: httpx.Response) -> httpx.Response:
        response.headers["Date"] = format_datetime(self.clock.now().astimezone(UTC), usegmt=True)
        return response

    def route(self, request: httpx.Request) -> httpx.Response:
        try:
            return self._dated(self._route(request))
        except InvalidParamsError as invalid:
            return self._dated(invalid.response())

    def _route(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        base = f"{request.url.scheme}://{request.url.netloc.decode()}{API}"
        if not path.startswith(f"{API}/"):
            return wp_error(404, "rest_no_route", "No route was found matching the URL and request method")
        route = path.removeprefix(API).strip("/")
        query = php_query(request)
        body = _json(request) if method in ("POST", "PUT", "PATCH") else {}
        if body is None:
            return wp_error(400, "rest_invalid_json", "Invalid JSON body passed.")
        with self.lock:
            if route in ("customers", "orders") and method == "GET":
                return self._list(route, Params(query), base, request)
            if route in ("customers/batch", "orders/batch") and method in ("POST", "PUT", "PATCH"):
                return self._batch(route.split("/")[0], body, base)
            if route == "customers" and method == "POST":
                return self._create_customer(body, base)
            if (match := _ID.match(route)) is not None:
                return self._item(match[1], int(match[2]), method, body, query, base)
            if (match := _NOTES.match(route)) is not None:
                return self._notes(
                    int(match[1]), int(match[2]) if match[2] else None, method, body, query, base
                )
        return wp_error(404, "rest_no_route", "No route was found matching the URL and request method")

    # --- lists ---------------------------------------------------------------------------------------
    def _list(self, kind: str, params: Params, base: str, request: httpx.Request) -> httpx.Response:
        per_page = params.integer("per_page", 10, 1, 100) or 10
        page = params.integer("page", 1, 1) or 1
        offset = params.integer("offset", None, 0)
        chosen = self._customers(params) if kind == "customers" else self._orders(params)
        params.check()
        start = offset if offset else (page - 1) * per_page
        items = chosen[start : start + per_page]
        render = self.shop.customer_json if kind == "customers" else self.shop.order_json
        # WooCommerce's Link headers count pages from ``offset`` for customers, from ``page`` for orders.
        current = math.ceil(start / per_page + 1) if kind == "customers" else page
        pages = math.ceil(len(chosen) / per_page)
        headers = {"X-WP-Total": str(len(chosen)), "X-WP-TotalPages": str(pages)}
        links = []
        here = f"{base}/{kind}"
        query = dict(request.url.params)
        if current > 1:
            links.append(
                f'<{here}?{urlencode({**query, "page": min(current - 1, max(pages, 1))})}>; rel="prev"'
            )
        if pages > current:
            links.append(f'<{here}?{urlencode({**query, "page": current + 1})}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        return json_response(200, [render(item, base) for item in items], headers)

    def _customers(self, params: Params) -> list[dict[str, Any]]:
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
            for c in self.shop.customers.values()
            if (role == "all" or c["role"] == role)
            and (email is None or c["email"].lower() == email.strip().lower())
            and (not include or c["id"] in include)
            and c["id"] not in exclude
            and (
                not search
                or search in f"{c['email']} {c['username']} {c['first_name']} {c['last_name']}".lower()
            )
        ]
        keys: dict[str, Callable[[dict[str, Any]], Any]] = {
            "id": lambda c: c["id"],
            "include": lambda c: include.index(c["id"]) if c["id"] in include else c["id"],
            "name": lambda c: (c["username"], c["id"]),
            "registered_date": lambda c: (c["date_created"], c["id"]),
        }
        return sorted(chosen, key=keys[orderby], reverse=descending)

    def _orders(self, params: Params) -> list[dict[str, Any]]:
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
        bounds = {
            name: params.date(name) for name in ("after", "before", "modified_after", "modified_before")
        }
        customer = params.integer("customer", None, 0)
        include, exclude = params.ids("include"), set(params.ids("exclude"))
        search = params.query.get("search", "").strip().lower()
        offset = timedelta(0) if gmt else self.shop.utc_offset

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
            for o in self.shop.orders.values()
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

    # --- single objects ----------------------------------------------------------------------------
    def _item(
        self, kind: str, item_id: int, method: str, body: dict[str, Any], query: dict[str, str], base: str
    ) -> httpx.Response:
        objects = self.shop.customers if kind == "customers" else self.shop.orders
        item = objects.get(item_id)
        if item is None:
            code = (
                "woocommerce_rest_invalid_id"
                if kind == "customers"
                else "woocommerce_rest_shop_order_invalid_id"
            )
            message = "Invalid resource ID." if kind == "customers" else "Invalid ID."
            return wp_error(404, code, message)
        render = self.shop.customer_json if kind == "customers" else self.shop.order_json
        if method == "GET":
            return json_response(200, render(item, base))
        if method in ("PUT", "POST", "PATCH"):
            failed = self._update(kind, item, body)
            return failed if failed is not None else json_response(200, render(item, base))
        if method == "DELETE":
            force = query.get("force", "false").lower() in ("true", "1")
            before = render(item, base)
            if kind == "customers" and item["role"] not in ("customer", "subscriber"):
                # delete_item_permissions_check: only the allowed roles, before anything else
                refused = f"Sorry, users with {item['role']} role cannot be deleted via this endpoint. "
                return wp_error(
                    401, "woocommerce_rest_cannot_delete", refused + "Allowed roles: customer, subscriber"
                )
            if kind == "customers":
                if not force:
                    return wp_error(
                        501, "woocommerce_rest_trash_not_supported", "Customers do not support trashing."
                    )
                del self.shop.customers[item_id]
            elif force:
                del self.shop.orders[item_id]
            else:
                if item["status"] == "trash":
                    return wp_error(
                        410, "woocommerce_rest_already_trashed", "The shop_order has already been deleted."
                    )
                item["status"] = "trash"
                item["date_modified"] = self.clock.now()
                return json_response(200, render(item, base))
            return json_response(200, before)
        return wp_error(404, "rest_no_route", "No route was found matching the URL and request method")

    def _update(self, kind: str, item: dict[str, Any], body: dict[str, Any]) -> httpx.Response | None:
        """Apply one update body; an error response if WooCommerce would refuse it."""
        if kind == "customers":
            email = body.get("email")
            if isinstance(email, str) and email and email != item["email"]:
                if any(c["email"].lower() == email.lower() for c in self.shop.customers.values()):
                    return wp_error(
                        400, "woocommerce_rest_customer_invalid_email", "Email address is invalid."
                    )
                item["email"] = email
            if "username" in body and body["username"] and body["username"] != item["username"]:
                return wp_error(400, "woocommerce_rest_customer_invalid_argument", "Username isn't editable.")
            for name in ("first_name", "last_name"):
                if isinstance(body.get(name), str):
                    item[name] = body[name].strip()
        else:
            status = body.get("status")
            if status is not None and status not in _ORDER_STATUSES:
                return wp_error(
                    400,
                    "rest_invalid_param",
                    "Invalid parameter(s): status",
                    {"params": {"status": f"status is not one of {', '.join(_ORDER_STATUSES)}."}},
                )
            if isinstance(status, str):
                item["status"] = status
            if "customer_id" in body:
                owner = body["customer_id"]
                if not isinstance(owner, int) or (owner and owner not in self.shop.customers):
                    return wp_error(400, "woocommerce_rest_invalid_customer_id", "Customer ID is invalid.")
                item["customer_id"] = owner
            if "transaction_id" in body:
                if not isinstance(body["transaction_id"], str):
                    return wp_error(
                        400,
                        "rest_invalid_param",
                        "Invalid parameter(s): transaction_id",
                        {"params": {"transaction_id": "transaction_id is not of type string."}},
                    )
                item["transaction_id"] = body["transaction_id"]
        for section in ("billing", "shipping"):
            values = body.get(section)
            if isinstance(values, dict):
                allowed = set(item[section])
                item[section].update({k: str(v) for k, v in values.items() if k in allowed and v is not None})
        meta = body.get("meta_data")
        if isinstance(meta, list):
            self._meta(item, meta)
        item["date_modified"] = self.clock.now()
        return None

    def _meta(self, item: dict[str, Any], entries: list[Any]) -> None:
        """``update_meta_data(key, value, id)`` for each entry; a null value deletes the entry."""
        for entry in entries:
            if not isinstance(entry, dict) or "key" not in entry:
                continue
            found = [
                m
                for m in item["meta_data"]
                if (m["id"] == entry.get("id")) or (not entry.get("id") and m["key"] == entry["key"])
            ]
            if entry.get("value") is None:
                item["meta_data"] = [m for m in item["meta_data"] if m not in found]
            elif found:
                found[0]["value"] = entry["value"]
            else:
                item["meta_data"].append(
                    {"id": self.shop.meta_id(), "key": str(entry["key"]), "value": entry["value"]}
                )

    def _create_customer(self, body: dict[str, Any], base: str) -> httpx.Response:
        email = body.get("email")
        if not isinstance(email, str) or not email:
            return wp_error(
                400, "rest_missing_callback_param", "Missing parameter(s): email", {"params": ["email"]}
            )
        if "@" not in email:
            return wp_error(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): email",
                {"params": {"email": "Invalid email address."}},
            )
        if any(c["email"].lower() == email.lower() for c in self.shop.customers.values()):
            return wp_error(
                400,
                "registration-error-email-exists",
                "An account is already registered with your email address. Please log in.",
            )
        now = self.clock.now()
        billing = {
            k: str(v)
            for k, v in (body.get("billing") or {}).items()
            if k in (*ADDRESS_KEYS, "email", "phone")
        }
        customer = self.shop.add_customer(
            email,
            billing,
            created=now,
            modified=now,
            first_name=str(body.get("first_name") or ""),
            last_name=str(body.get("last_name") or ""),
        )
        if isinstance(body.get("meta_data"), list):
            self._meta(customer, body["meta_data"])
        return json_response(201, self.shop.customer_json(customer, base))

    def _batch(self, kind: str, body: dict[str, Any], base: str) -> httpx.Response:
        total = sum(len(body.get(op) or []) for op in ("create", "update", "delete"))
        if total > BATCH_LIMIT:
            return wp_error(
                413,
                "woocommerce_rest_request_entity_too_large",
                f"Unable to accept more than {BATCH_LIMIT} items for this request.",
            )
        out: dict[str, list[Any]] = {}
        render = self.shop.customer_json if kind == "customers" else self.shop.order_json
        objects = self.shop.customers if kind == "customers" else self.shop.orders
        for item in body.get("create") or []:
            created = (
                self._create_customer(item, base)
                if kind == "customers"
                else wp_error(
                    400, "woocommerce_rest_cannot_create", "Orders are not created by this sandbox."
                )
            )
            out.setdefault("create", []).append(_result(created, 0))
        for item in body.get("update") or []:
            item_id = item.get("id") if isinstance(item, dict) else None
            target = objects.get(item_id) if isinstance(item_id, int) else None
            if target is None:
                code = (
                    "woocommerce_rest_invalid_id"
                    if kind == "customers"
                    else "woocommerce_rest_shop_order_invalid_id"
                )
                message = "Invalid resource ID." if kind == "customers" else "Invalid ID."
                out.setdefault("update", []).append(
                    {
                        "id": item.get("id") if isinstance(item, dict) else 0,
                        "error": {"code": code, "message": message, "data": {"status": 400}},
                    }
                )
                continue
            failed = self._update(kind, target, item)
            out.setdefault("update", []).append(
                _result(failed, target["id"]) if failed is not None else render(target, base)
            )
        for item_id in body.get("delete") or []:
            target = objects.pop(int(item_id), None) if str(item_id).isdigit() else None
            if target is None:
                out.setdefault("delete", []).append(
                    {
                        "id": item_id,
                        "error": {
                            "code": "woocommerce_rest_invalid_id",
                            "message": "Invalid resource ID.",
                            "data": {"status": 404},
                        },
                    }
                )
            else:
                out.setdefault("delete", []).append(render(target, base))
        return json_response(200, out)

    # --- order notes ---------------------------------------------------------------------------------
    def _notes(
        self,
        order_id: int,
        note_id: int | None,
        method: str,
        body: dict[str, Any],
        query: dict[str, str],
        base: str,
    ) -> httpx.Response:
        if order_id not in self.shop.orders:
            return wp_error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
        notes = self.shop.notes.setdefault(order_id, [])
        if note_id is None and method == "GET":
            kind = query.get("type", "any")
            chosen = [n for n in notes if kind == "any" or (kind == "customer") == n["customer_note"]]
            return json_response(200, [self.shop.note_json(order_id, n, base) for n in reversed(chosen)])
        if note_id is None and method == "POST":
            if not isinstance(body.get("note"), str) or not body["note"]:
                return wp_error(
                    400, "rest_missing_callback_param", "Missing parameter(s): note", {"params": ["note"]}
                )
            added = self.shop.add_note(order_id, body["note"], self.clock.now(), author="WooCommerce")
            return json_response(201, self.shop.note_json(order_id, added, base))
        note = next((n for n in notes if n["id"] == note_id), None)
        if note is None:
            return wp_error(404, "woocommerce_rest_invalid_id", "Invalid resource ID.")
        if method == "GET":
            return json_response(200, self.shop.note_json(order_id, note, base))
        if method == "DELETE":
            if query.get("force", "false").lower() not in ("true", "1"):
                return wp_error(
                    501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing."
                )
            notes.remove(note)
            return json_response(200, self.shop.note_json(order_id, note, base))
        return wp_error(404, "rest_no_route", "No route was found matching the URL and request method")

    # --- SandboxControl ------------------------------------------------------------------------------
    def settings(self, transport: bool = True) -> ConnectorSettings:
        return ConnectorSettings(
            credentials={CREDENTIAL: self.token},
            options={"store_url": STORE_URL, RATE_OPTION: str(self.requests_per_10s)},
            transport=self.transport() if transport else None,
        )

    def record_keys(self) -> set[str]:
        with self.lock:
            customers = {
                f"customer:{c['id']}" for c in self.shop.customers.values() if c["role"] == "customer"
            }
            return customers | {
                f"order:{o['id']}" for o in self.shop.orders.values() if o["status"] != "trash"
            }

    def touch(self, keys: Iterable[str], at: datetime | None = None) -> None:
        """Rename customers and move orders to another status, stamping them modified at ``at``."""
        when = at or self.clock.now()
        with self.lock:
            for key in keys:
                kind, object_id = key.split(":", 1)
                if kind == "customer":
                    self._turns += 1
                    self.shop.rename(self.shop.customers[int(object_id)], when, self._turns)
                else:
                    self.shop.change_status(self.shop.orders[int(object_id)], when)

    def add_records(self, count: int, at: datetime | None = None) -> set[str]:
        when = at or self.clock.now()
        keys = set()
        with self.lock:
            for _ in range(count):
                self._new += 1
                email = f"new{self._new}@example.com"
                billing = {
                    **address(first_name="New", last_name="Person", country="GB"),
                    "email": email,
                    "phone": "",
                }
                customer = self.shop.add_customer(
                    email, billing, created=when, modified=when, first_name="New", last_name="Person"
                )
                keys.add(f"customer:{customer['id']}")
        return keys

    def _emails(self) -> Iterable[tuple[str, dict[str, Any] | None]]:
        for customer in self.shop.customers.values():
            yield customer["email"], customer
        for order in self.shop.orders.values():
            yield order["billing"].get("email", ""), None

    def holdings(self) -> str:
        """Every account, order and order note of the shop."""
        with self.lock:
            return holdings_text(self.shop.customers, self.shop.orders, self.shop.notes)

    def holds(self, email: str) -> bool:
        """Whether an account or any order's billing still has this email."""
        wanted = normalise_email(email)
        with self.lock:
            return any(_same(value, wanted) for value, _ in self._emails())

    def pushed_traits(self, email: str) -> dict[str, Any]:
        wanted = normalise_email(email)
        with self.lock:
            for value, customer in self._emails():
                if customer is not None and _same(value, wanted):
                    return {
                        m["key"]: m["value"]
                        for m in customer["meta_data"]
                        if str(m["key"]).startswith(META_PREFIX)
                    }
        return {}


def _same(value: str, wanted: str) -> bool:
    try:
        return bool(value) and normalise_email(value) == wanted
    except NormalisationError:
        return False


def _json(request: httpx.Request) -> dict[str, Any] | None:
    if not request.content:
        return {}
    try:
        body = json.loads(request.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


def _result(response: httpx.Response | None, item_id: int) -> Any:
    if response is None:
        return {}
    body = json.loads(response.read())
    if response.status_code >= 400:
        return {
            "id": item_id,
            "error": {"code": body["code"], "message": body["message"], "data": body["data"]},
        }
    return body


def _key_pair(token: str | None, seed: int) -> tuple[str, str]:
    if token is None:
        rng = random.Random(seed)
        return (
            "ck_" + "".join(rng.choice("0123456789abcdef") for _ in range(40)),
            "cs_" + "".join(rng.choice("0123456789abcdef") for _ in range(40)),
        )
    key, sep, secret = token.partition(":")
    if not sep or not key or not secret:
        raise ConnectorConfigError(
            "a WooCommerce sandbox token is a key pair consumer_key:consumer_secret, e.g. ck_local:cs_local"
        )
    return key, secret


def make_sandbox(
    people: int = 200, seed: int = 7, token: str | None = None, faults: Faults | None = None, **options: Any
) -> WooCommerceSandbox:
    return WooCommerceSandbox(people=people, seed=seed, token=token, faults=faults, **options)


__all__ = ["API", "STORE_URL", "WooCommerceSandbox", "make_sandbox", "wp_error"]
