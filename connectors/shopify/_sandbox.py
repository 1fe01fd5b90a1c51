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

The data comes from the ``shop`` records of ``core.testing.population``, so a Shopify sandbox built
with the same (people, seed) as the HubSpot and Mailchimp ones holds the same people.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from connectors._sandbox import Faults, VendorSandbox, holdings_text, json_response
from core.connector import ConnectorSettings
from core.errors import NormalisationError
from core.normalise import normalise_email
from core.testing.population import COUNTRIES, population

from . import _documents as docs
from . import _sandbox_store as store
from ._graphql import Field, GraphQLSyntaxError, Operation, expand, parse, resolve_value
from ._search import build_filter, parse_query

DEFAULT_TOKEN = "shpat_sandbox_0123456789abcdef0123456789abcdef"
DEFAULT_SHOP = "profilesync-sandbox"
_INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_RATE_DOCS = "https://shopify.dev/api/usage/rate-limits"
_COUNTRY_NAMES = {"GB": "United Kingdom", "US": "United States", "DE": "Germany", "FR": "France"}
_COUNTRY_CODE = {variant.casefold(): code for code, variants in COUNTRIES.items() for variant in variants}
_FIRST_NAMES = ["Alex", "Sam", "Robin", "Jo", "Kim", "Lou", "Max", "Noor"]
_BULK_PATH = re.compile(r"^/(?:profilesync-sandbox-bulk/[^/]+|bulk-results)/(\d+)\.jsonl$")

# --- the type table: what the sandbox serves, and what each field costs ----------------------------------
Kind = tuple[str, str | None]  # ("scalar", None) | ("object", T) | ("list", T) | ("connection", T)
_S: Kind = ("scalar", None)


def _o(name: str) -> Kind:
    return ("object", name)


def _l(name: str) -> Kind:
    return ("list", name)


def _c(name: str) -> Kind:
    return ("connection", name)


TYPES: dict[str, dict[str, Kind]] = {
    "QueryRoot": {
        "customers": _c("Customer"),
        "orders": _c("Order"),
        "customersCount": _o("Count"),
        "ordersCount": _o("Count"),
        "customer": _o("Customer"),
        "order": _o("Order"),
        "bulkOperation": _o("BulkOperation"),
        "currentBulkOperation": _o("BulkOperation"),
        "metafieldDefinitions": _c("MetafieldDefinition"),
    },
    "Mutation": {
        "bulkOperationRunQuery": _o("BulkOperationRunQueryPayload"),
        "metafieldsSet": _o("MetafieldsSetPayload"),
        "metafieldDefinitionCreate": _o("MetafieldDefinitionCreatePayload"),
        "customerRequestDataErasure": _o("CustomerRequestDataErasurePayload"),
    },
    "Customer": {
        **dict.fromkeys(
            (
                "id",
                "legacyResourceId",
                "firstName",
                "lastName",
                "displayName",
                "createdAt",
                "updatedAt",
                "email",
                "phone",
                "note",
                "tags",
                "verifiedEmail",
                "numberOfOrders",
            ),
            _S,
        ),
        "defaultEmailAddress": _o("CustomerEmailAddress"),
        "defaultPhoneNumber": _o("CustomerPhoneNumber"),
        "defaultAddress": _o("MailingAddress"),
        "emailMarketingConsent": _o("CustomerEmailMarketingConsentState"),
        "amountSpent": _o("MoneyV2"),
        "metafield": _o("Metafield"),
        "metafields": _c("Metafield"),
        "orders": _c("Order"),
    },
    "CustomerEmailAddress": dict.fromkeys(
        ("emailAddress", "marketingState", "marketingUpdatedAt", "marketingOptInLevel", "validFormat"), _S
    ),
    "CustomerPhoneNumber": dict.fromkeys(
        ("phoneNumber", "marketingState", "marketingUpdatedAt", "marketingOptInLevel"), _S
    ),
    "CustomerEmailMarketingConsentState": dict.fromkeys(
        ("marketingState", "consentUpdatedAt", "marketingOptInLevel"), _S
    ),
    "MailingAddress": dict.fromkeys(
        ("id", "country", "countryCodeV2", "city", "province", "provinceCode", "zip", "phone"), _S
    ),
    "Order": {
        **dict.fromkeys(
            (
                "id",
                "legacyResourceId",
                "name",
                "email",
                "phone",
                "createdAt",
                "processedAt",
                "updatedAt",
                "cancelledAt",
                "closedAt",
                "displayFinancialStatus",
                "currencyCode",
                "test",
            ),
            _S,
        ),
        "totalPriceSet": _o("MoneyBag"),
        "currentTotalPriceSet": _o("MoneyBag"),
        "customer": _o("Customer"),
    },
    "MoneyBag": {"shopMoney": _o("MoneyV2"), "presentmentMoney": _o("MoneyV2")},
    "MoneyV2": dict.fromkeys(("amount", "currencyCode"), _S),
    "Count": dict.fromkeys(("count", "precision"), _S),
    "PageInfo": dict.fromkeys(("hasNextPage", "hasPreviousPage", "startCursor", "endCursor"), _S),
    "BulkOperation": dict.fromkeys(
        (
            "id",
            "status",
            "errorCode",
            "createdAt",
            "completedAt",
            "objectCount",
            "rootObjectCount",
            "fileSize",
            "url",
            "partialDataUrl",
            "query",
            "type",
        ),
        _S,
    ),
    "BulkOperationRunQueryPayload": {
        "bulkOperation": _o("BulkOperation"),
        "userErrors": _l("BulkOperationUserError"),
    },
    "BulkOperationUserError": dict.fromkeys(("field", "message", "code"), _S),
    "Metafield": dict.fromkeys(
        ("id", "namespace", "key", "value", "type", "ownerType", "createdAt", "updatedAt", "compareDigest"),
        _S,
    ),
    "MetafieldsSetPayload": {"metafields": _l("Metafield"), "userErrors": _l("MetafieldsSetUserError")},
    "MetafieldsSetUserError": dict.fromkeys(("field", "message", "code", "elementIndex"), _S),
    "MetafieldDefinition": {
        **dict.fromkeys(("id", "name", "namespace", "key", "description", "ownerType"), _S),
        "type": _o("MetafieldDefinitionType"),
    },
    "MetafieldDefinitionType": dict.fromkeys(("name", "category"), _S),
    "MetafieldDefinitionCreatePayload": {
        "createdDefinition": _o("MetafieldDefinition"),
        "userErrors": _l("MetafieldDefinitionCreateUserError"),
    },
    "MetafieldDefinitionCreateUserError": dict.fromkeys(("field", "message", "code", "elementIndex"), _S),
    "CustomerRequestDataErasurePayload": {
        "customerId": _S,
        "userErrors": _l("CustomerRequestDataErasureUserError"),
    },
    "CustomerRequestDataErasureUserError": dict.fromkeys(("field", "message", "code"), _S),
}
for _type_name, _fields in store.FIELDS.items():  # shop, Order.lineItems, customerCreate/Update
    TYPES.setdefault(_type_name, {}).update(_fields)

