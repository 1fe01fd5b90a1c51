"""A faithful fake of one Salesforce org's REST API, seeded from the shared population.

What it reproduces, and from where (the facts and their pages are listed in ``_declaration``):

* OAuth 2.0 client credentials (form body or HTTP Basic; 400 ``invalid_client`` for a wrong id or
  secret), or a JWT bearer assertion signed with the connected app's certificate key (``_sandbox_jwt``:
  signature, iss, aud, exp and sub checked), at ``POST /services/oauth2/token`` (400
  ``unsupported_grant_type`` for other grants), bearer
  tokens on every API call, 401 ``INVALID_SESSION_ID`` for an unknown or expired session
  (``expire_sessions()``);
* ``/services/data/vXX.X/...`` for versions 31.0-66.0 (404 ``NOT_FOUND`` otherwise), error bodies
  ``[{"message", "errorCode", "fields"}]``, ``Sforce-Limit-Info: api-usage=N/M`` on every answer and
  403 ``REQUEST_LIMIT_EXCEEDED`` ("TotalRequests Limit exceeded.") once the day's allocation is spent;
  an injected throttle is the concurrent long-running limit (403, same code, "ConcurrentPerOrgLongTxn");
* ``query``/``queryAll`` with the SOQL subset of ``_soql`` (MALFORMED_QUERY, INVALID_FIELD,
  INVALID_TYPE as Salesforce words them), batches of 2,000 (``Sforce-Query-Options: batchSize``
  200-2,000), ``nextRecordsUrl`` locators that expire after 15 minutes unused and of which one session
  keeps 10 open (the oldest is released: 400 ``INVALID_QUERY_LOCATOR``), relationship fields
  (``Contact.Email``) with their ``attributes``, deleted records in the Recycle Bin seen by
  ``queryAll`` only;
* Bulk API 2.0 query jobs (``UploadComplete`` -> ``InProgress`` -> ``JobComplete`` over two reads),
  CSV result sets with ``Sforce-NumberOfRecords`` and ``Sforce-Locator`` (``null`` after the last);
* sObject Collections update, upsert on an external id and delete (200 records, per-record results),
  single-record get/create/update/upsert/delete, ``describe``, ``/composite`` and
  ``/tooling/composite`` (25 subrequests, one API call), and ``CustomField`` creation through the
  Tooling API (a field is usable at once: field-level security is not modelled).

Simplifications, on purpose: one user; every request costs one API call; the org's currency is one
(``multicurrency=True`` adds ``CurrencyIsoCode``); records carry the fields the connector and the
official SDK's common calls use, not every standard field.

Where each part lives: the org's limits, fields, ids and wire forms in ``_sandbox_schema``; seeding in
``_sandbox_seed``; the token endpoint in ``_sandbox_token`` (its JWT checks in ``_sandbox_jwt``); the
API's routes in ``_sandbox_routes``, ``_sandbox_records`` and ``_sandbox_queries``.
"""

from __future__ import annotations

import itertools
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

import httpx

from connectors._sandbox import Faults, VendorSandbox, holdings_text
from core.connector import ConnectorSettings

from . import _sandbox_jwt as jwt
from . import _sandbox_seed as seeding
from . import _sandbox_token as tokens
from . import _soql
from ._declaration import BATCH_OPTION, CLIENT_ID, CLIENT_SECRET, PRIVATE_KEY
from ._sandbox_schema import (
    _PREFIX,
    _SOBJECTS,
    DAILY_LIMIT,
    LOCATOR_IDLE,
    MAX_BATCH,
    MAX_COLLECTION,
    MAX_COMPOSITE,
    OPEN_LOCATORS,
    SCHEMA,
    _canonical,
    error,
    sf_id,
    stamp,
)

DEFAULT_CLIENT_ID: Final = "3MVG9sandbox.profilesync.consumer.key"
DEFAULT_SECRET: Final = "8A4BE698BCA216718ECB0B1DCA294C69732EAD9472A1790F8FED38DD2E02B5FA"
_VERSION = re.compile(r"^/services/data/v(\d+)\.0(/.*)?$")
_SURNAMES: Final = ("Moreau", "Keller", "Adeyemi", "Lindqvist", "Okonkwo", "Barros", "Hale")


