"""A faithful fake of Klaviyo's profiles API (revision 2026-07-15), seeded from the shared population.

What it reproduces, and from where (the spec is ``specs/klaviyo-profiles-2026-07-15.json.gz``):

* ``Authorization: Klaviyo-API-Key <key>`` (401 ``not_authenticated`` without, ``authentication_failed``
  with a wrong one) and the required ``revision`` header (400 without);
* JSON:API documents (``application/vnd.api+json``) and error bodies ``{"errors": [{"id", "status",
  "code", "title", "detail", "source"}]}``;
* ``GET /api/profiles``: ``page[size]`` 1-100 (default 20), ``page[cursor]`` (an opaque keyset token
  here), ``links.self``/``links.next`` as full URLs, ``sort`` over the documented fields, ``filter``
  with the operators the spec allows per field (``updated``: ``greater-than``/``less-than`` only;
  datetimes unquoted, strings quoted), ``additional-fields[profile]=subscriptions``; unknown query
  parameters are a 400, as Klaviyo answers;
* rate limits per endpoint, fixed windows of one second (burst) and one minute (steady): get profiles
  75/s and 750/m, bulk import jobs 10/s and 150/m, deletion jobs 3/s and 60/m; a 429 carries
  ``Retry-After`` and no ``RateLimit-*``; every other answer carries ``RateLimit-Limit``,
  ``-Remaining`` and ``-Reset`` for the steady window
  (https://developers.klaviyo.com/en/docs/rate_limits_and_error_handling);
* ``POST /api/profile-bulk-import-jobs`` (at most 10,000 profiles; upsert on email, custom
  ``properties`` merged; answered ``queued``, ``complete`` from the first read of the job; invalid
  profiles listed at ``.../import-errors``) and ``POST /api/data-privacy-deletion-jobs`` (202, no body).

* single-profile writes (``POST /api/profiles``, ``PATCH /api/profiles/{id}``, ``POST
  /api/profile-import``) and sparse fieldsets (``fields[profile]``) in ``_sandbox_profiles``;
  ``links`` are built on the scheme and host the request came in on, and a ``page[cursor]`` that is a
  whole ``links.next`` URL is read for its cursor.

The list and get reads live in ``_sandbox_list``, the bulk import and deletion jobs in
``_sandbox_jobs``, seeding in ``_sandbox_seed``.

Simplification, on purpose: jobs and deletions finish at once (Klaviyo runs them asynchronously).
"""

from __future__ import annotations

import itertools
import json
import math
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any, Final

import httpx

from connectors._sandbox import Faults, VendorSandbox, holdings_text
from core.connector import ConnectorSettings

from . import _sandbox_jobs as jobs
from . import _sandbox_list as listing
from . import _sandbox_profiles as profile_api
from . import _sandbox_seed as seeding
from ._declaration import CREDENTIAL, DELETION_JOBS, PROPERTY_PREFIX
from ._sandbox_jobs import MAX_IMPORT as MAX_IMPORT
from ._sandbox_list import FILTERS as FILTERS
from ._sandbox_list import MAX_PAGE as MAX_PAGE
from ._sandbox_list import SORTS as SORTS
from ._sandbox_seed import _stamp

