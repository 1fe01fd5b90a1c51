"""A fake Shopify Admin GraphQL API (2026-01) for tests, the demo and the benches.

What it does as Shopify does:

* ``POST /admin/api/2026-01/graphql.json`` with ``X-Shopify-Access-Token``; a wrong or missing token
  gets 401 ``{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}``.
* Documents are parsed and checked against the sandbox's type table (unknown fields answer Shopify's
  ``undefinedField`` error); connections need ``first`` or ``last``, at most 250.
* Query cost by Shopify's documented model (``_documents``): scalars 0, objects 1, connections 2 plus
  ``first`` times a node's cost, mutations 10; over 1,000 points answers MAX_COST_EXCEEDED. Every answer
  carries ``extensions.cost`` with ``requestedQueryCost``, ``actualQueryCost`` and ``throttleStatus``.
* A leaky bucket per shop (Standard plan: 2,000 points, 100 restored per second): the requested cost is
  reserved before running and the difference to the actual cost refunded after; without enough points
  the answer is HTTP 200 with ``errors[].extensions.code == "THROTTLED"``. ``rate_scale`` speeds the
  restore up for tests (the reported ``restoreRate`` says so, as a faster plan would).
* Search syntax on ``updated_at``/``created_at``/``email``/``phone``/``id``, sort keys with id as the
  tie-break, opaque cursors carrying the last sort value and id, and cursor paging that stops at
  ``page_cap`` objects (25,000).
* Bulk operations: ``bulkOperationRunQuery`` snapshots the data, ``bulkOperation(id:)`` moves it from
  CREATED to RUNNING to COMPLETED over a few polls, and its ``url`` serves the JSONL file (nested
  connections as their own lines with ``__parentId``) without the access token, as a signed URL does.
* ``metafieldsSet`` (25 at most, atomic, typed values checked, the owner's ``updatedAt`` moves),
  ``metafieldDefinitions``/``metafieldDefinitionCreate``, ``customerRequestDataErasure``.
* ``shop``, ``Order.lineItems``, ``customerCreate`` and ``customerUpdate`` (``_sandbox_store``).

The parts live beside this module: the type table (``_sandbox_schema``), the bucket, request checks
and requested cost (``_sandbox_cost``), execution (``_sandbox_execute``), search and cursor paging
(``_sandbox_paging``), bulk operations (``_sandbox_bulk``), metafields and erasure
(``_sandbox_mutations``), seeding (``_sandbox_seed``); what they share is ``_sandbox_wire``.

The data comes from the ``shop`` records of ``core.testing.population``, so a Shopify sandbox built
with the same (people, seed) as the HubSpot and Mailchimp ones holds the same people.
"""

from __future__ import annotations

import hmac
import random
import re
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from connectors._sandbox import Faults, VendorSandbox, holdings_text, json_response
from core.connector import ConnectorSettings
from core.errors import NormalisationError
from core.normalise import normalise_email

from . import _documents as docs
from . import _sandbox_bulk as bulk
from . import _sandbox_cost as cost
from . import _sandbox_execute as execution
from . import _sandbox_seed as seeding
from ._sandbox_cost import LeakyBucket
from ._sandbox_schema import TYPES
from ._sandbox_schema import Kind as Kind
from ._sandbox_seed import _current_total, payments
from ._sandbox_wire import GraphQLFailureError as GraphQLFailureError
from ._sandbox_wire import _error, _Prepared, stamp

DEFAULT_TOKEN = "shpat_sandbox_0123456789abcdef0123456789abcdef"
DEFAULT_SHOP = "profilesync-sandbox"
_INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_RATE_DOCS = "https://shopify.dev/api/usage/rate-limits"
_FIRST_NAMES = ["Alex", "Sam", "Robin", "Jo", "Kim", "Lou", "Max", "Noor"]
_BULK_PATH = re.compile(r"^/(?:profilesync-sandbox-bulk/[^/]+|bulk-results)/(\d+)\.jsonl$")


