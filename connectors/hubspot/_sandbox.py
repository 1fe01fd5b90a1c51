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
batch read/create/update) live in ``_sandbox_objects``; list and get in ``_sandbox_list``, search in
``_sandbox_search``, batch upsert and GDPR delete in ``_sandbox_upsert``, the properties API in
``_sandbox_properties``, the rate-limit answers in ``_sandbox_limits``, seeding in ``_sandbox_seed``;
request parsing, canonical emails and the error envelope in ``_sandbox_wire``; which of them answers a
request (path and method) in ``_sandbox_routes``.

Deviations, each deliberate: search is immediately consistent (HubSpot documents a delay of "a few
moments"); the list's ``after`` token is the next record id; merge (``POST .../contacts/merge``) and the
batch archive are not implemented, and answer 404.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import httpx

from connectors._sandbox import Faults, SlidingWindow, VendorSandbox, forgotten, holdings_text, json_response
from core.connector import ConnectorSettings

from . import _sandbox_archive as archived
from . import _sandbox_limits as limits
from . import _sandbox_properties as props
from . import _sandbox_routes as routes
from . import _sandbox_seed as seeding
from . import _sandbox_upsert as upsert
from ._connector import (
    CREDENTIAL,
    GDPR_DELETE_PATH,
    SEARCH_PATH,
)
from ._mapping import OBJECT_TYPE, PROPERTY_FOR_TRAIT, format_timestamp, timestamp_ms
from ._sandbox_list import LIST_DEFAULT as LIST_DEFAULT
from ._sandbox_list import LIST_MAX as LIST_MAX
from ._sandbox_properties import _DEFAULT_GROUPS, _DEFAULT_PROPERTIES
from ._sandbox_search import MAX_FILTER_GROUPS as MAX_FILTER_GROUPS
from ._sandbox_search import MAX_FILTERS as MAX_FILTERS
from ._sandbox_search import MAX_FILTERS_PER_GROUP as MAX_FILTERS_PER_GROUP
from ._sandbox_search import SEARCH_DEFAULT as SEARCH_DEFAULT
from ._sandbox_search import SEARCH_MAX as SEARCH_MAX
from ._sandbox_upsert import BATCH_MAX as BATCH_MAX
from ._sandbox_wire import (
    _ms_precision,
    _parse,
    _RejectedError,
    _Request,
    canonical_email,
    hubspot_error,
)

DEFAULT_TOKEN: Final = "pat-na1-5a1e0c3b-7d2f-4e8a-9b6c-0f1e2d3c4b5a"

SEARCH_RESULT_CAP: Final = 10_000


_NEW_FIRST: Final = ("ada", "bea", "cy", "dee", "eli", "fay", "gil", "hal")
_NEW_LAST: Final = ("stone", "brook", "field", "marsh", "wood", "hill")


@dataclass
class _Contact:
    id: str
    properties: dict[str, str]
    created: datetime
    updated: datetime
    updated_ms: int = 0

    def email(self) -> str | None:
        return self.properties.get("email")


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
            name: props.definition(
                self,
                {"name": name, "label": label, "type": kind, "fieldType": field_type},
                group="contactinformation",
                hubspot_defined=True,
            )
            for name, label, kind, field_type in _DEFAULT_PROPERTIES
        }
        seeding.seed_contacts(self, people, seed)

    # --- contacts (seeded by _sandbox_seed) ---------------------------------------------------------

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

    def purge_records(self, keys: set[str]) -> None:
        """Delete these contacts (``contact:<id>``) for good, as a GDPR delete does: no archived copy
        to list, their emails blocklisted (``PurgesRecords``)."""
        with self.lock:
            for key in sorted(keys):
                body = {"objectId": key.split(":", 1)[1], "idProperty": "hs_object_id"}
                answer = upsert.gdpr_delete(self, _Request("POST", GDPR_DELETE_PATH, {}, body=body))
                if answer.status_code != 204:
                    raise KeyError(key)

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
                return limits.rate_limited(self, "You have reached your daily limit.", "DAILY", search=False)
            if _is_search(request):
                if self._search_window.admit() > 0:
                    return limits.rate_limited(
                        self, "You have reached your secondly limit.", "SECONDLY", search=True
                    )
            elif self._window.admit() > 0:
                return limits.rate_limited(
                    self,
                    "You have reached your ten_secondly_rolling limit.",
                    "TEN_SECONDLY_ROLLING",
                    search=False,
                )
            self._daily_used += 1
        return None

    def throttled(self, retry_after: str | None) -> httpx.Response:
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        return json_response(
            429, limits.rate_limit_body("You have reached your secondly limit.", "SECONDLY"), headers
        )

    def route(self, request: httpx.Request) -> httpx.Response:
        parsed = _parse(request)
        try:
            with self.lock:
                return routes.dispatch(self, parsed)
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
            response.headers.update(
                limits.rate_limit_headers(
                    self,
                )
            )
        return response


# --- request parsing helpers ------------------------------------------------------------------------


def _is_search(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.rstrip("/") == SEARCH_PATH


__all__ = ["DEFAULT_TOKEN", "HubSpotSandbox", "canonical_email", "hubspot_error"]
