"""A fake of Stripe's customers, charges and events API, seeded from the population's shop records.

Objects are shaped after Stripe's own examples (``specs/stripe-fixtures3.json.gz``, ``resources.
customer`` and ``resources.charge``). Reproduced: bearer auth (401 ``invalid_request_error``, the key
masked), list objects (``object: "list"``, ``data``, ``has_more``, ``url``), newest first, ``limit``
1-100 (default 10), ``starting_after`` (400 ``resource_missing`` for an unknown id), ``created[gte]``,
``email`` (exact, case-sensitive) on customers, ``type`` (with ``*``) or ``types[]`` on events, and
events kept 30 days when ``event_retention`` is set (``_sandbox_events``); events stamped by Stripe's
clock, never before their object's creation or previous event; ``POST /v1/customers/{id}``
merging ``metadata[...]`` from the form body and emitting ``customer.updated``;
``DELETE /v1/customers/{id}`` answering ``{"id", "object": "customer", "deleted": true}``; errors
``{"error": {"type", "code", "message", "param"}}``; test-mode read limit 25 requests/s (429
``rate_limit``).

Redaction jobs (``_sandbox_redaction``): created over customers and charges, validated, run; they
replace the personal fields of the objects and their events' copies with ``[redacted]``.

Also, for the stripe SDK's common calls: ``customers.create``, full ``customers.update`` and
``customers.search`` (``_sandbox_customers``), ``expand[]`` (``_sandbox_expand``), ``GET
/v1/charges/{id}`` and ``customer`` on the charges list, and a deleted customer retrieved as
``{"id", "object": "customer", "deleted": true}`` with 200. Seeded addresses carry ISO country codes.

Charge writes (``_sandbox_charges``): ``POST /v1/charges`` (``capture=false`` for an authorisation
only; a bank account ``source`` for a pending debit), ``POST /v1/charges/{id}/capture``,
``expire_charges`` (a control: Stripe expires an authorisation by its clock) and ``settle_charges``
(a control: the bank settles or fails a pending debit), each with its event.

Simplifications: seeded emails are trimmed and lower-cased; charges are all card charges with the
fixture's payment details; events carry only ``customer.created``, ``customer.updated``,
``customer.deleted``, ``charge.succeeded`` (a charge made through the API, or a debit settled),
``charge.pending``, ``charge.failed``, ``charge.captured``, ``charge.expired`` and
``charge.refunded``; other query parameters are ignored rather than rejected.

Where each part lives: the fixtures, new customers and charges, and seeding in ``_sandbox_objects``;
error bodies and list objects in ``_sandbox_wire``; the rest as named above.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import parse_qsl

import httpx

from connectors._sandbox import Faults, SlidingWindow, VendorSandbox, holdings_text, json_response
from core.connector import ConnectorSettings
from core.errors import NormalisationError
from core.normalise import normalise_email

from . import _sandbox_charges as charge_api
from . import _sandbox_customers as customer_api
from . import _sandbox_events as events
from . import _sandbox_expand as expansion
from . import _sandbox_objects as objects
from . import _sandbox_redaction as redaction
from . import _sandbox_wire as wire
from ._declaration import CREDENTIAL, DEFAULT_REQUESTS_PER_SECOND, METADATA_PREFIX, PAGE_OPTION, RATE_OPTION
from ._sandbox_objects import FIXTURES, WALK_IN
from ._sandbox_wire import MAX_LIMIT, error

DEFAULT_TOKEN: Final = "sk_test_51Sandbox0123456789abcdefABCDEF"
_NAMES: Final = ("Moreau", "Keller", "Adeyemi", "Lindqvist", "Okonkwo", "Barros", "Hale")


class StripeSandbox(VendorSandbox):
    """One Stripe account (test mode) in memory."""

    name = "stripe"

    def __init__(
        self,
        *,
        people: int = 200,
        seed: int = 7,
        token: str | None = None,
        faults: Faults | None = None,
        requests_per_second: int = DEFAULT_REQUESTS_PER_SECOND,
        event_retention: timedelta | None = None,
        page_size: int | None = None,
    ) -> None:
        super().__init__(token=token or DEFAULT_TOKEN, seed=seed, faults=faults or Faults(seed=seed))
        self.window = SlidingWindow(requests_per_second, 1.0)
        self.requests_per_second = requests_per_second
        #: The connector's ``page_size`` option in ``settings()`` (None: its default).
        self.page_size = page_size
        #: How far back ``GET /v1/events`` goes (Stripe: 30 days, ``events.RETENTION``); None keeps
        #: every event (tests date their changes on fixed days, the clock is real time).
        self.event_retention = event_retention
        fixtures = objects.fixtures()
        self._customer_template = fixtures["customer"]
        self._charge_template = fixtures["charge"]
        self.customers: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        #: Ids of deleted customers: Stripe still answers them (``{"id", "deleted": true}``).
        self.deleted_customers: set[str] = set()
        self.jobs: dict[str, dict[str, Any]] = {}
        """Redaction jobs by id (``_sandbox_redaction``)."""
        #: Idempotency-Key -> the (status, body) first answered to it.
        self._idempotent: dict[str, tuple[int, bytes]] = {}
        self._seq = itertools.count(1)
        self._order: dict[str, int] = {}
        #: Object id -> the ``created`` of its newest event (``_event``).
        self._changed: dict[str, int] = {}
        self._touches = itertools.count()
        self._new = itertools.count(1)
        objects.seed_account(self, people, seed)

    # --- objects -----------------------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        n = next(self._seq)
        object_id = f"{prefix}_Sbx{n:010d}"
        self._order[object_id] = n
        return object_id

    def _event(self, type_: str, obj: dict[str, Any], at: datetime) -> None:
        """Record a change of ``obj`` at ``at``, by Stripe's clock: never before the object was
        created or before its previous event. Stripe stamps an event when the change happens and
        applies the changes of one object one after another, so the newest event of an object (the
        largest ``created``; on one second, the one listed first) carries the object as it is. A
        control call asking for an earlier time gets the object's latest time instead (without it,
        a customer renamed at :01 then again "at :00" kept the first name in its newest event)."""
        event_id = self._id("evt")
        created = max(int(at.timestamp()), obj.get("created", 0), self._changed.get(obj["id"], 0))
        self._changed[obj["id"]] = created
        self.events[event_id] = {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": created,
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }

    # --- VendorSandbox hooks -----------------------------------------------------------------------
    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme != "Bearer" or not key:
            return error(401, "invalid_request_error", "You did not provide an API key.")
        if key != self.token:
            return error(
                401, "invalid_request_error", "Invalid API Key provided: sk_test_********", "api_key_invalid"
            )
        return None

    def limit(self, request: httpx.Request) -> httpx.Response | None:
        wait = self.window.admit()
        return self.throttled(str(max(1, round(wait)))) if wait else None

    def throttled(self, retry_after: str | None) -> httpx.Response:
        response = error(
            429, "invalid_request_error", "Too many requests hit the API too quickly.", "rate_limit"
        )
        if retry_after is not None:
            response.headers["Retry-After"] = retry_after
        return response

    def route(self, request: httpx.Request) -> httpx.Response:
        # (Every answer says when, by the account's clock: ``Date``, from ``VendorSandbox.handle``.)
        method, parts = request.method, request.url.path.strip("/").split("/")
        params = dict(request.url.params)
        params.update(events.indexed(request.url.params.multi_items()))
        if method == "POST":
            # Stripe reads a POST's parameters from its form-encoded body, not from the query string.
            if request.content and not request.headers.get("content-type", "").startswith(
                "application/x-www-form-urlencoded"
            ):
                return error(
                    400,
                    "invalid_request_error",
                    "Invalid request: the body must be application/x-www-form-urlencoded.",
                )
            # Blank values count: an empty value unsets a field (`name=`, `metadata[key]=`).
            params = dict(parse_qsl(request.content.decode(), keep_blank_values=True))
        key = request.headers.get("Idempotency-Key") if method == "POST" else None
        with self.lock:
            if key and key in self._idempotent:
                # Stripe replays the first answer to a key for 24 hours instead of acting again.
                status, content = self._idempotent[key]
                return httpx.Response(
                    status,
                    content=content,
                    headers={"content-type": "application/json", "Idempotent-Replayed": "true"},
                )
            try:
                found = self._route(method, parts, params)
                if found is None:
                    return error(
                        404,
                        "invalid_request_error",
                        f"Unrecognized request URL ({method}: {request.url.path}).",
                    )
                if isinstance(found, httpx.Response):
                    return found
                wanted = expansion.paths(params)
                answer = json_response(
                    200, expansion.expand(found, wanted, self._resolve) if wanted else found
                )
                if key:
                    self._idempotent[key] = (200, answer.content)
                return answer
            except customer_api.SearchError as exc:
                return error(400, "invalid_request_error", str(exc), "parameter_invalid_string", exc.param)
            except expansion.ExpandError as exc:
                return error(400, "invalid_request_error", str(exc), "parameter_invalid", "expand")

    def _resolve(self, kind: str, object_id: str) -> dict[str, Any] | None:
        """The object an id names, for ``expand`` (a deleted customer as Stripe shows one)."""
        if kind == "customer":
            if object_id in self.deleted_customers:
                return {"id": object_id, "object": "customer", "deleted": True}
            return self.customers.get(object_id)
        return None

    def _route(
        self, method: str, parts: list[str], params: dict[str, str]
    ) -> httpx.Response | dict[str, Any] | None:
        """The answer to a request, as a body to expand or a finished response (under the lock)."""
        if parts[:3] == ["v1", "privacy", "redaction_jobs"]:
            return redaction.route(self, method, parts[3:], params)
        if method == "GET" and parts == ["v1", "customers"]:
            return wire.list_page(
                self._order, self.customers, "/v1/customers", params, email=params.get("email")
            )
        if method == "GET" and parts == ["v1", "customers", "search"]:
            return customer_api.search(self, params)
        if method == "POST" and parts == ["v1", "customers"]:
            refused = customer_api.check(params)
            if refused is not None:
                return error(400, "invalid_request_error", refused[0], "parameter_invalid", refused[1])
            return customer_api.create(self, params)
        if parts[:2] == ["v1", "charges"] and method == "POST":
            return charge_api.route(self, method, parts[2:], params)
        if method == "GET" and parts == ["v1", "charges"]:
            return wire.list_page(
                self._order, self.charges, "/v1/charges", params, customer=params.get("customer")
            )
        if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "charges"]:
            charge = self.charges.get(parts[2])
            if charge is None:
                return error(
                    404, "invalid_request_error", f"No such charge: '{parts[2]}'", "resource_missing", "id"
                )
            return charge
        if method == "GET" and parts == ["v1", "events"]:
            refused = events.problem(params)
            if refused is not None:
                return error(400, "invalid_request_error", refused[0], "parameter_invalid", refused[1])
            held = events.select(self.events.values(), params, self.clock.now(), self.event_retention)
            return wire.list_page(self._order, {e["id"]: e for e in held}, "/v1/events", params)
        if len(parts) == 3 and parts[:2] == ["v1", "customers"]:
            if method == "GET" and parts[2] in self.deleted_customers:
                # Stripe answers a deleted customer's id with 200 and a stub, not 404.
                return {"id": parts[2], "object": "customer", "deleted": True}
            customer = self.customers.get(parts[2])
            if customer is None:
                return error(
                    404,
                    "invalid_request_error",
                    f"No such customer: '{parts[2]}'",
                    "resource_missing",
                    "id",
                )
            if method == "POST":
                return self._update(customer, params)
            if method == "DELETE":
                self._delete_customer(parts[2], self.clock.now())
                return json_response(200, {"id": parts[2], "object": "customer", "deleted": True})
            if method == "GET":
                return customer
        return None

    def _update(self, customer: dict[str, Any], params: dict[str, str]) -> httpx.Response | dict[str, Any]:
        refused = customer_api.check(params)
        if refused is not None:
            return error(400, "invalid_request_error", refused[0], "parameter_invalid", refused[1])
        if customer_api.apply(self, customer, params):
            self._event("customer.updated", customer, self.clock.now())
        return customer

    # --- SandboxControl ----------------------------------------------------------------------------
    def settings(self, transport: bool = True) -> ConnectorSettings:
        """The key, and the account's read limit when it is not test mode's (the connector paces at
        it: a sandbox serving thousands a second is not waited for at 25)."""
        rate = self.requests_per_second
        options = {RATE_OPTION: str(rate)} if rate != DEFAULT_REQUESTS_PER_SECOND else {}
        if self.page_size is not None:
            options[PAGE_OPTION] = str(self.page_size)
        return ConnectorSettings(
            credentials={CREDENTIAL: self.token},
            options=options,
            transport=self.transport() if transport else None,
        )

    def record_keys(self) -> set[str]:
        with self.lock:
            return {f"customer:{c}" for c in self.customers} | {f"charge:{c}" for c in self.charges}

    def touch(self, keys: Iterable[str], at: datetime | None = None) -> None:
        """Rename customers (``customer.updated``) and refund charges (``charge.refunded``) at ``at``."""
        when = at or self.clock.now()
        with self.lock:
            for key in keys:
                kind, object_id = key.split(":", 1)
                if kind == "customer":
                    customer = self.customers[object_id]
                    first = (customer["name"] or "New").split(" ")[0]
                    last = _NAMES[next(self._touches) % len(_NAMES)]
                    customer["name"] = (
                        f"{first} {last}" if f"{first} {last}" != customer["name"] else f"{first} X{last}"
                    )
                    self._event("customer.updated", customer, when)
                else:
                    charge = self.charges[object_id]
                    charge.update(refunded=True, amount_refunded=charge["amount"])
                    self._event("charge.refunded", charge, when)

    def expire_charges(self, charge_ids: Iterable[str], at: datetime | None = None) -> None:
        """Let these uncaptured charges expire at ``at``, as Stripe does 7 days after authorising
        them: marked refunded, no longer capturable, ``charge.expired`` (``_sandbox_charges``)."""
        with self.lock:
            charge_api.expire(self, sorted(charge_ids), at or self.clock.now())

    def settle_charges(
        self, charge_ids: Iterable[str], at: datetime | None = None, *, succeeded: bool = True
    ) -> None:
        """The bank's answer to these pending debits at ``at``: succeeded (``charge.succeeded``) or
        failed (``charge.failed``) (``_sandbox_charges``)."""
        with self.lock:
            charge_api.settle(self, sorted(charge_ids), at or self.clock.now(), succeeded=succeeded)

    def _delete_customer(self, customer_id: str, at: datetime) -> None:
        """Delete a customer as Stripe does: gone from lists, a stub when retrieved, and a
        ``customer.deleted`` event carrying the customer as it was. Its charges stay."""
        customer = self.customers.pop(customer_id)
        self.deleted_customers.add(customer_id)
        self._event("customer.deleted", customer, at)

    def delete_records(self, keys: set[str], at: datetime | None = None) -> None:
        """Delete these customers (``customer:<id>``) at ``at``; charges cannot be deleted in Stripe."""
        when = at or self.clock.now()
        with self.lock:
            for key in sorted(keys):
                kind, _, object_id = key.partition(":")
                if kind != "customer":
                    raise ValueError(f"Stripe deletes customers only, not {kind}s")
                self._delete_customer(object_id, when)

    def add_records(self, count: int, at: datetime | None = None) -> set[str]:
        """New customers created at ``at``, each with its ``customer.created`` event, as Stripe makes."""
        when = at or self.clock.now()
        added: set[str] = set()
        with self.lock:
            for k in (next(self._new) for _ in range(count)):
                customer = objects.new_customer(self, f"new{k}@example.com", "New Person", None, None, when)
                self._event("customer.created", customer, when)
                added.add(f"customer:{customer['id']}")
        return added

    def holdings(self) -> str:
        """Every customer, charge and event (redacted objects keep their ids, as in Stripe)."""
        with self.lock:
            return holdings_text(self.customers, self.charges, self.events)

    def new_id(self, prefix: str) -> str:
        """A new object id in this account's sequence (``prj_...`` for a redaction job)."""
        return self._id(prefix)

    def holds(self, email: str) -> bool:
        with self.lock:
            return bool(self._by_email(email))

    def _by_email(self, email: str) -> list[dict[str, Any]]:
        wanted = normalise_email(email)
        found = []
        for customer in self.customers.values():
            try:
                if customer["email"] and normalise_email(customer["email"]) == wanted:
                    found.append(customer)
            except NormalisationError:
                continue
        return found

    def pushed_traits(self, email: str) -> dict[str, Any]:
        with self.lock:
            for customer in self._by_email(email):
                return {k: v for k, v in customer["metadata"].items() if k.startswith(METADATA_PREFIX)}
        return {}


def make_sandbox(
    people: int = 200, seed: int = 7, token: str | None = None, faults: Faults | None = None, **options: Any
) -> StripeSandbox:
    return StripeSandbox(people=people, seed=seed, token=token, faults=faults, **options)


__all__ = ["DEFAULT_TOKEN", "FIXTURES", "MAX_LIMIT", "WALK_IN", "StripeSandbox", "error", "make_sandbox"]