class ShopifySandbox(VendorSandbox):
    """The fake Shopify shop; see the module docstring. Thread-safe (state behind ``self.lock``).

    ``bucket``/``restore_rate`` are the plan's bucket (Standard: 2,000 points, 100/s); ``rate_scale``
    multiplies the restore rate for fast tests; ``bucket_clock`` is the bucket's monotonic clock
    (inject one to test pacing without sleeping); ``page_cap`` is where cursor paging stops;
    ``bulk_polls`` is how many status polls a bulk operation takes to complete; ``page_size`` (None:
    the connector's default) is the connector's ``page_size`` option in ``settings()``.
    """

    name = "shopify"

    def __init__(
        self,
        *,
        people: int = 200,
        seed: int = 7,
        token: str = DEFAULT_TOKEN,
        faults: Faults | None = None,
        shop: str = DEFAULT_SHOP,
        bucket: float = 2000.0,
        restore_rate: float = 100.0,
        rate_scale: float = 1.0,
        bucket_clock: Callable[[], float] = time.monotonic,
        page_cap: int = 25_000,
        bulk_polls: int = 2,
        page_size: int | None = None,
    ) -> None:
        super().__init__(token=token, seed=seed, faults=faults)
        self.shop = shop
        self.bucket = LeakyBucket(bucket, restore_rate * rate_scale, bucket_clock)
        self.page_cap = page_cap
        self.bulk_polls = bulk_polls
        self.page_size = page_size
        self.customers: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.definitions: dict[tuple[str, str], dict[str, Any]] = {}
        self.bulk_operations: dict[int, dict[str, Any]] = {}
        #: (requested, actual) cost of every admitted GraphQL request, in order (benches use it).
        self.cost_log: list[tuple[int, int]] = []
        self._next = {"customer": 7_100_000_000_000, "order": 5_200_000_000_000, "misc": 1}
        self._order_number = 1000
        self._new_people = 0
        self._touches = 0
        self._rng = random.Random(seed * 7919 + 17)
        seeding.seed(self, people, seed)

    # --- seeding ------------------------------------------------------------------------------------
    def _id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    # --- the control surface (SandboxControl) -------------------------------------------------------
    def settings(self, transport: bool = True) -> ConnectorSettings:
        return ConnectorSettings(
            credentials={"shopify_access_token": self.token},
            options={
                "shop": self.shop,
                **({} if self.page_size is None else {"page_size": str(self.page_size)}),
            },
            transport=self.transport() if transport else None,
        )

    def record_keys(self) -> set[str]:
        with self.lock:
            return {f"customer:{n}" for n in self.customers} | {f"order:{n}" for n in self.orders}

    def touch(self, keys: set[str], at: datetime | None = None) -> None:
        when = stamp(at or self.clock.now())
        with self.lock:
            for key in keys:
                kind, _, number = key.partition(":")
                if kind == "customer" and int(number) in self.customers:
                    self._touches += 1
                    customer = self.customers[int(number)]
                    customer["lastName"] = f"Touched{self._touches}"
                    customer["updatedAt"] = when
                elif kind == "order" and int(number) in self.orders:
                    order = self.orders[int(number)]
                    order["displayFinancialStatus"] = (
                        "REFUNDED" if order["displayFinancialStatus"] == "PAID" else "PAID"
                    )
                    money, status = order["totalPriceSet"]["shopMoney"], order["displayFinancialStatus"]
                    order["currentTotalPriceSet"] = _current_total(money, status)
                    order.update(payments(money, status))
                    order["updatedAt"] = when
                else:
                    raise KeyError(f"the sandbox has no {key}")

    def add_records(self, count: int, at: datetime | None = None) -> set[str]:
        moment = at or self.clock.now()
        keys: set[str] = set()
        with self.lock:
            for _ in range(count):
                self._new_people += 1
                k = self._new_people
                customer = seeding.add_customer(
                    self,
                    numeric=self._id("customer"),
                    first=_FIRST_NAMES[k % len(_FIRST_NAMES)],
                    last=f"Newperson{k}",
                    email=f"new{k}@example.com",
                    phone=f"+44208{k % 10**7:07d}",
                    country="GB",
                    created=moment,
                    updated=moment,
                )
                order = seeding.add_order(
                    self, customer, f"{10 + k % 90}.{k % 100:02d}", "GBP", "PAID", moment, moment
                )
                keys |= {f"customer:{customer['_num']}", f"order:{order['_num']}"}
        return keys

    def purge_records(self, keys: set[str]) -> None:
        """Erase these customers (``customer:<n>``) as a data erasure request does (customerRequest-
        DataErasure: the customer deleted, their orders' contact details removed), which Shopify
        announces by webhook alone: no query lists it afterwards (``PurgesRecords``). Orders are not
        purged (Shopify keeps them)."""
        from ._sandbox_mutations import erase

        with self.lock:
            for key in sorted(keys):
                kind, _, number = key.partition(":")
                if kind != "customer":
                    raise ValueError(f"Shopify purges customers only, not {kind}s")
                if erase(self, {"customerId": f"gid://shopify/Customer/{number}"})["userErrors"]:
                    raise KeyError(key)

    def holdings(self) -> str:
        """Every customer (with its metafields) and every order."""
        with self.lock:
            return holdings_text(self.customers, self.orders)

    def holds(self, email: str) -> bool:
        wanted = _email_key(email)
        with self.lock:
            emails = [
                (c.get("defaultEmailAddress") or {}).get("emailAddress") for c in self.customers.values()
            ]
            emails += [o.get("email") for o in self.orders.values()]
        return any(_email_key(e) == wanted for e in emails)

    def pushed_traits(self, email: str, namespace: str = "profilesync") -> dict[str, Any]:
        wanted = _email_key(email)
        with self.lock:
            for customer in self.customers.values():
                if _email_key((customer.get("defaultEmailAddress") or {}).get("emailAddress")) == wanted:
                    return {
                        k: m["value"] for (ns, k), m in customer["_metafields"].items() if ns == namespace
                    }
        return {}

    def least_seconds(self) -> float:
        """The least time the shop's bucket allows for the GraphQL requests answered so far, had they
        been sent with no latency: each waits until the bucket holds its requested cost, then spends
        its actual cost. Benches divide their wall time by this."""
        with self.lock:
            log = list(self.cost_log)
        available, seconds = self.bucket.maximum, 0.0
        for requested, actual in log:
            if available < requested:
                seconds += (requested - available) / self.bucket.rate
                available = requested
            available -= actual
        return seconds

    # --- the four VendorSandbox hooks ---------------------------------------------------------------
    def account_budget(self) -> tuple[float, float] | None:
        return (self.bucket.rate, self.bucket.maximum)

    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        if request.method == "GET" and _BULK_PATH.match(request.url.path):
            return None  # a signed URL: the signature is checked in route
        supplied = request.headers.get("X-Shopify-Access-Token", "")
        if not hmac.compare_digest(supplied.encode(), self.token.encode()):
            return json_response(401, {"errors": _INVALID_TOKEN}, self._headers())
        return None

    def limit(self, request: httpx.Request) -> httpx.Response | None:
        if request.url.path != docs.GRAPHQL_PATH or request.method != "POST":
            return None
        prepared = cost.prepare(self, request)
        if prepared.answer is not None or prepared.requested > docs.MAX_QUERY_COST:
            return None
        if not self.bucket.take(prepared.requested):
            # Shopify answers an empty bucket with HTTP 200 and a THROTTLED error, not a 429.
            body = {
                "errors": [
                    {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": _RATE_DOCS}}
                ],
                "extensions": {"cost": cost.report(self, prepared.requested, None)},
            }
            return json_response(200, body, self._headers())
        prepared.reserved = prepared.requested
        return None

    def throttled(self, retry_after: str | None) -> httpx.Response:
        headers = self._headers() | ({} if retry_after is None else {"Retry-After": retry_after})
        body = {
            "errors": [
                {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": _RATE_DOCS}}
            ]
        }
        return json_response(429, body, headers)

    def release(self, request: httpx.Request) -> None:
        prepared = request.extensions.get("shopify_sandbox")
        if isinstance(prepared, _Prepared) and prepared.reserved and not prepared.settled:
            # An injected fault ended the request before it ran: nothing was spent.
            self.bucket.refund(prepared.reserved)
            prepared.settled = True

    def route(self, request: httpx.Request) -> httpx.Response:
        match = _BULK_PATH.match(request.url.path)
        if request.method == "GET" and match:
            return bulk.serve_file(self, int(match.group(1)), request)
        if request.url.path != docs.GRAPHQL_PATH:
            return json_response(404, {"errors": "Not Found"}, self._headers())
        if request.method != "POST":
            return json_response(405, {"errors": "Method Not Allowed"}, self._headers())
        prepared = cost.prepare(self, request)
        if prepared.answer is not None:
            return prepared.answer
        if prepared.requested > docs.MAX_QUERY_COST:
            message = (
                f"Query cost is {prepared.requested}, which exceeds the single query max cost limit "
                f"({docs.MAX_QUERY_COST}).\n\nSee {_RATE_DOCS} for more information on how the cost of a "
                "query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations "
                "should be used instead."
            )
            error = _error(message, "MAX_COST_EXCEEDED", cost=prepared.requested, maxCost=docs.MAX_QUERY_COST)
            body = {"errors": [error], "extensions": {"cost": cost.report(self, prepared.requested, None)}}
            return json_response(200, body, self._headers())
        operation = prepared.operation
        assert operation is not None
        try:
            with self.lock:
                data, actual = execution.execute(self, operation, prepared, request)
        except GraphQLFailureError as failure:
            cost.settle(self, prepared, 0)
            return json_response(
                200, {"errors": failure.errors, **cost.extensions(self, prepared, 0)}, self._headers()
            )
        cost.settle(self, prepared, actual)
        return json_response(200, {"data": data, **cost.extensions(self, prepared, actual)}, self._headers())

    # --- request plumbing ---------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"X-Shopify-API-Version": docs.API_VERSION, "X-Request-Id": str(uuid.uuid4())}


def _email_key(value: Any) -> str | None:
    """An email as profilesync compares it (case, spaces and IDN spelling aside)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return normalise_email(value)
    except NormalisationError:
        return value.strip().casefold()


def make_sandbox(
    people: int = 200,
    seed: int = 7,
    token: str | None = None,
    faults: Faults | None = None,
    **options: Any,
) -> ShopifySandbox:
    """A Shopify sandbox seeded with the ``shop`` records of ``population(people, seed)``.

    ``options`` go to ``ShopifySandbox`` (``rate_scale``, ``bucket_clock``, ``page_cap``, ...). The
    default is Shopify's Standard plan at its published rate.
    """
    return ShopifySandbox(people=people, seed=seed, token=token or DEFAULT_TOKEN, faults=faults, **options)


__all__ = ["DEFAULT_SHOP", "DEFAULT_TOKEN", "TYPES", "LeakyBucket", "ShopifySandbox", "make_sandbox", "stamp"]
