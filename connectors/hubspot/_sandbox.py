"""A faithful in-memory fake of HubSpot's CRM v3 contacts and properties APIs.

What it mirrors (sources in ``_connector``'s docstring): private-app bearer auth and HubSpot's 401
body; the per-app limit of 100 requests per 10 seconds (configurable) with the
``X-HubSpot-RateLimit-*`` headers and HubSpot's 429 body (``policyName`` ``TEN_SECONDLY_ROLLING``); the
search limit of five requests per second, with no rate-limit headers on search responses and
``policyName`` ``SECONDLY`` when exceeded; the daily limit (250,000 on Free and Starter); list pages
of at most 100 and search pages of at most 200 (larger limits are clamped); search's 10,000-result
cap (``after`` at or past it is a 400); batch upsert by email with at most 100 inputs and 207
Multi-Status per-input errors; the properties API (groups, batch create, 409 on duplicates); and GDPR
delete, which answers 204 for an unknown email and blocklists it. Requested properties that are unset
come back as null, as HubSpot answers them. The basic and batch object endpoints (create, update,
batch read/create/update) live in ``_sandbox_objects``; request parsing and the error envelope in
``_sandbox_wire``.

Deviations, each deliberate: search is immediately consistent (HubSpot documents a delay of "a few
moments"); the list's ``after`` token is the next record id.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import random
import re
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx
import idna

from connectors._sandbox import Faults, SlidingWindow, VendorSandbox, forgotten, holdings_text, json_response
from core.connector import ConnectorSettings
from core.testing.population import population

from . import _sandbox_archive as archived
from . import _sandbox_objects as objects
from ._connector import (
    CONTACTS_PATH,
    CREDENTIAL,
    GDPR_DELETE_PATH,
    GROUPS_PATH,
    PROPERTIES_PATH,
    SEARCH_PATH,
    UPSERT_PATH,
)
from ._mapping import OBJECT_TYPE, PROPERTY_FOR_TRAIT, format_timestamp, timestamp_ms
from ._sandbox_wire import (
    _int_param,
    _invalid,
    _json_object,
    _ms_precision,
    _names,
    _not_found,
    _origin,
    _parse,
    _RejectedError,
    _Request,
    hubspot_error,
)

DEFAULT_TOKEN: Final = "pat-na1-5a1e0c3b-7d2f-4e8a-9b6c-0f1e2d3c4b5a"

LIST_MAX: Final = 100
LIST_DEFAULT: Final = 10
SEARCH_MAX: Final = 200
SEARCH_DEFAULT: Final = 10
BATCH_MAX: Final = 100
SEARCH_RESULT_CAP: Final = 10_000
MAX_FILTER_GROUPS: Final = 5
MAX_FILTERS_PER_GROUP: Final = 6
MAX_FILTERS: Final = 18

_SEARCH_DEFAULT_PROPERTIES: Final = objects.DEFAULT_PROPERTIES
_ALWAYS_RETURNED: Final = ("createdate", "hs_object_id", "lastmodifieddate")
_DATETIME_PROPERTIES: Final = frozenset({"createdate", "lastmodifieddate"})
_READ_ONLY: Final = frozenset({"createdate", "lastmodifieddate", "hs_object_id", "hs_email_optout"})
_OPERATORS: Final = frozenset(
    {
        "BETWEEN",
        "CONTAINS_TOKEN",
        "EQ",
        "GT",
        "GTE",
        "HAS_PROPERTY",
        "IN",
        "LT",
        "LTE",
        "NEQ",
        "NOT_CONTAINS_TOKEN",
        "NOT_HAS_PROPERTY",
        "NOT_IN",
    }
)
_PROPERTY_NAME: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_FIELD_TYPES: Final = frozenset(
    {
        "booleancheckbox",
        "calculation_equation",
        "checkbox",
        "date",
        "file",
        "html",
        "number",
        "phonenumber",
        "radio",
        "select",
        "text",
        "textarea",
    }
)
_TYPES: Final = frozenset({"bool", "date", "datetime", "enumeration", "number", "phone_number", "string"})

#: (name, label, type, fieldType) of the HubSpot-defined contact properties the sandbox knows.
_DEFAULT_PROPERTIES: Final = (
    ("email", "Email", "string", "text"),
    ("hs_additional_emails", "Additional email addresses", "enumeration", "checkbox"),
    ("firstname", "First Name", "string", "text"),
    ("lastname", "Last Name", "string", "text"),
    ("phone", "Phone Number", "string", "phonenumber"),
    ("mobilephone", "Mobile Phone Number", "string", "phonenumber"),
    ("company", "Company Name", "string", "text"),
    ("jobtitle", "Job Title", "string", "text"),
    ("website", "Website URL", "string", "text"),
    ("address", "Street Address", "string", "text"),
    ("city", "City", "string", "text"),
    ("state", "State/Region", "string", "text"),
    ("zip", "Postal Code", "string", "text"),
    ("country", "Country/Region", "string", "text"),
    ("lifecyclestage", "Lifecycle Stage", "enumeration", "radio"),
    ("hs_email_optout", "Unsubscribed from all email", "enumeration", "booleancheckbox"),
    ("createdate", "Create Date", "datetime", "date"),
    ("lastmodifieddate", "Last Modified Date", "datetime", "date"),
    ("hs_object_id", "Record ID", "number", "number"),
)
_DEFAULT_GROUPS: Final = (
    ("contactinformation", "Contact information"),
    ("emailinformation", "Email information"),
)
_NEW_FIRST: Final = ("ada", "bea", "cy", "dee", "eli", "fay", "gil", "hal")
_NEW_LAST: Final = ("stone", "brook", "field", "marsh", "wood", "hill")
#: Boot time of the fake portal: property and group definitions are stamped with it.
_BOOT: Final = datetime(2025, 1, 1, tzinfo=UTC)


@dataclass
class _Contact:
    id: str
    properties: dict[str, str]
    created: datetime
    updated: datetime
    updated_ms: int = 0

    def email(self) -> str | None:
        return self.properties.get("email")


def canonical_email(email: str) -> str:
    """Lower case with the domain in IDNA form, so a profile's normalised email finds HubSpot's."""
    local, at, domain = email.strip().lower().rpartition("@")
    if not at:
        return email.strip().lower()
    with contextlib.suppress(idna.IDNAError, UnicodeError):
        domain = idna.encode(domain, uts46=True).decode("ascii")
    return f"{local}@{domain}"


class HubSpotSandbox(VendorSandbox):
    """HubSpot seeded from the ``crm`` records of ``population(people, seed)``; see the module docstring.

    ``rate_limit_per_10s``, ``search_requests_per_second`` and ``daily_limit`` are the server-side
    limits (HubSpot's published ones by default); ``limit_clock`` is the monotonic clock their windows
    run on, so a test can drive both the sandbox and the client with one fake clock.
    """

    name = "hubspot"

    def __init__(
        self,
        people: int = 200,
        seed: int = 7,
        token: str | None = None,
        faults: Faults | None = None,
        *,
        rate_limit_per_10s: int = 100,
        search_requests_per_second: int = 5,
        daily_limit: int = 250_000,
        search_result_cap: int = SEARCH_RESULT_CAP,
        limit_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(token=token or DEFAULT_TOKEN, seed=seed, faults=faults)
        self.rate_limit_per_10s = rate_limit_per_10s
        self.search_requests_per_second = search_requests_per_second
        self.daily_limit = daily_limit
        self.search_result_cap = search_result_cap
        self._window = SlidingWindow(rate_limit_per_10s, 10.0, clock=limit_clock)
        self._search_window = SlidingWindow(search_requests_per_second, 1.0, clock=limit_clock)
        self._daily_used = 0
        self._rng = random.Random(f"hubspot-sandbox:{seed}")
        self._contacts: dict[str, _Contact] = {}
        #: Deleted (archived) contacts and when: listed with ``archived=true`` (``_sandbox_archive``).
        self._archived: dict[str, tuple[_Contact, datetime]] = {}
        self._sorted_ids: list[int] | None = None
        self._by_modified: list[tuple[int, int]] | None = None
        self._by_email: dict[str, str] = {}
        self._blocklist: set[str] = set()
        self._next_id = 101
        self._added = 0
        self._touches = 0
        self._groups: dict[str, dict[str, Any]] = {
            name: {"name": name, "label": label, "displayOrder": -1, "archived": False}
            for name, label in _DEFAULT_GROUPS
        }
        self._properties: dict[str, dict[str, Any]] = {
            name: self._property(
                {"name": name, "label": label, "type": kind, "fieldType": field_type},
                group="contactinformation",
                hubspot_defined=True,
            )
            for name, label, kind, field_type in _DEFAULT_PROPERTIES
        }
        self._seed(people, seed)

    # --- seeding --------------------------------------------------------------------------------------
    def _seed(self, people: int, seed: int) -> None:
        rng = self._rng
        rows: list[tuple[datetime, datetime, dict[str, str]]] = []
        for person, flat in population(people, seed, malformed_share=0.02):
            if flat.get("source") != "crm":
                continue
            try:
                updated = datetime.fromisoformat(str(flat["updated_at"]).replace("Z", "+00:00"))
            except ValueError:
                updated = datetime(2026, 2, 1, tzinfo=UTC)
            updated = _ms_precision(updated + timedelta(milliseconds=rng.randint(0, 999)))
            created = max(
                _BOOT + timedelta(days=1),
                updated - timedelta(days=rng.randint(0, 120), seconds=rng.randint(0, 86_399)),
            )
            properties: dict[str, str] = {}
            if person is None:
                # What a bad HubSpot record looks like: HubSpot refuses malformed emails, so the mess is
                # a contact with only a name, or with junk typed into the phone field.
                properties["firstname"] = str(flat.get("first_name") or "nobody")
                if rng.random() < 0.5:
                    properties["phone"] = rng.choice(["n/a", "12", "ask reception"])
            else:
                if flat.get("email"):
                    properties["email"] = str(flat["email"]).strip().lower()  # HubSpot lower-cases emails
                if flat.get("phone"):
                    properties["mobilephone" if rng.random() < 0.3 else "phone"] = str(flat["phone"])
                for source_field, prop in (("first_name", "firstname"), ("last_name", "lastname")):
                    if flat.get(source_field):
                        properties[prop] = str(flat[source_field])
                if flat.get("country"):
                    properties["country"] = str(flat["country"])
                properties["hs_email_optout"] = "true" if rng.random() < 0.08 else "false"
            rows.append((created, updated, properties))
        rows.sort(key=lambda row: row[0])
        for created, updated, properties in rows:
            self._insert(properties, created, updated, id_step=rng.randint(1, 9))

    def _insert(
        self, properties: dict[str, str], created: datetime, updated: datetime, *, id_step: int = 1
    ) -> _Contact:
        record_id = str(self._next_id)
        self._next_id += id_step
        contact = _Contact(record_id, dict(properties), created, updated)
        self._stamp(contact, created=True)
        self._contacts[record_id] = contact
        self._sorted_ids = self._by_modified = None
        email = contact.email()
        if email:
            self._by_email[email] = record_id
        return contact

    @staticmethod
    def _stamp(contact: _Contact, *, created: bool = False) -> None:
        contact.properties["lastmodifieddate"] = format_timestamp(contact.updated)
        contact.updated_ms = timestamp_ms(contact.properties["lastmodifieddate"]) or 0
        if created:
            contact.properties["createdate"] = format_timestamp(contact.created)
            contact.properties["hs_object_id"] = contact.id

    def _property(
        self, spec: Mapping[str, Any], *, group: str | None = None, hubspot_defined: bool = False
    ) -> dict[str, Any]:
        name = str(spec["name"])
        return {
            "name": name,
            "label": str(spec.get("label", name)),
            "type": str(spec["type"]),
            "fieldType": str(spec["fieldType"]),
            "groupName": group or str(spec["groupName"]),
            "description": str(spec.get("description", "")),
            "options": list(spec.get("options") or []),
            "displayOrder": int(spec.get("displayOrder", -1)),
            "hidden": bool(spec.get("hidden", False)),
            "formField": bool(spec.get("formField", False)),
            "hasUniqueValue": name == "email",
            "calculated": False,
            "externalOptions": False,
            "hubspotDefined": hubspot_defined,
            "modificationMetadata": {
                "archivable": not hubspot_defined,
                "readOnlyDefinition": hubspot_defined,
                "readOnlyValue": name in _READ_ONLY,
            },
            "createdAt": format_timestamp(_BOOT),
            "updatedAt": format_timestamp(_BOOT),
            "archived": False,
        }

    # --- control surface (connectors._sandbox.SandboxControl) -----------------------------------------
    def settings(self, transport: bool = True) -> ConnectorSettings:
        """Settings that reach this sandbox: its token, its limits as options, and its transport."""
        return ConnectorSettings(
            credentials={CREDENTIAL: self.token},
            options={
                "rate_limit_per_10s": str(self.rate_limit_per_10s),
                "search_requests_per_second": str(self.search_requests_per_second),
            },
            transport=self.transport() if transport else None,
        )

    def record_keys(self) -> set[str]:
        with self.lock:
            return {f"{OBJECT_TYPE}:{record_id}" for record_id in self._contacts}

    def touch(self, keys: set[str], at: datetime | None = None) -> None:
        """Give each contact a new job title, modified at ``at`` (default: the sandbox clock)."""
        when = _ms_precision(at or self.clock.now())
        with self.lock:
            self._touches += 1
            for key in keys:
                contact = self._contacts[key.split(":", 1)[1]]
                contact.properties["jobtitle"] = f"Touched {self._touches}"
                contact.updated = when
                self._stamp(contact)
                self._by_modified = None

    def add_records(self, count: int, at: datetime | None = None) -> set[str]:
        """Create ``count`` contacts (``new<k>@example.com``), all created and modified at ``at``."""
        when = _ms_precision(at or self.clock.now())
        keys: set[str] = set()
        with self.lock:
            for _ in range(count):
                self._added += 1
                k = self._added
                contact = self._insert(
                    {
                        "email": f"new{k}@example.com",
                        "firstname": _NEW_FIRST[k % len(_NEW_FIRST)].title(),
                        "lastname": _NEW_LAST[k % len(_NEW_LAST)].title(),
                        "hs_email_optout": "false",
                    },
                    when,
                    when,
                )
                keys.add(f"{OBJECT_TYPE}:{contact.id}")
        return keys

    def holds(self, email: str) -> bool:
        return self._find_canonical(email) is not None

    def pushed_traits(self, email: str) -> dict[str, Any]:
        """The ``profilesync_*`` properties of the contact with this email, by enriched trait name
        (a cleared property reads as ""), or {} when nothing was ever pushed to it."""
        with self.lock:
            contact = self._find_canonical(email)
            if contact is None or not any(name in contact.properties for name in PROPERTY_FOR_TRAIT.values()):
                return {}
            return {trait: contact.properties.get(name, "") for trait, name in PROPERTY_FOR_TRAIT.items()}

    def contact(self, email: str) -> dict[str, str] | None:
        """A copy of the properties of the contact with this email (tests and demos)."""
        with self.lock:
            found = self._find_canonical(email)
            return dict(found.properties) if found else None

    def holdings(self) -> str:
        """Every contact's properties, archived ones too (restorable, so held); the blocklist holds
        digests of addresses, not addresses."""
        with self.lock:
            return holdings_text(
                {c.id: c.properties for c in self._contacts.values()},
                {c.id: c.properties for c, _ in self._archived.values()},
                sorted(self._blocklist),
            )

    def delete_records(self, keys: set[str], at: datetime | None = None) -> None:
        """Delete (archive) these contacts (``contact:<id>``) at ``at``, as ``DELETE`` does."""
        with self.lock:
            for key in sorted(keys):
                archived.archive(self, key.split(":", 1)[1], at or self.clock.now())

    def restore(self, key: str, at: datetime | None = None) -> None:
        """Restore an archived contact (``contact:<id>``) with its id, modified at ``at``."""
        with self.lock:
            archived.restore(self, key.split(":", 1)[1], at or self.clock.now())

    def blocklisted(self, email: str) -> bool:
        """Whether a GDPR delete blocklisted this email."""
        with self.lock:
            return forgotten(canonical_email(email)) in self._blocklist

    def _find_canonical(self, email: str) -> _Contact | None:
        wanted = canonical_email(email)
        with self.lock:
            for contact in self._contacts.values():
                emails = [contact.email() or ""]
                emails += (contact.properties.get("hs_additional_emails") or "").split(";")
                if any(e and canonical_email(e) == wanted for e in emails):
                    return contact
        return None

    # --- the four VendorSandbox methods ---------------------------------------------------------------
    def account_budget(self) -> tuple[float, float] | None:
        return (self.rate_limit_per_10s / 10.0, float(self.rate_limit_per_10s))

    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        if request.headers.get("Authorization") == f"Bearer {self.token}":
            return None
        # The text HubSpot answers a missing or unknown private-app token with.
        return hubspot_error(
            401,
            "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
            "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            "INVALID_AUTHENTICATION",
        )

    def limit(self, request: httpx.Request) -> httpx.Response | None:
        with self.lock:
            if self._daily_used >= self.daily_limit:
                return self._rate_limited("You have reached your daily limit.", "DAILY", search=False)
            if _is_search(request):
                if self._search_window.admit() > 0:
                    return self._rate_limited(
                        "You have reached your secondly limit.", "SECONDLY", search=True
                    )
            elif self._window.admit() > 0:
                return self._rate_limited(
                    "You have reached your ten_secondly_rolling limit.", "TEN_SECONDLY_ROLLING", search=False
                )
            self._daily_used += 1
        return None

    def throttled(self, retry_after: str | None) -> httpx.Response:
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        return json_response(
            429, self._rate_limit_body("You have reached your secondly limit.", "SECONDLY"), headers
        )

    def route(self, request: httpx.Request) -> httpx.Response:
        parsed = _parse(request)
        try:
            with self.lock:
                return self._dispatch(parsed)
        except _RejectedError as rejected:
            return rejected.response

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer as HubSpot: the kit's handling, then HubSpot's envelope on injected 503s and the
        ``X-HubSpot-RateLimit-*`` headers on every authenticated non-search answer."""
        response = super().handle(request)
        if response.status_code == 503:
            response = hubspot_error(
                503, "Service Unavailable: please retry in a few seconds", "SERVICE_UNAVAILABLE"
            )
        if (
            response.status_code != 401
            and not _is_search(request)
            and "X-HubSpot-RateLimit-Max" not in response.headers
        ):
            response.headers.update(self._rate_limit_headers())
        return response

    # --- rate limits ----------------------------------------------------------------------------------
    def _rate_limit_headers(self) -> dict[str, str]:
        return {
            "X-HubSpot-RateLimit-Daily": str(self.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily_limit - self._daily_used)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(self.rate_limit_per_10s),
            "X-HubSpot-RateLimit-Remaining": str(self._window.remaining()),
        }

    @staticmethod
    def _rate_limit_body(message: str, policy: str) -> dict[str, Any]:
        # https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines (429 example);
        # ``category`` as HubSpot's error envelope has it.
        return {
            "status": "error",
            "message": message,
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
            "requestId": str(uuid.uuid4()),
            "category": "RATE_LIMITS",
        }

    def _rate_limited(self, message: str, policy: str, *, search: bool) -> httpx.Response:
        headers = {} if search else {**self._rate_limit_headers(), "X-HubSpot-RateLimit-Remaining": "0"}
        return json_response(429, self._rate_limit_body(message, policy), headers)

    # --- routing --------------------------------------------------------------------------------------
    def _dispatch(self, request: _Request) -> httpx.Response:
        method, path = request.method, request.path.rstrip("/")
        if path == CONTACTS_PATH:
            if method == "POST":
                return objects.create(self, request, _READ_ONLY)
            return self._list(request) if method == "GET" else self._method_not_allowed()
        if path in (
            f"{CONTACTS_PATH}/batch/read",
            f"{CONTACTS_PATH}/batch/create",
            f"{CONTACTS_PATH}/batch/update",
        ):
            if method != "POST":
                return self._method_not_allowed()
            if path.endswith("/read"):
                return objects.batch_read(self, request)
            write = objects.batch_create if path.endswith("/create") else objects.batch_update
            return write(self, request, _READ_ONLY)
        if path == SEARCH_PATH:
            return self._search(request) if method == "POST" else self._method_not_allowed()
        if path == UPSERT_PATH:
            return self._upsert(request) if method == "POST" else self._method_not_allowed()
        if path == GDPR_DELETE_PATH:
            return self._gdpr_delete(request) if method == "POST" else self._method_not_allowed()
        if path.startswith(CONTACTS_PATH + "/") and path.count("/") == CONTACTS_PATH.count("/") + 1:
            if method == "PATCH":
                return objects.update(self, request, path[len(CONTACTS_PATH) + 1 :], _READ_ONLY)
            if method == "DELETE":
                found = archived.archive(self, path[len(CONTACTS_PATH) + 1 :], self.clock.now())
                return httpx.Response(204) if found else _not_found()
            if method != "GET":
                return self._method_not_allowed()
            return self._get_contact(request, path[len(CONTACTS_PATH) + 1 :])
        if path == PROPERTIES_PATH:
            if method == "GET":
                return json_response(200, {"results": list(self._properties.values())})
            return self._create_property(request) if method == "POST" else self._method_not_allowed()
        if path == f"{PROPERTIES_PATH}/batch/create":
            return self._batch_create_properties(request) if method == "POST" else self._method_not_allowed()
        if path == GROUPS_PATH:
            if method == "GET":
                return json_response(200, {"results": list(self._groups.values())})
            return self._create_group(request) if method == "POST" else self._method_not_allowed()
        if path.startswith(GROUPS_PATH + "/"):
            group = self._groups.get(path[len(GROUPS_PATH) + 1 :])
            if method != "GET":
                return self._method_not_allowed()
            return json_response(200, group) if group else _not_found()
        if path.startswith(PROPERTIES_PATH + "/") and path.count("/") == PROPERTIES_PATH.count("/") + 1:
            prop = self._properties.get(path[len(PROPERTIES_PATH) + 1 :])
            if method != "GET":
                return self._method_not_allowed()
            return json_response(200, prop) if prop else _not_found()
        return _not_found()

    @staticmethod
    def _method_not_allowed() -> httpx.Response:
        return hubspot_error(405, "HTTP 405 Method Not Allowed", "VALIDATION_ERROR")

    # --- contacts: list, get --------------------------------------------------------------------------
    def _view(self, contact: _Contact, names: Iterable[str]) -> dict[str, Any]:
        wanted = dict.fromkeys([*names, *_ALWAYS_RETURNED])
        return {
            "id": contact.id,
            # A property asked for and unset is there, as null, as HubSpot answers it.
            "properties": {n: contact.properties.get(n) or None for n in sorted(wanted)},
            "createdAt": format_timestamp(contact.created),
            "updatedAt": format_timestamp(contact.updated),
            "archived": False,
        }

    def _list(self, request: _Request) -> httpx.Response:
        limit = min(LIST_MAX, _int_param(request, "limit", LIST_DEFAULT, minimum=1))
        after = _int_param(request, "after", 0, minimum=0)
        names = _names(request) or list(_SEARCH_DEFAULT_PROPERTIES)
        if (request.param("archived") or "").lower() == "true":  # the SDK sends "True"
            return archived.archived_list(self, limit, after, names, _origin(request))
        ordered = self._ordered_ids()
        start = bisect.bisect_left(ordered, after)
        page = [self._contacts[str(i)] for i in ordered[start : start + limit]]
        body: dict[str, Any] = {"results": [self._view(c, names) for c in page]}
        if start + limit < len(ordered):
            token = str(ordered[start + limit])
            body["paging"] = {
                "next": {"after": token, "link": f"{_origin(request)}{CONTACTS_PATH}?after={token}"}
            }
        return json_response(200, body)

    def _candidates(self, groups: list[list[dict[str, Any]]]) -> Iterable[_Contact]:
        """The contacts a search must look at: when every filter group bounds ``lastmodifieddate`` from
        below (what incremental pulls send), only those modified since the lowest bound, found by bisection
        in an index kept by modification time; otherwise all of them."""
        bounds: list[int] = []
        for filters in groups:
            found = [
                self._coerce("lastmodifieddate", f.get("value"))
                for f in filters
                if f.get("propertyName") == "lastmodifieddate" and f.get("operator") in ("GT", "GTE", "EQ")
            ]
            usable = [b for b in found if isinstance(b, int)]
            if not usable:
                return list(self._contacts.values())
            bounds.append(max(usable))
        if not bounds:
            return list(self._contacts.values())
        if self._by_modified is None:
            self._by_modified = sorted((c.updated_ms, int(c.id)) for c in self._contacts.values())
        start = bisect.bisect_left(self._by_modified, (min(bounds), -1))
        return [self._contacts[str(i)] for _, i in self._by_modified[start:]]

    def _ordered_ids(self) -> list[int]:
        if self._sorted_ids is None:
            self._sorted_ids = sorted(int(i) for i in self._contacts)
        return self._sorted_ids

    def _get_contact(self, request: _Request, key: str) -> httpx.Response:
        if request.param("idProperty") == "email":
            record_id = self._by_email.get(key.strip().lower())
            contact = self._contacts.get(record_id) if record_id else None
        else:
            contact = self._contacts.get(key)
        if contact is None:
            return _not_found()
        return json_response(200, self._view(contact, _names(request) or _SEARCH_DEFAULT_PROPERTIES))

    # --- contacts: search -----------------------------------------------------------------------------
    def _search(self, request: _Request) -> httpx.Response:
        body = _json_object(request)
        groups = body.get("filterGroups") or []
        if not isinstance(groups, list) or len(groups) > MAX_FILTER_GROUPS:
            raise _invalid(f"filterGroups must be a list of at most {MAX_FILTER_GROUPS} groups")
        filters_per_group: list[list[dict[str, Any]]] = []
        for group in groups:
            filters = group.get("filters") if isinstance(group, dict) else None
            if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
                raise _invalid(f"each filter group needs a list of at most {MAX_FILTERS_PER_GROUP} filters")
            for f in filters:
                if (
                    not isinstance(f, dict)
                    or not f.get("propertyName")
                    or f.get("operator") not in _OPERATORS
                ):
                    raise _invalid(f"Invalid filter: {json.dumps(f)[:200]}")
            filters_per_group.append(filters)
        if sum(len(f) for f in filters_per_group) > MAX_FILTERS:
            raise _invalid(f"at most {MAX_FILTERS} filters are allowed in a search")
        limit = body.get("limit", SEARCH_DEFAULT)
        after = body.get("after", 0)
        try:
            limit = min(SEARCH_MAX, int(limit if limit is not None else SEARCH_DEFAULT))
            offset = int(after) if after not in (None, "") else 0
        except (TypeError, ValueError):
            raise _invalid("limit and after must be whole numbers") from None
        if limit < 1 or offset < 0:
            raise _invalid("limit must be positive and after not negative")
        if offset >= self.search_result_cap:
            raise _invalid(
                f"The search endpoints are limited to {self.search_result_cap} total results for any given "
                "query; page with a narrower filter instead"
            )
        names = body.get("properties")
        wanted = (
            [str(n) for n in names] if isinstance(names, list) and names else list(_SEARCH_DEFAULT_PROPERTIES)
        )
        query = str(body.get("query") or "").strip().lower()
        groups = [[self._predicate(f) for f in fs] for fs in filters_per_group]
        matches = [
            c
            for c in self._candidates(filters_per_group)
            if (not groups or any(all(test(c) for test in tests) for tests in groups))
            and (
                not query
                or any(
                    query in (c.properties.get(p) or "").lower()
                    for p in ("email", "firstname", "lastname", "phone", "company")
                )
            )
        ]
        matches.sort(key=lambda c: int(c.id))
        sort = _first_sort(body.get("sorts"))
        if sort is not None:
            name, descending = sort
            present = [c for c in matches if self._value(c, name) is not None]
            absent = [c for c in matches if self._value(c, name) is None]
            present.sort(key=lambda c: self._value(c, name), reverse=descending)
            matches = present + absent
        end = min(offset + limit, len(matches), self.search_result_cap)
        page = matches[offset:end]
        result: dict[str, Any] = {"total": len(matches), "results": [self._view(c, wanted) for c in page]}
        if end < len(matches):
            result["paging"] = {"next": {"after": str(end)}}
        return json_response(200, result)

    def _kind(self, name: str) -> str:
        prop = self._properties.get(name)
        if name in _DATETIME_PROPERTIES:
            return "datetime"
        return str(prop["type"]) if prop else "string"

    def _coerce(self, name: str, value: Any) -> Any:
        kind = self._kind(name)
        if value is None:
            return None
        if kind in ("datetime", "date"):
            return _date_ms(str(value)) if _is_date_only(value) else timestamp_ms(value)
        if kind == "number":
            try:
                return float(value)
            except (TypeError, ValueError):
                return None
        return str(value).strip().lower()

    def _value(self, contact: _Contact, name: str) -> Any:
        """A contact's property as search compares it (the hot path: every search reads every contact)."""
        if name == "lastmodifieddate":
            return contact.updated_ms
        if name == "hs_object_id":
            return float(contact.id)
        raw = contact.properties.get(name)
        return self._coerce(name, raw) if raw not in (None, "") else None

    def _predicate(self, f: Mapping[str, Any]) -> Callable[[_Contact], bool]:
        """One search filter as a test of a contact (its value parsed once, not once per contact)."""
        name, operator = str(f["propertyName"]), str(f["operator"])
        if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            wanted = operator == "HAS_PROPERTY"
            return lambda c: bool(c.properties.get(name)) == wanted
        if operator in ("IN", "NOT_IN"):
            values = {self._coerce(name, v) for v in f.get("values") or []}
            inside = operator == "IN"
            return lambda c: (self._value(c, name) in values) == inside
        if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            token = str(f.get("value") or "").strip("*").lower()
            contains = operator == "CONTAINS_TOKEN"
            return lambda c: (token in (c.properties.get(name) or "").lower()) == contains
        expected = self._coerce(name, f.get("value"))
        if f.get("value") is not None and expected is None:
            raise _invalid(f"{f.get('value')!r} is not a valid value for the property {name}")
        if operator == "NEQ":
            return lambda c: bool(self._value(c, name) != expected)
        if expected is None:
            return lambda c: False
        high = self._coerce(name, f.get("highValue")) if operator == "BETWEEN" else None
        compare: Callable[[Any], bool] = {
            "EQ": lambda a: a == expected,
            "GT": lambda a: a > expected,
            "GTE": lambda a: a >= expected,
            "LT": lambda a: a < expected,
            "LTE": lambda a: a <= expected,
            "BETWEEN": lambda a: high is not None and expected <= a <= high,
        }[operator]

        def test(contact: _Contact) -> bool:
            actual = self._value(contact, name)
            try:
                return actual is not None and bool(compare(actual))
            except TypeError:  # a number compared with text
                return False

        return test

    # --- contacts: batch upsert -----------------------------------------------------------------------
    def _upsert(self, request: _Request) -> httpx.Response:
        started = self.clock.now()
        body = _json_object(request)
        inputs = body.get("inputs")
        if not isinstance(inputs, list):
            raise _invalid("Invalid input JSON: inputs must be a list")
        if len(inputs) > BATCH_MAX:
            raise _invalid(f"The batch input limit is {BATCH_MAX} inputs; got {len(inputs)}")
        ids: list[str] = []
        for item in inputs:
            if (
                not isinstance(item, dict)
                or not isinstance(item.get("id"), str)
                or not isinstance(item.get("properties", {}), dict)
            ):
                raise _invalid("Invalid input JSON: each input needs an id and a properties object")
            if item.get("idProperty") != "email":
                raise _invalid(
                    f"Upsert by {item.get('idProperty')!r} is not supported here; use idProperty email"
                )
            ids.append(item["id"].strip().lower())
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise _invalid(f"Duplicate IDs found in batch input: {duplicates}")
        objects.property_problems(
            self, (str(n) for item in inputs for n in item.get("properties", {})), _READ_ONLY
        )
        now = _ms_precision(self.clock.now())
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for item, email in zip(inputs, ids, strict=True):
            properties = {str(k): "" if v is None else str(v) for k, v in item.get("properties", {}).items()}
            problem = self._invalid_value(email, properties)
            if problem is not None:
                code, message = problem
                errors.append(
                    {
                        "status": "error",
                        "category": "VALIDATION_ERROR",
                        "message": message,
                        "context": {"ids": [item["id"]]},
                        "errors": [{"message": message, "code": code}],
                        "links": {},
                    }
                )
                continue
            results.append(self._write(email, properties, now))
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "requestedAt": format_timestamp(started),
            "startedAt": format_timestamp(started),
            "completedAt": format_timestamp(self.clock.now()),
        }
        if errors:
            answer.update(errors=errors, numErrors=len(errors))
        return json_response(207 if errors else 200, answer)

    def _invalid_value(self, email: str, properties: Mapping[str, str]) -> tuple[str, str] | None:
        if not _EMAIL.match(email):
            return "INVALID_EMAIL", f"Email address {email} is invalid"
        for name, value in properties.items():
            kind = self._kind(name)
            if value == "":
                continue
            if kind == "number":
                try:
                    float(value)
                except ValueError:
                    return "INVALID_DOUBLE", f"{value} was not a valid number."
            if kind == "date" and (not _is_date_only(value) and not value.isdigit()):
                return "INVALID_DATE", f"{value} is not a valid date (use YYYY-MM-DD or midnight UTC in ms)"
        return None

    def _write(self, email: str, properties: Mapping[str, str], now: datetime) -> dict[str, Any]:
        record_id = self._by_email.get(email)
        created = record_id is None
        contact = self._insert({"email": email}, now, now) if created else self._contacts[str(record_id)]
        changed = created
        for name, value in properties.items():
            if name == "email":
                continue
            if value == "":
                changed |= contact.properties.pop(name, None) is not None
            elif contact.properties.get(name) != value:
                contact.properties[name] = value
                changed = True
        if changed and not created:
            # Any write that changes a value moves the contact's lastmodifieddate: the echo of a push.
            contact.updated = max(now, contact.updated)
            self._stamp(contact)
            self._by_modified = None
        view = self._view(contact, ["email", *properties])
        view["new"] = created
        return view

    # --- contacts: GDPR delete ------------------------------------------------------------------------
    def _gdpr_delete(self, request: _Request) -> httpx.Response:
        body = _json_object(request)
        object_id = body.get("objectId")
        if not isinstance(object_id, str) or not object_id.strip():
            raise _invalid("Invalid input JSON: objectId is required")
        id_property = body.get("idProperty")
        if id_property == "email":
            email = object_id.strip().lower()
            record_id = self._by_email.get(email)
            if record_id is None:
                # Documented: an unknown email is blocklisted, so it can never be used again.
                self._blocklist.add(forgotten(canonical_email(email)))
                return httpx.Response(204)
        elif id_property in (None, "hs_object_id"):
            record_id = object_id.strip()
            if record_id not in self._contacts:
                return _not_found()
        else:
            raise _invalid(f"idProperty {id_property!r} is not a unique contact property")
        contact = self._contacts.pop(record_id)
        self._sorted_ids = self._by_modified = None
        for email in [
            contact.email() or "",
            *(contact.properties.get("hs_additional_emails") or "").split(";"),
        ]:
            if email:
                self._by_email.pop(email, None)
                self._blocklist.add(forgotten(canonical_email(email)))
        return httpx.Response(204)

    # --- properties API -------------------------------------------------------------------------------
    def _check_property(self, spec: Any) -> str | None:
        """Why a PropertyCreate cannot be created (None when it can)."""
        if not isinstance(spec, dict):
            return "each input must be an object"
        missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not spec.get(k)]
        if missing:
            return f"missing required field(s): {', '.join(missing)}"
        if not _PROPERTY_NAME.match(str(spec["name"])):
            return f"{spec['name']!r} is not a valid property name (lower case letters, digits, underscores)"
        if spec["type"] not in _TYPES or spec["fieldType"] not in _FIELD_TYPES:
            return f"type {spec['type']!r} with fieldType {spec['fieldType']!r} is not supported"
        if spec["groupName"] not in self._groups:
            return f"The property group {spec['groupName']!r} does not exist"
        return None

    def _exists_error(self, name: str) -> dict[str, Any]:
        return {
            "status": "error",
            "category": "OBJECT_ALREADY_EXISTS",
            "message": f"A property named '{name}' already exists.",
            "context": {"name": [name]},
            "errors": [],
            "links": {},
        }

    def _create_property(self, request: _Request) -> httpx.Response:
        spec = _json_object(request)
        problem = self._check_property(spec)
        if problem:
            raise _invalid(problem)
        name = str(spec["name"])
        if name in self._properties:
            return hubspot_error(409, f"A property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
        self._properties[name] = self._property(spec)
        return json_response(
            201, self._properties[name], {"Location": f"{_origin(request)}{PROPERTIES_PATH}/{name}"}
        )

    def _batch_create_properties(self, request: _Request) -> httpx.Response:
        started = self.clock.now()
        inputs = _json_object(request).get("inputs")
        if not isinstance(inputs, list):
            raise _invalid("Invalid input JSON: inputs must be a list")
        for spec in inputs:
            problem = self._check_property(spec)
            if problem:
                raise _invalid(problem)
        results: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for spec in inputs:
            name = str(spec["name"])
            if name in self._properties:
                errors.append(self._exists_error(name))
                continue
            self._properties[name] = self._property(spec)
            results.append(self._properties[name])
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": format_timestamp(started),
            "completedAt": format_timestamp(self.clock.now()),
        }
        if errors:
            answer.update(errors=errors, numErrors=len(errors))
        return json_response(207 if errors else 201, answer)

    def _create_group(self, request: _Request) -> httpx.Response:
        spec = _json_object(request)
        name, label = spec.get("name"), spec.get("label")
        if not isinstance(name, str) or not _PROPERTY_NAME.match(name) or not isinstance(label, str):
            raise _invalid("a property group needs a valid name and a label")
        if name in self._groups:
            return hubspot_error(
                409, f"A property group named '{name}' already exists.", "OBJECT_ALREADY_EXISTS"
            )
        order = spec.get("displayOrder", -1)
        self._groups[name] = {
            "name": name,
            "label": label,
            "displayOrder": order if isinstance(order, int) else -1,
            "archived": False,
        }
        return json_response(201, self._groups[name], {"Location": f"{_origin(request)}{GROUPS_PATH}/{name}"})


# --- request parsing helpers ------------------------------------------------------------------------


def _is_search(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.rstrip("/") == SEARCH_PATH


def _first_sort(sorts: Any) -> tuple[str, bool] | None:
    """The first sort of a search body: ``{propertyName, direction}`` as HubSpot's guide documents it, or
    a bare property name (``-name`` descending) as its published spec types it. Only one sort applies."""
    if not isinstance(sorts, list) or not sorts:
        return None
    first = sorts[0]
    if isinstance(first, dict) and isinstance(first.get("propertyName"), str):
        direction = str(first.get("direction") or "ASCENDING").upper()
        if direction not in ("ASCENDING", "DESCENDING"):
            raise _invalid(f"Invalid sort direction {direction!r}")
        return first["propertyName"], direction == "DESCENDING"
    if isinstance(first, str) and first.strip():
        text = first.strip()
        return (text[1:], True) if text.startswith("-") else (text, False)
    raise _invalid("Invalid sort: give {propertyName, direction}")


def _is_date_only(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()) is not None


def _date_ms(value: str) -> int | None:
    return timestamp_ms(f"{value.strip()}T00:00:00Z")


__all__ = ["DEFAULT_TOKEN", "HubSpotSandbox", "canonical_email", "hubspot_error"]
