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

The list reads live in ``_sandbox_lists``, single objects, writes, batches and order notes in
``_sandbox_writes``; the store's data in ``_sandbox_shop`` and the query parameters in ``_sandbox_params``.

Simplifications: one API key (read/write unless ``permissions`` says otherwise); one shop timezone
(fixed offset, no daylight saving); ``_fields``, ``context=edit`` and ``dp`` are ignored; order search
matches billing email, names, phone and number; creating orders over the API is not served.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any, Final

import httpx

from connectors._sandbox import Faults, SlidingWindow, VendorSandbox, holdings_text
from core.connector import ConnectorSettings
from core.errors import ConnectorConfigError, NormalisationError
from core.normalise import normalise_email

from . import _sandbox_lists as lists
from . import _sandbox_writes as writes
from ._declaration import CREDENTIAL, DEFAULT_REQUESTS_PER_10S, RATE_OPTION
from ._push import META_PREFIX
from ._sandbox_auth import REALM, AuthError, KeyStore, denied, php_query
from ._sandbox_params import InvalidParamsError, Params, wp_error
from ._sandbox_shop import SandboxShop, address
from ._sandbox_writes import BATCH_LIMIT as BATCH_LIMIT

API: Final = "/wp-json/wc/v3"
STORE_URL: Final = "https://woo.sandbox.test"
_ID = re.compile(r"^(customers|orders)/(\d+)$")
_NOTES = re.compile(r"^orders/(\d+)/notes(?:/(\d+))?$")


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
                return lists.list_objects(self, route, Params(query), base, request)
            if route in ("customers/batch", "orders/batch") and method in ("POST", "PUT", "PATCH"):
                return writes.batch(self, route.split("/")[0], body, base)
            if route == "customers" and method == "POST":
                return writes.create_customer(self, body, base)
            if (match := _ID.match(route)) is not None:
                return writes.item(self, match[1], int(match[2]), method, body, query, base)
            if (match := _NOTES.match(route)) is not None:
                return writes.notes(
                    self, int(match[1]), int(match[2]) if match[2] else None, method, body, query, base
                )
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
            # What the connector pulls by default: the users WooCommerce holds as customers, and every
            # order, the trash too.
            customers = {
                f"customer:{c['id']}"
                for c in self.shop.customers.values()
                if c["role"] in ("customer", "subscriber") or c["is_paying_customer"]
            }
            return customers | {f"order:{o['id']}" for o in self.shop.orders.values()}

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

    def purge_records(self, keys: set[str]) -> None:
        """Delete these customers and orders (``customer:<id>``, ``order:<id>``) as ``DELETE
        /customers/<id>?force=true`` and ``DELETE /orders/<id>?force=true`` do: nothing is left to
        list, not even in the trash (``PurgesRecords``)."""
        with self.lock:
            for key in sorted(keys):
                kind, _, number = key.partition(":")
                if kind not in ("customer", "order"):
                    raise ValueError(f"only customers and orders are deleted without a trace, not {kind}s")
                query = {"force": "true"}
                answer = writes.item(self, f"{kind}s", int(number), "DELETE", {}, query, API)
                if answer.status_code != 200:
                    raise KeyError(key)

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
