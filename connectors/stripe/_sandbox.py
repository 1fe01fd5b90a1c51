"""A fake of Stripe's customers, charges and events API, seeded from the population's shop records.

Objects are shaped after Stripe's own examples (``specs/stripe-fixtures3.json.gz``, ``resources.
customer`` and ``resources.charge``). Reproduced: bearer auth (401 ``invalid_request_error``, the key
masked), list objects (``object: "list"``, ``data``, ``has_more``, ``url``), newest first, ``limit``
1-100 (default 10), ``starting_after`` (400 ``resource_missing`` for an unknown id), ``created[gte]``,
``email`` (exact, case-sensitive) on customers, ``type`` on events; ``POST /v1/customers/{id}``
merging ``metadata[...]`` from the form body and emitting ``customer.updated``;
``DELETE /v1/customers/{id}`` answering ``{"id", "object": "customer", "deleted": true}``; charges
by ``customer`` and by id; redaction jobs (create with ``objects[customers][i]`` /
``objects[charges][i]`` and an ``Idempotency-Key``, validating -> ready -> run -> redacting ->
succeeded, ``locked_by_other_job`` validation errors) that replace the personal fields of the
customers, the charges and their events' copies with ``[redacted]``; errors
``{"error": {"type", "code", "message", "param"}}``; test-mode read limit 25 requests/s (429
``rate_limit``).

Simplifications: seeded emails are trimmed and lower-cased; charges are all card charges with the
fixture's payment details; events carry only ``customer.updated`` and ``charge.refunded``; other
query parameters are ignored rather than rejected.
"""

from __future__ import annotations

import copy
import gzip
import itertools
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

import httpx

from connectors._sandbox import Faults, SlidingWindow, VendorSandbox, holdings_text, json_response
from connectors.sdk import parse_point
from core.connector import ConnectorSettings
from core.errors import NormalisationError
from core.normalise import normalise_email
from core.testing.population import population

from ._connector import _EXPONENTS
from ._declaration import CREDENTIAL, METADATA_PREFIX

DEFAULT_TOKEN: Final = "sk_test_51Sandbox0123456789abcdefABCDEF"
FIXTURES: Final = Path(__file__).resolve().parents[2] / "specs" / "stripe-fixtures3.json.gz"
MAX_LIMIT: Final = 100
#: When the seeded customers without email or phone were created (before the contract's changes).
WALK_IN: Final = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
_NAMES: Final = ("Moreau", "Keller", "Adeyemi", "Lindqvist", "Okonkwo", "Barros", "Hale")


def _fixtures() -> dict[str, Any]:
    resources: dict[str, Any] = json.loads(gzip.decompress(FIXTURES.read_bytes()))["resources"]
    return resources