class SalesforceSandbox(VendorSandbox):
    """One org's Contacts, Leads and Opportunities, seeded from the ``crm`` records of the population."""

    name = "salesforce"

    def __init__(
        self,
        *,
        people: int = 200,
        seed: int = 7,
        token: str | None = None,
        faults: Faults | None = None,
        client_id: str = DEFAULT_CLIENT_ID,
        daily_limit: int = DAILY_LIMIT,
        multicurrency: bool = False,
        bulk_threshold: int | None = None,
        batch_size: int | None = None,
        domain: str = "https://mydomainname.my.salesforce.com",
    ) -> None:
        super().__init__(token=token or DEFAULT_SECRET, seed=seed, faults=faults or Faults(seed=seed))
        self.client_id = client_id
        self.daily_limit = daily_limit
        self.api_usage = 0
        self.bulk_threshold = bulk_threshold
        #: The connector's query batch (its ``batch_size``; None: the default 2,000).
        self.batch_size = batch_size
        self.domain = domain
        self.schema = {name: list(fields) for name, fields in SCHEMA.items()}
        if multicurrency:
            self.schema["Opportunity"].append("CurrencyIsoCode")
        self.external_ids: dict[str, set[str]] = {name: set() for name in SCHEMA}
        self.objects: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in SCHEMA}
        self.sessions: set[str] = set()
        self.locators: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.created_fields: list[str] = []
        #: The user the connected app is pre-authorized for: the ``sub`` of a JWT bearer assertion.
        self.jwt_username = jwt.INTEGRATION_USER
        self._certificate: jwt.ConnectedAppCertificate | None = None
        self._counter = itertools.count(1)
        self._touches = itertools.count()
        self._new_people = itertools.count(1)
        seeding.seed_org(self, people, seed)

    # --- records -----------------------------------------------------------------------------------------
    def _new(self, sobject: str, values: dict[str, Any], at: datetime) -> dict[str, Any]:
        record = dict.fromkeys(self.schema[sobject])
        record.update(
            {
                "Id": sf_id(_PREFIX[sobject], next(self._counter)),
                "IsDeleted": False,
                "CreatedDate": at,
                "LastModifiedDate": at,
                "SystemModstamp": at,
            }
        )
        if "HasOptedOutOfEmail" in record:
            record["HasOptedOutOfEmail"] = False
        if "IsConverted" in record:
            record["IsConverted"] = False  # a checkbox: false, never null (ConvertedContactId: null)
        record.update(values)
        self._derive(sobject, record)
        self.objects[sobject][str(record["Id"])] = record
        return record

    @staticmethod
    def _derive(sobject: str, record: dict[str, Any]) -> None:
        if sobject in ("Contact", "Lead"):
            record["Name"] = (
                " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p) or None
            )
        if sobject == "Opportunity":
            stage = record.get("StageName") or ""
            record["IsClosed"] = stage.startswith("Closed")
            record["IsWon"] = stage == "Closed Won"

    def value(self, record: dict[str, Any], path: str) -> Any:
        """A field of a record, following one relationship (``Contact.Email`` through ``ContactId``)."""
        head, _, leaf = path.partition(".")
        if not leaf:
            return record.get(path)
        parent = self.objects.get(head, {}).get(record.get(f"{head}Id") or "")
        return parent.get(leaf) if parent else None

    # --- VendorSandbox hooks -----------------------------------------------------------------------------
    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        if request.url.path == "/services/oauth2/token":
            return None
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self.lock:
            known = scheme.lower() in ("bearer", "oauth") and token.strip() in self.sessions
        if not known:
            return error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        return None

    def limit(self, request: httpx.Request) -> httpx.Response | None:
        if not request.url.path.startswith("/services/data/v"):
            return None
        with self.lock:
            if self.api_usage >= self.daily_limit:
                return error(
                    403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.", self._usage_header()
                )
            self.api_usage += 1
        return None

    def throttled(self, retry_after: str | None) -> httpx.Response:
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        return error(403, "REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded.", headers)

    def _usage_header(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self.api_usage}/{self.daily_limit}"}

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = super().handle(request)
        if request.url.path.startswith("/services/data/v") and response.status_code != 401:
            with self.lock:
                response.headers.update(self._usage_header())
        return response

    def route(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path.rstrip("/") or "/", request.method
        if path == "/services/oauth2/token":
            return (
                tokens.token(self, request)
                if method == "POST"
                else error(405, "METHOD_NOT_ALLOWED", "HTTP Method 'GET' not allowed. Allowed are POST")
            )
        match = _VERSION.match(path)
        if match is None or not 31 <= int(match.group(1)) <= 66:
            return error(404, "NOT_FOUND", "The requested resource does not exist")
        version, rest = f"{match.group(1)}.0", match.group(2) or "/"
        try:
            return self._api(method, rest, request, version)
        except _soql.SoqlError as exc:
            return error(400, exc.code, exc.message)

    def _api(self, method: str, rest: str, request: httpx.Request, version: str) -> httpx.Response:
        from . import _sandbox_routes as routes

        return routes.dispatch(self, method, rest, request, version)

    # --- OAuth ---------------------------------------------------------------------------------------------
    def certificate(self) -> jwt.ConnectedAppCertificate:
        """The connected app's certificate for the JWT bearer flow (its key pair made when first asked)."""
        with self.lock:
            if self._certificate is None:
                self._certificate = jwt.ConnectedAppCertificate()
            return self._certificate

    def jwt_settings(self, transport: bool = True) -> ConnectorSettings:
        """Settings for the JWT bearer flow: the consumer key, the certificate's private key (PEM) and
        the pre-authorized user."""
        plain = self.settings(transport)
        return replace(
            plain,
            credentials={CLIENT_ID: self.client_id, PRIVATE_KEY: self.certificate().private_key_pem()},
            options={**plain.options, "auth_flow": "jwt_bearer", "username": self.jwt_username},
        )

    def expire_sessions(self) -> None:
        """End every session, as the org's timeout policy would: the next call answers 401."""
        with self.lock:
            self.sessions.clear()

    def expire_locators(self) -> None:
        """Drop every open query locator, as 15 minutes without use would."""
        with self.lock:
            self.locators.clear()

    # --- SandboxControl ----------------------------------------------------------------------------------
    def settings(self, transport: bool = True) -> ConnectorSettings:
        """The connected app's id and secret; in-process it answers for the placeholder My Domain."""
        options = {"bulk_threshold": str(self.bulk_threshold)} if self.bulk_threshold is not None else {}
        if self.batch_size is not None:
            options[BATCH_OPTION] = str(self.batch_size)
        if "CurrencyIsoCode" in self.schema["Opportunity"]:
            options["currency"] = "multi"
        return ConnectorSettings(
            credentials={CLIENT_ID: self.client_id, CLIENT_SECRET: self.token},
            options=options,
            transport=self.transport() if transport else None,
        )

    def _live(self, sobject: str) -> list[dict[str, Any]]:
        return [r for r in self.objects[sobject].values() if not r["IsDeleted"]]

    def record_keys(self) -> set[str]:
        with self.lock:
            keys = {f"contact:{r['Id']}" for r in self._live("Contact")}
            keys |= {f"lead:{r['Id']}" for r in self._live("Lead")}
            keys |= {f"opportunity:{r['Id']}" for r in self._live("Opportunity") if r["ContactId"]}
            return keys

    def touch(self, keys: Iterable[str], at: datetime | None = None) -> None:
        """Give people a new last name and opportunities a new amount, modified at ``at``."""
        when = at or self.clock.now()
        with self.lock:
            for key in keys:
                kind, _, record_id = key.partition(":")
                sobject = _SOBJECTS[kind]
                record = self.objects[sobject][record_id]
                if sobject == "Opportunity":
                    record["Amount"] = round(float(record["Amount"] or 0) + 1.0, 2)
                else:
                    record["LastName"] = next(
                        n
                        for n in (_SURNAMES[next(self._touches) % len(_SURNAMES)], *_SURNAMES)
                        if n != record["LastName"]
                    )
                    self._derive(sobject, record)
                record["LastModifiedDate"] = record["SystemModstamp"] = when

    def add_records(self, count: int, at: datetime | None = None) -> set[str]:
        """``count`` new Contacts (``new<k>@example.com``), all modified at ``at``."""
        when = at or self.clock.now()
        with self.lock:
            return {
                "contact:"
                + self._new(
                    "Contact",
                    {"Email": f"new{k}@example.com", "FirstName": "New", "LastName": "Person"},
                    when,
                )["Id"]
                for k in (next(self._new_people) for _ in range(count))
            }

    def _people(self, email: str) -> list[dict[str, Any]]:
        # Compared in canonical form: the org holds what people typed ("x@bücher.example"), a
        # profile the ASCII form ("x@xn--bcher-kva.example").
        wanted = _canonical(email)
        return [
            r
            for name in ("Contact", "Lead")
            for r in self._live(name)
            if r["Email"] and _canonical(r["Email"]) == wanted
        ]

    def holds(self, email: str) -> bool:
        with self.lock:
            return bool(self._people(email))

    def holdings(self) -> str:
        """Every live record. Deleted ones sit in the Recycle Bin (``recycle_bin``), Salesforce's own
        retention: kept 15 days, then purged (emptying it early takes the SOAP API's emptyRecycleBin)."""
        with self.lock:
            return holdings_text({name: self._live(name) for name in self.objects})

    def recycle_bin(self) -> list[dict[str, Any]]:
        """The deleted records Salesforce keeps for 15 days (``queryAll`` sees them)."""
        with self.lock:
            return [r for records in self.objects.values() for r in records.values() if r["IsDeleted"]]

    def pushed_traits(self, email: str) -> dict[str, Any]:
        with self.lock:
            found = self._people(email)
            record = found[0] if found else {}
            return {k: v for k, v in record.items() if k.startswith("ProfileSync_") and v is not None}

    def delete(self, sobject: str, record_id: str) -> bool:
        """Move a record to the Recycle Bin (``IsDeleted``, seen by ``queryAll`` only)."""
        with self.lock:
            record = self.objects[sobject].get(record_id)
            if record is None or record["IsDeleted"]:
                return False
            record["IsDeleted"] = True
            record["SystemModstamp"] = self.clock.now()
            return True

    def delete_records(self, keys: set[str], at: datetime | None = None) -> None:
        """Delete these records (``contact:<Id>``) as a user does: to the Recycle Bin, stamped ``at``."""
        when = at or self.clock.now()
        with self.lock:
            for key in keys:
                kind, _, record_id = key.partition(":")
                record = self.objects[_SOBJECTS[kind]][record_id]
                record["IsDeleted"] = True
                record["SystemModstamp"] = when

    def undelete(self, key: str, at: datetime | None = None) -> None:
        """Restore a record from the Recycle Bin (the REST API's ``undelete``): same Id, stamped ``at``."""
        kind, _, record_id = key.partition(":")
        with self.lock:
            record = self.objects[_SOBJECTS[kind]][record_id]
            record["IsDeleted"] = False
            record["SystemModstamp"] = at or self.clock.now()

    def new_id(self, sobject: str) -> str:
        return sf_id(_PREFIX[sobject], next(self._counter))


def make_sandbox(
    people: int = 200, seed: int = 7, token: str | None = None, faults: Faults | None = None, **options: Any
) -> SalesforceSandbox:
    """A seeded Salesforce org at the published allocation (see ``SalesforceSandbox``)."""
    return SalesforceSandbox(people=people, seed=seed, token=token, faults=faults, **options)


Handler = Callable[..., httpx.Response]

__all__ = [
    "DAILY_LIMIT",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_SECRET",
    "LOCATOR_IDLE",
    "MAX_BATCH",
    "MAX_COLLECTION",
    "MAX_COMPOSITE",
    "OPEN_LOCATORS",
    "SCHEMA",
    "SalesforceSandbox",
    "error",
    "make_sandbox",
    "sf_id",
    "stamp",
]