DEFAULT_TOKEN: Final = "pk_sandbox_0123456789abcdef0123456789abcdef"
JSON_API: Final = "application/vnd.api+json"
BASE: Final = "https://a.klaviyo.com"
#: endpoint group -> (burst per second, steady per minute), from each operation's x-klaviyo-ratelimit.
LIMITS: Final[dict[str, tuple[int, int]]] = {
    "profiles": (75, 750),
    "import": (10, 150),
    "deletion": (3, 60),
}
_SURNAMES: Final = ("Moreau", "Keller", "Adeyemi", "Lindqvist", "Okonkwo", "Barros", "Hale")
_ULID_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class FixedWindows:
    """Klaviyo's fixed-window limit: ``burst`` per second and ``steady`` per minute."""

    def __init__(self, burst: int, steady: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.burst, self.steady, self._clock = burst, steady, clock
        self._second = self._minute = -1
        self._in_second = self._in_minute = 0

    def admit(self) -> float:
        """0 to admit (and count) a request, else the seconds until the window that is full resets."""
        now = self._clock()
        second, minute = math.floor(now), math.floor(now / 60)
        if second != self._second:
            self._second, self._in_second = second, 0
        if minute != self._minute:
            self._minute, self._in_minute = minute, 0
        if self._in_minute >= self.steady:
            return (minute + 1) * 60 - now
        if self._in_second >= self.burst:
            return second + 1 - now
        self._in_second += 1
        self._in_minute += 1
        return 0.0

    def headers(self) -> dict[str, str]:
        now = self._clock()
        return {
            "RateLimit-Limit": str(self.steady),
            "RateLimit-Remaining": str(max(0, self.steady - self._in_minute)),
            "RateLimit-Reset": str(max(1, math.ceil((math.floor(now / 60) + 1) * 60 - now))),
        }


class KlaviyoSandbox(VendorSandbox):
    """One Klaviyo account's profiles in memory, seeded from the ``email`` records of the population."""

    name = "klaviyo"

    def __init__(
        self,
        *,
        people: int = 200,
        seed: int = 7,
        token: str | None = None,
        faults: Faults | None = None,
        limits: dict[str, tuple[int, int]] | None = None,
    ) -> None:
        super().__init__(token=token or DEFAULT_TOKEN, seed=seed, faults=faults or Faults(seed=seed))
        self.windows = {group: FixedWindows(*pair) for group, pair in (limits or LIMITS).items()}
        self.profiles: dict[str, dict[str, Any]] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.deletion_requests: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._touches = itertools.count()
        self._new_people = itertools.count(1)
        seeding.seed_profiles(self, people, seed)

    # --- seeding -----------------------------------------------------------------------------------
    def _new_id(self) -> str:
        n, chars = next(self._ids), []
        for _ in range(10):
            n, digit = divmod(n, 32)
            chars.append(_ULID_ALPHABET[digit])
        return "01JSANDBOX" + "0" * 6 + "".join(reversed(chars))

    def _add(
        self,
        attributes: dict[str, Any],
        at: datetime,
        *,
        consent: str | None,
        consent_at: datetime | None = None,
    ) -> dict[str, Any]:
        profile_id = self._new_id()
        location = {
            key: attributes.get("location", {}).get(key)
            for key in ("address1", "address2", "city", "country", "latitude", "longitude", "region", "zip")
        }
        location.update({"timezone": None, "ip": None})
        profile = {
            "id": profile_id,
            "email": attributes.get("email"),
            "phone_number": attributes.get("phone_number"),
            "external_id": attributes.get("external_id"),
            "first_name": attributes.get("first_name"),
            "last_name": attributes.get("last_name"),
            "organization": None,
            "locale": None,
            "title": None,
            "image": None,
            "created": _stamp(at - timedelta(days=30)),
            "updated": _stamp(at),
            "last_event_date": None,
            "location": location,
            "properties": dict(attributes.get("properties") or {}),
            "consent": consent or "NEVER_SUBSCRIBED",
            "consent_timestamp": _stamp(consent_at or at)
            if consent in ("SUBSCRIBED", "UNSUBSCRIBED")
            else None,
        }
        self.profiles[profile_id] = profile
        return profile

    def _find(self, field: str, value: str) -> list[dict[str, Any]]:
        wanted = value.strip().lower() if field == "email" else value
        return [p for p in self.profiles.values() if p.get(field) == wanted]

    # --- wire shapes -------------------------------------------------------------------------------
    def _resource(self, profile: dict[str, Any], base: str, *, subscriptions: bool) -> dict[str, Any]:
        attributes = {k: v for k, v in profile.items() if k not in ("id", "consent", "consent_timestamp")}
        attributes["location"] = dict(profile["location"])
        attributes["properties"] = dict(profile["properties"])
        if subscriptions:
            consent = profile["consent"]
            attributes["subscriptions"] = {
                "email": {
                    "marketing": {
                        "can_receive_email_marketing": consent == "SUBSCRIBED",
                        "consent": consent,
                        "consent_timestamp": profile["consent_timestamp"],
                        "last_updated": profile["consent_timestamp"],
                        "method": "LIST_IMPORT" if profile["consent_timestamp"] else None,
                        "method_detail": "",
                        "custom_method_detail": None,
                        "double_optin": None,
                        "suppression": [],
                        "list_suppressions": [],
                    }
                }
            }
        return {
            "type": "profile",
            "id": profile["id"],
            "attributes": attributes,
            "links": {"self": f"{base}/api/profiles/{profile['id']}/"},
        }

    @staticmethod
    def document(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
        content = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        merged = {"content-type": JSON_API, **(headers or {})} if body is not None else dict(headers or {})
        return httpx.Response(status, content=content, headers=merged)

    def error(
        self, status: int, code: str, title: str, detail: str, *, parameter: str | None = None, **extra: str
    ) -> httpx.Response:
        """Klaviyo's JSON:API error document."""
        source = {"parameter": parameter} if parameter else {"pointer": "/data/"}
        body = {
            "errors": [
                {
                    "id": str(uuid.uuid4()),
                    "status": status,
                    "code": code,
                    "title": title,
                    "detail": detail,
                    "source": source,
                }
            ]
        }
        return self.document(status, body, extra or None)

    # --- VendorSandbox hooks -----------------------------------------------------------------------
    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme != "Klaviyo-API-Key" or not key.strip():
            return self.error(
                401,
                "not_authenticated",
                "Authentication credentials were not provided.",
                "Missing or invalid private key.",
            )
        if key.strip() != self.token:
            return self.error(
                401,
                "authentication_failed",
                "Incorrect authentication credentials.",
                "Incorrect authentication credentials.",
            )
        if not request.headers.get("revision"):
            return self.error(
                400, "invalid", "Invalid input.", "The 'revision' header is required.", parameter="revision"
            )
        return None

    @staticmethod
    def _group(request: httpx.Request) -> str:
        path = request.url.path
        if path.startswith("/api/profile-bulk-import-jobs"):
            return "import"
        if path.startswith("/api/data-privacy-deletion-jobs"):
            return "deletion"
        return "profiles"

    def limit(self, request: httpx.Request) -> httpx.Response | None:
        window = self.windows.get(self._group(request))
        if window is None:
            return None
        with self.lock:
            wait = window.admit()
        if not wait:
            return None
        return self.throttled(str(max(1, math.ceil(wait))))

    def throttled(self, retry_after: str | None) -> httpx.Response:
        detail = f"Request was throttled. Expected available in {retry_after or 1} second."
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        return self.error(429, "throttled", "Request was throttled.", detail, **headers)

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = super().handle(request)
        if response.status_code >= 500 and JSON_API not in response.headers.get("content-type", ""):
            return self.error(
                response.status_code, "error", "A server error occurred.", "Service temporarily unavailable."
            )
        window = self.windows.get(self._group(request))
        if window is not None and response.status_code != 429:
            with self.lock:
                response.headers.update(window.headers())
        return response

    def route(self, request: httpx.Request) -> httpx.Response:
        path = "/" + request.url.path.strip("/")
        method = request.method
        base = f"{request.url.scheme}://{request.url.netloc.decode()}"
        parts = path.strip("/").split("/")
        routes: dict[tuple[str, str], Callable[[], httpx.Response]] = {
            ("GET", "/api/profiles"): lambda: listing.list_profiles(self, request, base),
            ("POST", "/api/profiles"): lambda: profile_api.create(self, request),
            ("POST", "/api/profile-import"): lambda: profile_api.import_profile(self, request),
            ("POST", "/api/profile-bulk-import-jobs"): lambda: jobs.bulk_import(self, request, base),
            ("POST", "/api/data-privacy-deletion-jobs"): lambda: jobs.delete(self, request),
        }
        if len(parts) == 3 and parts[:2] == ["api", "profiles"]:
            routes[("GET", path)] = lambda: listing.get_profile(self, parts[2], request, base)
            routes[("PATCH", path)] = lambda: profile_api.update(self, request, parts[2])
        if len(parts) in (3, 4) and parts[:2] == ["api", "profile-bulk-import-jobs"]:
            routes[("GET", path)] = lambda: jobs.job(self, parts[2], base, errors=len(parts) == 4)
        handler = routes.get((method, path))
        if handler is not None:
            return handler()
        if any(p == path for _, p in routes):
            return self.error(
                405, "method_not_allowed", "Method not allowed.", f'Method "{method}" not allowed.'
            )
        return self.error(404, "not_found", "Not found.", f"No route for {method} {path}.")

    def _body(self, request: httpx.Request) -> Any:
        try:
            return json.loads(request.content or b"null")
        except ValueError:
            return None

    # --- SandboxControl ----------------------------------------------------------------------------
    def settings(self, transport: bool = True) -> ConnectorSettings:
        """The sandbox's private key; in-process it answers for https://a.klaviyo.com."""
        return ConnectorSettings(
            credentials={CREDENTIAL: self.token}, transport=self.transport() if transport else None
        )

    def record_keys(self) -> set[str]:
        with self.lock:
            return {f"profile:{pid}" for pid in self.profiles}

    def touch(self, keys: Iterable[str], at: datetime | None = None) -> None:
        """Give each profile a new last name, updated at ``at`` (default: the sandbox clock)."""
        stamp = _stamp(at or self.clock.now())
        with self.lock:
            for key in keys:
                profile = self.profiles[key.split(":", 1)[1]]
                profile["last_name"] = next(
                    n
                    for n in (_SURNAMES[next(self._touches) % len(_SURNAMES)], *_SURNAMES)
                    if n != profile["last_name"]
                )
                profile["updated"] = stamp

    def add_records(self, count: int, at: datetime | None = None) -> set[str]:
        """Subscribe ``count`` new people (``new<k>@example.com``), all updated at ``at``."""
        when = at or self.clock.now()
        with self.lock:
            return {
                "profile:"
                + self._add(
                    {"email": f"new{k}@example.com", "first_name": "New", "last_name": "Person"},
                    when,
                    consent="SUBSCRIBED",
                )["id"]
                for k in (next(self._new_people) for _ in range(count))
            }

    def purge_records(self, keys: set[str]) -> None:
        """Delete these profiles (``profile:<id>``) as a data privacy deletion job does: gone from
        every listing, no event of it (``PurgesRecords``)."""
        with self.lock:
            for key in sorted(keys):
                if key.split(":", 1)[1] not in self.profiles:
                    raise KeyError(key)
                profile = {"data": {"type": "profile", "id": key.split(":", 1)[1]}}
                job = {"data": {"type": "data-privacy-deletion-job", "attributes": {"profile": profile}}}
                jobs.delete(self, httpx.Request("POST", BASE + DELETION_JOBS, json=job))

    def holdings(self) -> str:
        """Every profile, every stored import job (with its errors) and the deletion record."""
        with self.lock:
            return holdings_text(self.profiles, self.jobs, self.deletion_requests)

    def holds(self, email: str) -> bool:
        with self.lock:
            return bool(self._find("email", email))

    def pushed_traits(self, email: str) -> dict[str, Any]:
        with self.lock:
            found = self._find("email", email)
            properties = found[0]["properties"] if found else {}
            return {k: v for k, v in properties.items() if k.startswith(PROPERTY_PREFIX)}


def make_sandbox(
    people: int = 200, seed: int = 7, token: str | None = None, faults: Faults | None = None, **options: Any
) -> KlaviyoSandbox:
    """A seeded Klaviyo sandbox at Klaviyo's published limits (see ``KlaviyoSandbox``)."""
    return KlaviyoSandbox(people=people, seed=seed, token=token, faults=faults, **options)


__all__ = ["BASE", "DEFAULT_TOKEN", "LIMITS", "KlaviyoSandbox", "make_sandbox"]