#: Metafield types the sandbox accepts, with the check each value must pass.
_METAFIELD_VALUES: dict[str, Callable[[str], bool]] = {
    "single_line_text_field": lambda v: "\n" not in v and len(v) <= 65_535,
    "multi_line_text_field": lambda v: len(v) <= 65_535,
    "number_integer": lambda v: re.fullmatch(r"-?\d{1,19}", v) is not None,
    "number_decimal": lambda v: re.fullmatch(r"-?\d{1,13}(\.\d{1,9})?", v) is not None,
    "date": lambda v: _is_date(v),
    "boolean": lambda v: v in ("true", "false"),
}
_METAFIELD_CATEGORY = {"number_integer": "NUMBER", "number_decimal": "NUMBER", "date": "DATE_TIME"}


def _is_date(value: str) -> bool:
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def stamp(moment: datetime) -> str:
    """A Shopify DateTime: UTC, whole seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GraphQLFailureError(Exception):
    """Errors that end a GraphQL request before (or instead of) data: Shopify's ``errors[]``."""

    def __init__(self, errors: list[dict[str, Any]], extensions: dict[str, Any] | None = None) -> None:
        super().__init__(errors[0].get("message", "error") if errors else "error")
        self.errors = errors
        self.extensions = extensions


def _error(message: str, code: str | None = None, node: Field | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if node is not None:
        error["locations"] = [{"line": node.line, "column": node.column}]
    if code is not None:
        error["extensions"] = {"code": code, **extra}
    return error


class LeakyBucket:
    """Shopify's cost bucket: ``maximum`` points, refilled at ``rate`` points per second."""

    def __init__(self, maximum: float, rate: float, clock: Callable[[], float]) -> None:
        self.maximum = maximum
        self.rate = rate
        self._clock = clock
        self._available = maximum
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._available = min(self.maximum, self._available + (now - self._updated) * self.rate)
        self._updated = now

    def take(self, points: float) -> bool:
        with self._lock:
            self._refill()
            if self._available + 1e-6 < points:  # float noise is not a missing point
                return False
            self._available -= points
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + points)

    def status(self) -> dict[str, Any]:
        with self._lock:
            self._refill()
            return {
                "maximumAvailable": float(self.maximum),
                "currentlyAvailable": int(self._available),
                "restoreRate": float(self.rate),
            }


@dataclass
class _Prepared:
    """A parsed request: its operation, variables and requested cost, or the answer to give instead."""

    operation: Operation | None = None
    fragments: dict[str, Any] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)
    requested: int = 0
    answer: httpx.Response | None = None
    reserved: float = 0.0
    settled: bool = False
    bulk: bool = False


@dataclass
class _Page:
    items: list[dict[str, Any]]
    cursors: list[str]
    has_next: bool
    has_previous: bool