def error(
    status: int, type_: str, message: str, code: str | None = None, param: str | None = None
) -> httpx.Response:
    body: dict[str, Any] = {"type": type_, "message": message}
    if code:
        body["code"] = code
    if param:
        body["param"] = param
    return json_response(status, {"error": body})


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
        requests_per_second: int = 25,
    ) -> None:
        super().__init__(token=token or DEFAULT_TOKEN, seed=seed, faults=faults or Faults(seed=seed))
        self.window = SlidingWindow(requests_per_second, 1.0)
        fixtures = _fixtures()
        self._customer_template = fixtures["customer"]
        self._charge_template = fixtures["charge"]
        self.customers: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self._idempotent: dict[str, str] = {}
        self._seq = itertools.count(1)
        self._order: dict[str, int] = {}
        self._touches = itertools.count()
        self._new = itertools.count(1)
        self._seed(people, seed)

    # --- objects -----------------------------------------------------------------------------------
    def _id(self, prefix: str) -> str:
        n = next(self._seq)
        object_id = f"{prefix}_Sbx{n:010d}"
        self._order[object_id] = n
        return object_id

    def _customer(
        self, email: str | None, name: str | None, phone: str | None, country: str | None, at: datetime
    ) -> dict[str, Any]:
        customer: dict[str, Any] = copy.deepcopy(self._customer_template)
        customer.update(
            id=self._id("cus"),
            email=email,
            name=name,
            phone=phone,
            created=int(at.timestamp()),
            discount=None,
            metadata={},
            invoice_prefix=f"SBX{len(self.customers):05d}"[-8:],
        )
        customer["address"] = {**customer["address"], "country": country} if country else None
        self.customers[customer["id"]] = customer
        return customer

    def _charge(self, customer: dict[str, Any], order: dict[str, Any]) -> None:
        currency = str(order["currency"]).lower()
        amount = int(Decimal(str(order["total"])).scaleb(_EXPONENTS.get(currency, 2)))
        at = parse_point(str(order["created_at"])) or self.clock.now()
        charge = copy.deepcopy(self._charge_template)
        refunded = order.get("status") == "refunded"
        charge_id = self._id("ch")
        charge.update(
            id=charge_id,
            amount=amount,
            amount_captured=amount,
            captured=True,
            amount_refunded=amount if refunded else 0,
            refunded=refunded,
            currency=currency,
            customer=customer["id"],
            created=int(at.timestamp()),
            receipt_email=customer["email"],
            description=None,
            status="succeeded",
            source=None,
            balance_transaction=None,
            refunds={
                "object": "list",
                "data": [],
                "has_more": False,
                "url": f"/v1/charges/{charge_id}/refunds",
            },
        )
        charge["billing_details"] = {
            **charge["billing_details"],
            "email": customer["email"],
            "name": customer["name"],
            "phone": customer["phone"],
        }
        self.charges[charge["id"]] = charge

    def _event(self, type_: str, obj: dict[str, Any], at: datetime) -> None:
        event_id = self._id("evt")
        self.events[event_id] = {
            "id": event_id,
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(at.timestamp()),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }

    def _seed(self, count: int, seed: int) -> None:
        for index, flat in population(count, seed):
            if flat.get("source") != "shop":
                continue
            at = parse_point(str(flat.get("updated_at", "")))
            if index is None or at is None:
                # A customer created by hand in the dashboard with neither email nor phone: quarantined.
                self._customer(None, "Walk-in", None, None, WALK_IN)
                continue
            name = " ".join(str(flat[k]) for k in ("first_name", "last_name") if flat.get(k)) or None
            email = str(flat.get("email") or "").strip().lower() or None
            customer = self._customer(email, name, flat.get("phone"), flat.get("country"), at)
            for order in flat.get("orders") or []:
                self._charge(customer, order)

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
        method, parts = request.method, request.url.path.strip("/").split("/")
        params = dict(request.url.params)
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
            params = dict(parse_qsl(request.content.decode()))
        with self.lock:
            if parts[:3] == ["v1", "privacy", "redaction_jobs"]:
                return self._redaction(method, parts[3:], params, request.headers.get("idempotency-key"))
            if method == "GET" and parts == ["v1", "customers"]:
                return self._list(self.customers, "/v1/customers", params, email=params.get("email"))
            if method == "GET" and parts == ["v1", "charges"]:
                return self._list(self.charges, "/v1/charges", params, customer=params.get("customer"))
            if method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "charges"]:
                charge = self.charges.get(parts[2])
                if charge is None:
                    return error(
                        404,
                        "invalid_request_error",
                        f"No such charge: '{parts[2]}'",
                        "resource_missing",
                        "id",
                    )
                return json_response(200, charge)
            if method == "GET" and parts == ["v1", "events"]:
                return self._list(self.events, "/v1/events", params, type_=params.get("type"))
            if len(parts) == 3 and parts[:2] == ["v1", "customers"]:
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
                    del self.customers[parts[2]]
                    return json_response(200, {"id": parts[2], "object": "customer", "deleted": True})
                if method == "GET":
                    return json_response(200, customer)
        return error(
            404, "invalid_request_error", f"Unrecognized request URL ({method}: {request.url.path})."
        )

    def _list(
        self,
        objects: dict[str, dict[str, Any]],
        url: str,
        params: dict[str, str],
        *,
        email: str | None = None,
        type_: str | None = None,
        customer: str | None = None,
    ) -> httpx.Response:
        limit = params.get("limit", "10")
        if not limit.isdigit() or not 1 <= int(limit) <= MAX_LIMIT:
            return error(
                400,
                "invalid_request_error",
                "Invalid integer: limit must be 1-100.",
                "parameter_invalid_integer",
                "limit",
            )
        gte = params.get("created[gte]")
        if gte is not None and not gte.isdigit():
            return error(
                400,
                "invalid_request_error",
                "Invalid integer: created[gte]",
                "parameter_invalid_integer",
                "created[gte]",
            )
        chosen = sorted(objects.values(), key=lambda o: (o["created"], self._order[o["id"]]), reverse=True)
        if gte is not None:
            chosen = [o for o in chosen if o["created"] >= int(gte)]
        if email is not None:
            chosen = [o for o in chosen if o.get("email") == email]
        if type_ is not None:
            chosen = [o for o in chosen if o["type"] == type_]
        if customer is not None:
            chosen = [o for o in chosen if o.get("customer") == customer]
        after = params.get("starting_after")
        if after is not None:
            ids = [o["id"] for o in chosen]
            if after not in ids:
                return error(
                    400,
                    "invalid_request_error",
                    f"No such object: '{after}'",
                    "resource_missing",
                    "starting_after",
                )
            chosen = chosen[ids.index(after) + 1 :]
        page = chosen[: int(limit)]
        return json_response(
            200, {"object": "list", "data": page, "has_more": len(chosen) > len(page), "url": url}
        )

    def _update(self, customer: dict[str, Any], params: dict[str, str]) -> httpx.Response:
        metadata = {
            k[len("metadata[") : -1]: v
            for k, v in params.items()
            if k.startswith("metadata[") and k.endswith("]")
        }
        if len(metadata) > 50:
            return error(
                400,
                "invalid_request_error",
                "Metadata can have at most 50 keys.",
                "parameter_invalid",
                "metadata",
            )
        merged = {k: v for k, v in {**customer["metadata"], **metadata}.items() if v != ""}
        if merged != customer["metadata"]:
            customer["metadata"] = merged
            self._event("customer.updated", customer, self.clock.now())
        return json_response(200, customer)

    # --- redaction jobs (https://docs.stripe.com/api/privacy/redaction-job) ------------------------
    def _redaction(
        self, method: str, rest: list[str], params: dict[str, str], idempotency_key: str | None
    ) -> httpx.Response:
        if method == "POST" and not rest:
            return self._create_job(params, idempotency_key)
        job = self.jobs.get(rest[0]) if rest else None
        if job is None:
            return error(404, "invalid_request_error", "No such redaction job", "resource_missing", "job")
        if method == "GET" and len(rest) == 1:
            # Stripe validates, then redacts, asynchronously: each read finds the next step done.
            if job["status"] == "validating":
                locked = [o for o in self._job_objects(job) if self._locked_by_other(o, job["id"])]
                job["_errors"] = [
                    {"code": "locked_by_other_job", "erroring_object": {"id": o}} for o in locked
                ]
                job["status"] = "failed" if locked else "ready"
            elif job["status"] == "redacting":
                job["status"] = "succeeded"
            return json_response(200, self._job_view(job))
        if method == "GET" and rest[1:] == ["validation_errors"]:
            data = [
                {"id": f"prjve_{i}", "object": "privacy.redaction_job_validation_error", **e}
                for i, e in enumerate(job["_errors"])
            ]
            return json_response(200, {"object": "list", "data": data, "has_more": False, "url": ""})
        if method == "POST" and rest[1:] == ["run"]:
            if job["status"] != "ready":
                return error(400, "invalid_request_error", f"A job in status {job['status']} cannot run.")
            job["status"] = "redacting"
            ids = set(self._job_objects(job))
            for customer_id in job["objects"]["customers"]:
                _redact(self.customers[customer_id])
            for charge_id in job["objects"]["charges"]:
                _redact(self.charges[charge_id])
            for event in self.events.values():  # redaction covers related objects: the events
                if event["data"]["object"].get("id") in ids:
                    _redact(event["data"]["object"])
            return json_response(200, self._job_view(job))
        return error(404, "invalid_request_error", f"Unrecognized request URL ({method}).")

    def _create_job(self, params: dict[str, str], idempotency_key: str | None) -> httpx.Response:
        if idempotency_key and idempotency_key in self._idempotent:
            return json_response(200, self._job_view(self.jobs[self._idempotent[idempotency_key]]))
        objects: dict[str, list[str]] = {"customers": [], "charges": []}
        for key, value in sorted(params.items(), key=lambda kv: kv[0]):
            for kind in objects:
                if key.startswith(f"objects[{kind}]"):
                    store = self.customers if kind == "customers" else self.charges
                    if value not in store:
                        return error(
                            400,
                            "invalid_request_error",
                            f"No such object: '{value}'",
                            "resource_missing",
                            key,
                        )
                    objects[kind].append(value)
        if not any(objects.values()):
            return error(
                400, "invalid_request_error", "Missing required param: objects.", "parameter_missing"
            )
        job_id = self._id("prj")
        self.jobs[job_id] = {
            "id": job_id,
            "object": "privacy.redaction_job",
            "created": int(self.clock.now().timestamp()),
            "livemode": False,
            "status": "validating",
            "validation_behavior": params.get("validation_behavior", "error"),
            "objects": objects,
            "_errors": [],
        }
        if idempotency_key:
            self._idempotent[idempotency_key] = job_id
        return json_response(200, self._job_view(self.jobs[job_id]))

    @staticmethod
    def _job_objects(job: dict[str, Any]) -> list[str]:
        return [*job["objects"]["customers"], *job["objects"]["charges"]]

    def _locked_by_other(self, object_id: str, job_id: str) -> bool:
        return any(
            other["id"] != job_id
            and other["status"] in ("validating", "ready")
            and object_id in self._job_objects(other)
            for other in self.jobs.values()
        )

    @staticmethod
    def _job_view(job: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in job.items() if not k.startswith("_")}

    # --- SandboxControl ----------------------------------------------------------------------------
    def settings(self, transport: bool = True) -> ConnectorSettings:
        return ConnectorSettings(
            credentials={CREDENTIAL: self.token}, transport=self.transport() if transport else None
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

    def add_records(self, count: int, at: datetime | None = None) -> set[str]:
        when = at or self.clock.now()
        with self.lock:
            return {
                "customer:" + self._customer(f"new{k}@example.com", "New Person", None, None, when)["id"]
                for k in (next(self._new) for _ in range(count))
            }

    def holdings(self) -> str:
        """Every customer, charge and event (redacted objects keep their ids, as in Stripe)."""
        with self.lock:
            return holdings_text(self.customers, self.charges, self.events)

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


#: What Stripe writes in place of a redacted value.
REDACTED: Final = "[redacted]"


def _redact(obj: dict[str, Any]) -> None:
    """Replace the personal data of a customer or charge (or of an event's copy of one)."""
    for name in ("email", "name", "phone", "description", "receipt_email"):
        if obj.get(name) is not None:
            obj[name] = REDACTED
    for name in ("address", "shipping"):
        if name in obj:
            obj[name] = None
    details = obj.get("billing_details")
    if isinstance(details, dict):
        obj["billing_details"] = {
            **{k: (REDACTED if details.get(k) is not None else None) for k in ("email", "name", "phone")},
            "address": None,
        }
    obj["metadata"] = {}
    obj["redaction"] = {"status": "redacted"}


def make_sandbox(
    people: int = 200, seed: int = 7, token: str | None = None, faults: Faults | None = None, **options: Any
) -> StripeSandbox:
    return StripeSandbox(people=people, seed=seed, token=token, faults=faults, **options)


__all__ = ["DEFAULT_TOKEN", "StripeSandbox", "error", "make_sandbox"]