class ShopifySandbox(VendorSandbox):
    """The fake Shopify shop; see the module docstring. Thread-safe (state behind ``self.lock``).

    ``bucket``/``restore_rate`` are the plan's bucket (Standard: 2,000 points, 100/s); ``rate_scale``
    multiplies the restore rate for fast tests; ``bucket_clock`` is the bucket's monotonic clock
    (inject one to test pacing without sleeping); ``page_cap`` is where cursor paging stops;
    ``bulk_polls`` is how many status polls a bulk operation takes to complete.
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
    ) -> None:
        super().__init__(token=token, seed=seed, faults=faults)
        self.shop = shop
        self.bucket = LeakyBucket(bucket, restore_rate * rate_scale, bucket_clock)
        self.page_cap = page_cap
        self.bulk_polls = bulk_polls
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
        self._seed(people, seed)

    # --- seeding ------------------------------------------------------------------------------------
    def _id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    def _seed(self, people: int, seed: int) -> None:
        malformed = 0
        for person, record in population(people, seed, malformed_share=0.02):
            if record["source"] != "shop":
                continue
            if person is None:
                malformed += 1
                self._add_walk_in(malformed)
            else:
                self._add_from_population(person, record)

    def _add_from_population(self, person: int, record: dict[str, Any]) -> None:
        rng = self._rng
        updated = datetime.fromisoformat(str(record["updated_at"]).replace("Z", "+00:00"))
        orders = record.get("orders") or []
        first_order = min(
            (datetime.fromisoformat(str(o["created_at"]).replace("Z", "+00:00")) for o in orders),
            default=updated,
        )
        created = min(updated, first_order) - timedelta(
            days=rng.randint(1, 90), seconds=rng.randint(0, 86399)
        )
        customer = self._customer(
            numeric=7_000_000_000_000 + person,
            first=record.get("first_name"),
            last=record.get("last_name"),
            email=record.get("email"),
            phone=record.get("phone"),
            country=record.get("country"),
            created=created,
            updated=updated,
        )
        for order in orders:
            status = (
                "PAID" if order.get("status") == "paid" else rng.choice(["REFUNDED", "PARTIALLY_REFUNDED"])
            )
            at = datetime.fromisoformat(str(order["created_at"]).replace("Z", "+00:00"))
            self._order(
                customer, str(order["total"]), str(order["currency"]), status, at, at + timedelta(hours=1)
            )

    def _add_walk_in(self, n: int) -> None:
        # Shopify's version of a malformed record: a point-of-sale walk-in saved with a first name only,
        # no email and no phone. It must end quarantined (no identifier).
        at = datetime(2026, 2, 1, tzinfo=UTC) + timedelta(minutes=n)
        self._customer(
            numeric=7_090_000_000_000 + n,
            first="Walk-in",
            last=None,
            email=None,
            phone=None,
            country=None,
            created=at,
            updated=at,
        )

    def _customer(
        self,
        *,
        numeric: int,
        first: Any,
        last: Any,
        email: Any,
        phone: Any,
        country: Any,
        created: datetime,
        updated: datetime,
    ) -> dict[str, Any]:
        rng = self._rng
        email_text = email.strip() if isinstance(email, str) and email.strip() else None  # Shopify trims
        code = _COUNTRY_CODE.get(str(country).strip().casefold()) if country else None
        state = rng.choices(["SUBSCRIBED", "NOT_SUBSCRIBED", "UNSUBSCRIBED", "PENDING"], [40, 35, 20, 5])[0]
        consent_at = created + (updated - created) * rng.random()
        customer: dict[str, Any] = {
            "id": f"gid://shopify/Customer/{numeric}",
            "legacyResourceId": str(numeric),
            "firstName": first,
            "lastName": last,
            "createdAt": stamp(created),
            "updatedAt": stamp(updated),
            "note": None,
            "tags": [],
            "verifiedEmail": email_text is not None,
            "defaultEmailAddress": None
            if email_text is None
            else {
                "emailAddress": email_text,
                "marketingState": state,
                "marketingUpdatedAt": None if state == "NOT_SUBSCRIBED" else stamp(consent_at),
                "marketingOptInLevel": None if state == "NOT_SUBSCRIBED" else "SINGLE_OPT_IN",
                "validFormat": True,
            },
            "defaultPhoneNumber": None
            if not phone
            else {
                "phoneNumber": phone,
                "marketingState": "NOT_SUBSCRIBED",
                "marketingUpdatedAt": None,
                "marketingOptInLevel": None,
            },
            "defaultAddress": None
            if code is None
            else {
                "id": f"gid://shopify/MailingAddress/{numeric + 1_000_000}",
                "country": _COUNTRY_NAMES.get(code, code),
                "countryCodeV2": code,
                "city": None,
                "province": None,
                "provinceCode": None,
                "zip": None,
                "phone": None,
            },
            "_num": numeric,
            "_metafields": {},
        }
        self.customers[numeric] = customer
        return customer

    def _order(
        self,
        customer: dict[str, Any],
        total: str,
        currency: str,
        status: str,
        at: datetime,
        updated: datetime,
    ) -> dict[str, Any]:
        numeric = self._id("order")
        self._order_number += 1
        money = {"amount": total, "currencyCode": currency}
        order = {
            "id": f"gid://shopify/Order/{numeric}",
            "legacyResourceId": str(numeric),
            "name": f"#{self._order_number}",
            "email": (customer.get("defaultEmailAddress") or {}).get("emailAddress"),
            "phone": (customer.get("defaultPhoneNumber") or {}).get("phoneNumber"),
            "createdAt": stamp(at),
            "processedAt": stamp(at),
            "updatedAt": stamp(updated),
            "cancelledAt": None,
            "closedAt": None,
            "displayFinancialStatus": status,
            "currencyCode": currency,
            "test": False,
            "totalPriceSet": {"shopMoney": money, "presentmentMoney": dict(money)},
            "currentTotalPriceSet": _current_total(money, status),
            "_num": numeric,
            "_customer": customer["_num"],
        }
        self.orders[numeric] = order
        return order

    # --- the control surface (SandboxControl) -------------------------------------------------------
    def settings(self, transport: bool = True) -> ConnectorSettings:
        return ConnectorSettings(
            credentials={"shopify_access_token": self.token},
            options={"shop": self.shop},
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
                    order["currentTotalPriceSet"] = _current_total(
                        order["totalPriceSet"]["shopMoney"], order["displayFinancialStatus"]
                    )
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
                customer = self._customer(
                    numeric=self._id("customer"),
                    first=_FIRST_NAMES[k % len(_FIRST_NAMES)],
                    last=f"Newperson{k}",
                    email=f"new{k}@example.com",
                    phone=f"+44208{k % 10**7:07d}",
                    country="GB",
                    created=moment,
                    updated=moment,
                )
                order = self._order(customer, f"{10 + k % 90}.{k % 100:02d}", "GBP", "PAID", moment, moment)
                keys |= {f"customer:{customer['_num']}", f"order:{order['_num']}"}
        return keys

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
        prepared = self._prepare(request)
        if prepared.answer is not None or prepared.requested > docs.MAX_QUERY_COST:
            return None
        if not self.bucket.take(prepared.requested):
            # Shopify answers an empty bucket with HTTP 200 and a THROTTLED error, not a 429.
            body = {
                "errors": [
                    {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": _RATE_DOCS}}
                ],
                "extensions": {"cost": self._cost(prepared.requested, None)},
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
            return self._serve_bulk_file(int(match.group(1)), request)
        if request.url.path != docs.GRAPHQL_PATH:
            return json_response(404, {"errors": "Not Found"}, self._headers())
        if request.method != "POST":
            return json_response(405, {"errors": "Method Not Allowed"}, self._headers())
        prepared = self._prepare(request)
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
            body = {"errors": [error], "extensions": {"cost": self._cost(prepared.requested, None)}}
            return json_response(200, body, self._headers())
        operation = prepared.operation
        assert operation is not None
        try:
            with self.lock:
                data, actual = self._execute(operation, prepared, request)
        except GraphQLFailureError as failure:
            self._settle(prepared, 0)
            return json_response(
                200, {"errors": failure.errors, **self._extensions(prepared, 0)}, self._headers()
            )
        self._settle(prepared, actual)
        return json_response(200, {"data": data, **self._extensions(prepared, actual)}, self._headers())

    # --- request plumbing ---------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"X-Shopify-API-Version": docs.API_VERSION, "X-Request-Id": str(uuid.uuid4())}

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": self.bucket.status(),
        }

    def _extensions(self, prepared: _Prepared, actual: int) -> dict[str, Any]:
        return {"extensions": {"cost": self._cost(prepared.requested, actual)}}

    def _settle(self, prepared: _Prepared, actual: int) -> None:
        if prepared.reserved and not prepared.settled:
            self.bucket.refund(max(0.0, prepared.reserved - actual))
            prepared.settled = True
            with self.lock:
                self.cost_log.append((prepared.requested, actual))

    def _prepare(self, request: httpx.Request) -> _Prepared:
        cached = request.extensions.get("shopify_sandbox")
        if isinstance(cached, _Prepared):
            return cached
        prepared = _Prepared()
        request.extensions["shopify_sandbox"] = prepared
        content_type = request.headers.get("content-type", "")
        try:
            variables: dict[str, Any] = {}
            name: Any = None
            query: Any
            if content_type.startswith("application/graphql"):
                query = request.content.decode()
            else:
                body = json.loads(request.content or b"null")
                if not isinstance(body, dict):
                    raise ValueError("not an object")
                query, variables, name = (
                    body.get("query"),
                    body.get("variables") or {},
                    body.get("operationName"),
                )
            if not isinstance(query, str) or not query.strip() or not isinstance(variables, dict):
                raise ValueError("no query")
        except (ValueError, UnicodeDecodeError):
            prepared.answer = json_response(
                400, {"errors": {"query": "Required parameter missing or invalid"}}, self._headers()
            )
            return prepared
        try:
            document = parse(query)
            operation = document.operation(name if isinstance(name, str) else None)
        except GraphQLSyntaxError as exc:
            error = {"message": exc.message, "locations": [{"line": exc.line, "column": exc.column}]}
            prepared.answer = json_response(200, {"errors": [error]}, self._headers())
            return prepared
        prepared.operation, prepared.fragments = operation, document.fragments
        prepared.variables = {**operation.variable_defaults, **variables}
        root = "Mutation" if operation.kind == "mutation" else "QueryRoot"
        errors: list[dict[str, Any]] = []
        cost = self._static_cost(root, operation.selections, prepared, errors, bulk=False)
        if errors:
            prepared.answer = json_response(200, {"errors": errors}, self._headers())
            return prepared
        prepared.requested = cost
        return prepared

    # --- validation and requested cost ---------------------------------------------------------------
    def _static_cost(
        self,
        type_name: str,
        selections: list[Any],
        prepared: _Prepared,
        errors: list[dict[str, Any]],
        *,
        bulk: bool,
    ) -> int:
        total = 0
        for node in expand(selections, type_name, prepared.fragments):
            if node.name == "__typename":
                continue
            kind = TYPES[type_name].get(node.name)
            if kind is None:
                errors.append(
                    _error(
                        f"Field '{node.name}' doesn't exist on type '{type_name}'",
                        "undefinedField",
                        node,
                        typeName=type_name,
                        fieldName=node.name,
                    )
                )
                continue
            shape, target = kind
            if shape == "scalar":
                if node.selections:
                    errors.append(
                        _error(
                            f"Selections can't be made on scalars (field '{node.name}')",
                            "selectionMismatch",
                            node,
                        )
                    )
                continue
            assert target is not None
            if not node.selections:
                errors.append(
                    _error(
                        f"Field must have selections (field '{node.name}' returns {target} "
                        "but has no selections)",
                        "selectionMismatch",
                        node,
                    )
                )
                continue
            if shape == "connection":
                total += self._connection_cost(node, target, prepared, errors, bulk=bulk)
            else:
                inner = self._static_cost(target, node.selections, prepared, errors, bulk=bulk)
                total += docs.MUTATION_COST if type_name == "Mutation" else 1 + inner
        return total

    def _connection_cost(
        self, node: Field, target: str, prepared: _Prepared, errors: list[dict[str, Any]], *, bulk: bool
    ) -> int:
        args = {k: resolve_value(v, prepared.variables) for k, v in node.arguments.items()}
        size = args.get("first") if args.get("first") is not None else args.get("last")
        if not bulk:
            if size is None:
                errors.append(
                    _error("you must provide one of first or last", "argumentLiteralsIncompatible", node)
                )
                size = 0
            elif not isinstance(size, int) or size < 0 or size > docs.MAX_PAGE_SIZE:
                errors.append(
                    _error(
                        f"The first/last argument of {node.name} must be between 0 and "
                        f"{docs.MAX_PAGE_SIZE} (got {size})",
                        "argumentLiteralsIncompatible",
                        node,
                    )
                )
                size = 0
        node_cost = 0
        for part in expand(node.selections or [], "Connection", prepared.fragments):
            if part.name == "nodes" and part.selections:
                node_cost = max(
                    node_cost, 1 + self._static_cost(target, part.selections, prepared, errors, bulk=bulk)
                )
            elif part.name == "edges" and part.selections:
                for edge_part in expand(part.selections, "Edge", prepared.fragments):
                    if edge_part.name == "node" and edge_part.selections:
                        inner = self._static_cost(target, edge_part.selections, prepared, errors, bulk=bulk)
                        node_cost = max(node_cost, 1 + inner)
                    elif edge_part.name not in ("cursor", "__typename"):
                        errors.append(
                            _error(
                                f"Field '{edge_part.name}' doesn't exist on type '{target}Edge'",
                                "undefinedField",
                                edge_part,
                            )
                        )
            elif part.name == "pageInfo" and part.selections:
                self._static_cost("PageInfo", part.selections, prepared, errors, bulk=bulk)
            elif part.name != "__typename":
                errors.append(
                    _error(
                        f"Field '{part.name}' doesn't exist on type '{target}Connection'",
                        "undefinedField",
                        part,
                    )
                )
        return 2 + (size if isinstance(size, int) else 0) * node_cost

    # --- execution ----------------------------------------------------------------------------------
    def _execute(
        self, operation: Operation, prepared: _Prepared, request: httpx.Request
    ) -> tuple[dict[str, Any], int]:
        root = "Mutation" if operation.kind == "mutation" else "QueryRoot"
        data: dict[str, Any] = {}
        actual = 0
        for node in expand(operation.selections, root, prepared.fragments):
            if node.name == "__typename":
                data[node.key] = root
                continue
            args = {k: resolve_value(v, prepared.variables) for k, v in node.arguments.items()}
            value = self._resolve_root(node, args, request)
            shape, target = TYPES[root][node.name]
            assert target is not None
            projected, cost = self._project_field(shape, target, value, node, prepared)
            data[node.key] = projected
            actual += docs.MUTATION_COST if root == "Mutation" else cost
        return data, actual

    def _project_field(
        self, shape: str, target: str, value: Any, node: Field, prepared: _Prepared
    ) -> tuple[Any, int]:
        if value is None:
            return None, 0
        if shape == "connection":
            return self._project_connection(target, value, node, prepared)
        if shape == "list":
            out, cost = [], 1
            for item in value:
                projected, inner = self._project(target, item, node.selections or [], prepared)
                out.append(projected)
                cost += inner
            return out, cost
        projected, inner = self._project(target, value, node.selections or [], prepared)
        return projected, 1 + inner

    def _project(
        self, type_name: str, obj: dict[str, Any], selections: list[Any], prepared: _Prepared
    ) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        cost = 0
        for node in expand(selections, type_name, prepared.fragments):
            if node.name == "__typename":
                out[node.key] = type_name
                continue
            shape, target = TYPES[type_name][node.name]
            value = self._field_value(type_name, obj, node, prepared)
            if shape == "scalar":
                out[node.key] = value
                continue
            assert target is not None
            out[node.key], inner = self._project_field(shape, target, value, node, prepared)
            cost += inner
        return out, cost

    def _project_connection(
        self, target: str, page: _Page, node: Field, prepared: _Prepared
    ) -> tuple[dict[str, Any], int]:
        out: dict[str, Any] = {}
        cost = 2
        counted = False
        for part in expand(node.selections or [], "Connection", prepared.fragments):
            if part.name == "nodes":
                projected = [
                    self._project(target, item, part.selections or [], prepared) for item in page.items
                ]
                out[part.key] = [p for p, _ in projected]
                if not counted:
                    cost += sum(1 + c for _, c in projected)
                    counted = True
            elif part.name == "edges":
                edges = []
                edge_cost = 0
                for item, cursor in zip(page.items, page.cursors, strict=True):
                    edge: dict[str, Any] = {}
                    for edge_part in expand(part.selections or [], "Edge", prepared.fragments):
                        if edge_part.name == "cursor":
                            edge[edge_part.key] = cursor
                        elif edge_part.name == "node":
                            edge[edge_part.key], inner = self._project(
                                target, item, edge_part.selections or [], prepared
                            )
                            edge_cost += 1 + inner
                        elif edge_part.name == "__typename":
                            edge[edge_part.key] = f"{target}Edge"
                    edges.append(edge)
                out[part.key] = edges
                if not counted:
                    cost += edge_cost
                    counted = True
            elif part.name == "pageInfo":
                info = {
                    "hasNextPage": page.has_next,
                    "hasPreviousPage": page.has_previous,
                    "startCursor": page.cursors[0] if page.cursors else None,
                    "endCursor": page.cursors[-1] if page.cursors else None,
                }
                out[part.key], _ = self._project("PageInfo", info, part.selections or [], prepared)
            elif part.name == "__typename":
                out[part.key] = f"{target}Connection"
        return out, cost

    def _field_value(self, type_name: str, obj: dict[str, Any], node: Field, prepared: _Prepared) -> Any:
        args = {k: resolve_value(v, prepared.variables) for k, v in node.arguments.items()}
        if type_name == "Customer":
            if node.name == "displayName":
                return " ".join(p for p in (obj.get("firstName"), obj.get("lastName")) if p) or "Unnamed"
            if node.name in ("email", "phone"):
                holder = (
                    obj.get("defaultEmailAddress" if node.name == "email" else "defaultPhoneNumber") or {}
                )
                return holder.get("emailAddress" if node.name == "email" else "phoneNumber")
            if node.name == "emailMarketingConsent":
                address = obj.get("defaultEmailAddress")
                if not address:
                    return None
                return {
                    "marketingState": address["marketingState"],
                    "consentUpdatedAt": address["marketingUpdatedAt"],
                    "marketingOptInLevel": address["marketingOptInLevel"],
                }
            if node.name == "numberOfOrders":
                return str(sum(1 for o in self.orders.values() if o.get("_customer") == obj["_num"]))
            if node.name == "amountSpent":
                return {"amount": "0.0", "currencyCode": "GBP"}
            if node.name == "metafield":
                return obj["_metafields"].get((args.get("namespace") or "$app", args.get("key")))
            if node.name == "metafields":
                items = [
                    m
                    for (ns, _), m in sorted(obj["_metafields"].items())
                    if args.get("namespace") in (None, ns)
                ]
                return self._page(
                    items, args, node, key=lambda m: (0, _num(m["id"])), capped=not prepared.bulk
                )
            if node.name == "orders":
                items = [o for o in self.orders.values() if o.get("_customer") == obj["_num"]]
                return self._page_objects(items, args, node, "orders", capped=not prepared.bulk)
        if type_name == "Order" and node.name == "customer":
            return self.customers.get(obj.get("_customer") or -1)
        if type_name == "Order" and node.name == "lineItems":
            return self._page(
                store.line_items(obj), args, node, key=lambda i: (0, i["_num"]), capped=not prepared.bulk
            )
        return obj.get(node.name)

    # --- root fields --------------------------------------------------------------------------------
    def _resolve_root(self, node: Field, args: dict[str, Any], request: httpx.Request) -> Any:
        name = node.name
        if name == "customers":
            return self._page_objects(list(self.customers.values()), args, node, "customers")
        if name == "orders":
            return self._page_objects(list(self.orders.values()), args, node, "orders")
        if name in ("customersCount", "ordersCount"):
            objects = self.customers if name == "customersCount" else self.orders
            keep, _ = self._filter(args.get("query"), "customers" if name == "customersCount" else "orders")
            total = sum(1 for obj in objects.values() if keep(obj))
            limit = args.get("limit", 10_000)
            if isinstance(limit, int) and total > limit:
                return {"count": limit, "precision": "AT_LEAST"}
            return {"count": total, "precision": "EXACT"}
        if name == "customer":
            return self.customers.get(_num(args.get("id")))
        if name == "order":
            return self.orders.get(_num(args.get("id")))
        if name in ("bulkOperation", "currentBulkOperation"):
            if name == "currentBulkOperation":
                operation = max(self.bulk_operations.values(), key=lambda o: o["_num"], default=None)
            else:
                operation = self.bulk_operations.get(_num(args.get("id")))
            return self._advance_bulk(operation, request) if operation else None
        if name == "metafieldDefinitions":
            items = [
                d
                for (ns, _), d in sorted(self.definitions.items())
                if d["ownerType"] == args.get("ownerType") and args.get("namespace") in (None, ns)
            ]
            return self._page(items, args, node, key=lambda d: (0, _num(d["id"])))
        if name == "bulkOperationRunQuery":
            return self._bulk_run(args)
        if name == "metafieldsSet":
            return self._metafields_set(args, node)
        if name == "metafieldDefinitionCreate":
            return self._definition_create(args)
        if name == "customerRequestDataErasure":
            return self._erase(args)
        if name == "shop":
            return store.shop(self)
        if name == "customerUpdate":
            values = dict(args.get("input") or {})
            customer = self.customers.get(_num(values.get("id")))
            return store.customer_update(self, customer, values, node, stamp(self.clock.now()))
        if name == "customerCreate":
            return store.customer_create(self, dict(args.get("input") or {}), node)
        raise GraphQLFailureError(
            [_error(f"Field '{name}' is not served by the sandbox", "undefinedField", node)]
        )

    def _filter(self, query: Any, kind: str) -> tuple[Callable[[dict[str, Any]], bool], list[str]]:
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

    def _page_objects(
        self,
        objects: list[dict[str, Any]],
        args: dict[str, Any],
        node: Field,
        kind: str,
        *,
        capped: bool = True,
    ) -> _Page:
        keep, _ignored = self._filter(args.get("query"), kind)
        sort_key = str(args.get("sortKey") or ("ID" if kind == "customers" else "PROCESSED_AT"))
        column = {"UPDATED_AT": "updatedAt", "CREATED_AT": "createdAt", "PROCESSED_AT": "processedAt"}.get(
            sort_key
        )
        items = [o for o in objects if keep(o)]

        def key(obj: dict[str, Any]) -> tuple[Any, int]:
            return (obj.get(column) or "") if column else 0, obj["_num"]

        return self._page(items, args, node, key=key, capped=capped)

    def _page(
        self,
        items: list[dict[str, Any]],
        args: dict[str, Any],
        node: Field,
        *,
        key: Callable[[dict[str, Any]], Any],
        capped: bool = True,
    ) -> _Page:
        # Cursors carry the last item's sort value and id, as Shopify's do, so a page boundary stays put
        # while records change; cursor paging stops at ``page_cap`` objects (bulk exports do not).
        cap = self.page_cap if capped else len(items) + 1
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

    # --- bulk operations ----------------------------------------------------------------------------
    def _bulk_run(self, args: dict[str, Any]) -> dict[str, Any]:
        query = args.get("query")
        running = [o for o in self.bulk_operations.values() if o["status"] in ("CREATED", "RUNNING")]
        if len(running) >= 5:
            # 2026-01 and later allow five bulk queries at a time per shop.
            error = {
                "field": None,
                "message": "A bulk query operation limit of 5 has been reached.",
                "code": "LIMIT_REACHED",
            }
            return {"bulkOperation": None, "userErrors": [error]}
        try:
            document = parse(str(query))
            operation = document.operation()
            roots = expand(operation.selections, "QueryRoot", document.fragments)
            if len(roots) != 1 or TYPES["QueryRoot"].get(roots[0].name, _S)[0] != "connection":
                raise GraphQLSyntaxError(
                    "Bulk queries must contain exactly one top-level connection field", 1, 1
                )
            prepared = _Prepared(operation=operation, fragments=document.fragments, bulk=True)
            errors: list[dict[str, Any]] = []
            self._static_cost("QueryRoot", operation.selections, prepared, errors, bulk=True)
            if errors:
                raise GraphQLSyntaxError(str(errors[0]["message"]), 1, 1)
        except GraphQLSyntaxError as exc:
            return {
                "bulkOperation": None,
                "userErrors": [
                    {"field": ["query"], "message": f"Invalid bulk query: {exc.message}", "code": "INVALID"}
                ],
            }
        root = roots[0]
        target = TYPES["QueryRoot"][root.name][1]
        assert target is not None
        root_args = {k: resolve_value(v, {}) for k, v in root.arguments.items()}
        everything = list((self.customers if root.name == "customers" else self.orders).values())
        page = self._page_objects(everything, {**root_args, "first": None}, root, root.name, capped=False)
        lines: list[dict[str, Any]] = []
        self._bulk_lines(target, page.items, _node_selections(root, prepared), prepared, None, lines)
        numeric = self._id("misc")
        now = self.clock.now()
        operation_record = {
            "id": f"gid://shopify/BulkOperation/{numeric}",
            "status": "CREATED",
            "errorCode": None,
            "createdAt": stamp(now),
            "completedAt": None,
            "objectCount": "0",
            "rootObjectCount": "0",
            "fileSize": None,
            "url": None,
            "partialDataUrl": None,
            "query": str(query),
            "type": "QUERY",
            "_num": numeric,
            "_polls": 0,
            "_lines": lines,
            "_roots": len(page.items),
        }
        self.bulk_operations[numeric] = operation_record
        return {"bulkOperation": operation_record, "userErrors": []}

    def _bulk_lines(
        self,
        type_name: str,
        items: list[dict[str, Any]],
        selections: list[Any],
        prepared: _Prepared,
        parent: str | None,
        lines: list[dict[str, Any]],
    ) -> None:
        # Each node is a line; a nested connection's nodes become lines of their own, after their
        # parent, pointing back with __parentId (https://shopify.dev/docs/api/usage/bulk-operations/queries).
        fields = expand(selections, type_name, prepared.fragments)
        flat = [f for f in fields if TYPES[type_name].get(f.name, _S)[0] != "connection"]
        nested = [f for f in fields if TYPES[type_name].get(f.name, _S)[0] == "connection"]
        for item in items:
            line, _ = self._project(type_name, item, list(flat), prepared)
            if parent is not None:
                line["__parentId"] = parent
            lines.append(line)
            for connection in nested:
                target = TYPES[type_name][connection.name][1]
                assert target is not None
                page = self._field_value(type_name, item, connection, prepared)
                children = page.items if isinstance(page, _Page) else []
                self._bulk_lines(
                    target, children, _node_selections(connection, prepared), prepared, item["id"], lines
                )

    def _advance_bulk(self, operation: dict[str, Any], request: httpx.Request) -> dict[str, Any]:
        if operation["status"] in ("CREATED", "RUNNING"):
            operation["_polls"] += 1
            operation["status"] = "RUNNING"
            if operation["_polls"] >= self.bulk_polls:
                lines = operation["_lines"]
                content = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
                operation["status"] = "COMPLETED"
                operation["completedAt"] = stamp(self.clock.now())
                operation["objectCount"] = str(len(lines))
                operation["rootObjectCount"] = str(operation["_roots"])
                operation["fileSize"] = str(len(content.encode()))
                operation["url"] = self._bulk_url(operation["_num"], request) if lines else None
        return operation

    def _signature(self, numeric: int) -> str:
        return hmac.new(self.token.encode(), str(numeric).encode(), hashlib.sha256).hexdigest()[:32]

    def _bulk_url(self, numeric: int, request: httpx.Request) -> str:
        signature = self._signature(numeric)
        host = request.url.host
        if host.endswith(".myshopify.com"):
            # In-process: the file lives on Shopify's storage host, as in production.
            return f"https://storage.googleapis.com/profilesync-sandbox-bulk/{self.shop}/{numeric}.jsonl?X-Goog-Signature={signature}"
        port = f":{request.url.port}" if request.url.port else ""
        return (
            f"{request.url.scheme}://{host}{port}/bulk-results/{numeric}.jsonl?X-Goog-Signature={signature}"
        )

    def _serve_bulk_file(self, numeric: int, request: httpx.Request) -> httpx.Response:
        operation = self.bulk_operations.get(numeric)
        signature = request.url.params.get("X-Goog-Signature", "")
        if (
            operation is None
            or operation["status"] != "COMPLETED"
            or not hmac.compare_digest(signature, self._signature(numeric))
        ):
            body = (
                b"<?xml version='1.0' encoding='UTF-8'?>"
                b"<Error><Code>AccessDenied</Code><Message>Access denied.</Message></Error>"
            )
            return httpx.Response(
                403, content=body, headers={"content-type": "application/xml; charset=UTF-8"}
            )
        content = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in operation["_lines"])
        return httpx.Response(200, content=content.encode(), headers={"content-type": "application/jsonl"})

    # --- mutations ----------------------------------------------------------------------------------
    def _metafields_set(self, args: dict[str, Any], node: Field) -> dict[str, Any]:
        inputs = args.get("metafields") or []
        if len(inputs) > docs.METAFIELDS_PER_CALL:
            raise GraphQLFailureError(
                [
                    _error(
                        f"The input array size of {len(inputs)} is greater than the maximum allowed of "
                        f"{docs.METAFIELDS_PER_CALL}.",
                        "MAX_INPUT_SIZE_EXCEEDED",
                        node,
                    )
                ]
            )
        errors: list[dict[str, Any]] = []
        writes: list[tuple[dict[str, Any], tuple[str, str], dict[str, Any]]] = []
        for index, item in enumerate(inputs):

            def fail(what: str, message: str, code: str, i: int = index) -> None:
                errors.append(
                    {
                        "field": ["metafields", str(i), what],
                        "message": message,
                        "code": code,
                        "elementIndex": i,
                    }
                )

            owner = (
                self.customers.get(_num(item.get("ownerId")))
                if "/Customer/" in str(item.get("ownerId"))
                else None
            )
            namespace, key = item.get("namespace") or "$app", item.get("key") or ""
            value, kind = item.get("value"), item.get("type")
            definition = self.definitions.get((namespace, key))
            if owner is None:
                fail("ownerId", "Owner subject does not exist.", "INVALID")
                continue
            if not 2 <= len(key) <= 64:
                fail("key", "Key is too short or too long (2 to 64 characters).", "INVALID")
                continue
            if kind is None and definition is not None:
                kind = definition["type"]["name"]
            if kind is None:
                fail("type", "Type can't be blank.", "BLANK")
                continue
            if definition is not None and definition["type"]["name"] != kind:
                fail("type", "Type must be the same as the definition's type.", "INVALID_TYPE")
                continue
            check = _METAFIELD_VALUES.get(str(kind))
            if check is None:
                fail("type", f"Type '{kind}' is not a supported metafield type.", "INVALID_TYPE")
                continue
            if not isinstance(value, str) or not value.strip():
                fail("value", "Value can't be blank.", "BLANK")
                continue
            if not check(value):
                fail("value", f"Value must be a valid {kind}.", "INVALID_VALUE")
                continue
            writes.append((owner, (namespace, key), {"value": value, "type": kind}))
        if errors:
            return {"metafields": [], "userErrors": errors}  # atomic: nothing is saved
        now = stamp(self.clock.now())
        saved = []
        for owner, address, values in writes:
            existing = owner["_metafields"].get(address)
            metafield = existing or {
                "id": f"gid://shopify/Metafield/{self._id('misc')}",
                "namespace": address[0],
                "key": address[1],
                "ownerType": "CUSTOMER",
                "createdAt": now,
            }
            metafield.update(
                values, updatedAt=now, compareDigest=hashlib.sha256(values["value"].encode()).hexdigest()
            )
            owner["_metafields"][address] = metafield
            owner["updatedAt"] = now  # a metafield write moves the customer's updatedAt (the echo)
            saved.append(metafield)
        return {"metafields": saved, "userErrors": []}

    def _definition_create(self, args: dict[str, Any]) -> dict[str, Any]:
        definition = args.get("definition") or {}
        namespace, key = definition.get("namespace") or "$app", definition.get("key") or ""
        kind, owner = definition.get("type"), definition.get("ownerType")
        if (namespace, key) in self.definitions:
            error = {
                "field": ["definition", "key"],
                "message": f"Key is in use for {str(owner).title()} metafields on the "
                f"'{namespace}' namespace.",
                "code": "TAKEN",
                "elementIndex": None,
            }
            return {"createdDefinition": None, "userErrors": [error]}
        if kind not in _METAFIELD_VALUES:
            error = {
                "field": ["definition", "type"],
                "message": "Type is not included in the list",
                "code": "INCLUSION",
                "elementIndex": None,
            }
            return {"createdDefinition": None, "userErrors": [error]}
        created = {
            "id": f"gid://shopify/MetafieldDefinition/{self._id('misc')}",
            "name": definition.get("name") or key,
            "namespace": namespace,
            "key": key,
            "description": definition.get("description"),
            "ownerType": owner,
            "type": {"name": kind, "category": _METAFIELD_CATEGORY.get(str(kind), "TEXT")},
        }
        self.definitions[(namespace, key)] = created
        return {"createdDefinition": created, "userErrors": []}

    def _erase(self, args: dict[str, Any]) -> dict[str, Any]:
        customer = self.customers.get(_num(args.get("customerId")))
        if customer is None:
            error = {"field": ["customerId"], "message": "Customer does not exist", "code": "DOES_NOT_EXIST"}
            return {"customerId": None, "userErrors": [error]}
        # Shopify enqueues the request and later redacts the customer and their orders' personal data;
        # the sandbox does it at once.
        del self.customers[customer["_num"]]
        now = stamp(self.clock.now())
        for order in self.orders.values():
            if order.get("_customer") == customer["_num"]:
                order.update(email=None, phone=None, _customer=None, updatedAt=now)
        return {"customerId": customer["id"], "userErrors": []}


def _node_selections(connection: Field, prepared: _Prepared) -> list[Any]:
    """The selections made on a connection's nodes, whether through ``nodes`` or ``edges { node }``."""
    out: list[Any] = []
    for part in expand(connection.selections or [], "Connection", prepared.fragments):
        if part.name == "nodes":
            out.extend(part.selections or [])
        elif part.name == "edges":
            for edge_part in expand(part.selections or [], "Edge", prepared.fragments):
                if edge_part.name == "node":
                    out.extend(edge_part.selections or [])
    return out


def _email_key(value: Any) -> str | None:
    """An email as profilesync compares it (case, spaces and IDN spelling aside)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return normalise_email(value)
    except NormalisationError:
        return value.strip().casefold()


def _num(value: Any) -> int:
    """The numeric id of a GID (or -1 when it is not one)."""
    text = str(value or "")
    tail = text.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _current_total(money: dict[str, Any], status: str) -> dict[str, Any]:
    """``currentTotalPriceSet`` of an order of ``money`` in this financial status: the total after
    refunds (nothing left of a refunded order, three quarters of a partially refunded one here)."""
    total = Decimal(str(money["amount"]))
    kept = (
        Decimal("0.00")
        if status == "REFUNDED"
        else (total * 3 / 4).quantize(Decimal("0.01"))
        if status == "PARTIALLY_REFUNDED"
        else total
    )
    current = {"amount": f"{kept:.2f}", "currencyCode": money["currencyCode"]}
    return {"shopMoney": current, "presentmentMoney": dict(current)}


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
