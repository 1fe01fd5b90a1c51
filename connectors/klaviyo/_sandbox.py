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

Simplification, on purpose: jobs and deletions finish at once (Klaviyo runs them asynchronously).
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import random
import re
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx

from connectors._sandbox import Faults, VendorSandbox, forgotten, holdings_text
from connectors.sdk import parse_point
from core.connector import ConnectorSettings
from core.testing.population import people as population_people
from core.testing.population import population

from . import _sandbox_profiles as profile_api
from ._declaration import CREDENTIAL, PROPERTY_PREFIX

DEFAULT_TOKEN: Final = "pk_sandbox_0123456789abcdef0123456789abcdef"
JSON_API: Final = "application/vnd.api+json"
BASE: Final = "https://a.klaviyo.com"
MAX_PAGE: Final = 100
MAX_IMPORT: Final = 10_000
SORTS: Final = frozenset({"created", "email", "id", "updated"})
#: field -> operators the spec's ``x-klaviyo-filters`` allow on ``GET /api/profiles``.
FILTERS: Final[dict[str, frozenset[str]]] = {
    "id": frozenset({"any", "equals"}),
    "email": frozenset({"any", "equals"}),
    "phone_number": frozenset({"any", "equals"}),
    "external_id": frozenset({"any", "equals"}),
    "created": frozenset({"greater-than", "less-than"}),
    "updated": frozenset({"greater-than", "less-than"}),
}
#: endpoint group -> (burst per second, steady per minute), from each operation's x-klaviyo-ratelimit.
LIMITS: Final[dict[str, tuple[int, int]]] = {
    "profiles": (75, 750),
    "import": (10, 150),
    "deletion": (3, 60),
}
_LIST_PARAMS: Final = frozenset(
    {"filter", "sort", "page[size]", "page[cursor]", "additional-fields[profile]", "include"}
)
#: The attributes a profile resource carries (``fields[profile]`` may name these, dotted for nested ones).
_PROFILE_FIELDS: Final = frozenset(
    {
        "email",
        "phone_number",
        "external_id",
        "first_name",
        "last_name",
        "organization",
        "locale",
        "title",
        "image",
        "created",
        "updated",
        "last_event_date",
        "location",
        "properties",
        "subscriptions",
        "predictive_analytics",
    }
)
_CLAUSE = re.compile(r"^([a-z-]+)\(([a-z_.]+),(.*)\)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SURNAMES: Final = ("Moreau", "Keller", "Adeyemi", "Lindqvist", "Okonkwo", "Barros", "Hale")
_ULID_ALPHABET: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _stamp(at: datetime) -> str:
    """A timestamp as Klaviyo writes it: ``2022-11-08T00:00:00+00:00``."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat()


def _split_top(text: str) -> list[str]:
    """Split a filter expression at commas outside parentheses and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _time_test(field: str, op: str, bound: datetime) -> Callable[[dict[str, Any]], bool]:
    def test(profile: dict[str, Any]) -> bool:
        point = parse_point(profile.get(field))
        if point is None:
            return False
        return point > bound if op == "greater-than" else point < bound

    return test


def _value_test(field: str, wanted: set[str]) -> Callable[[dict[str, Any]], bool]:
    def test(profile: dict[str, Any]) -> bool:
        return (profile.get(field) or "") in wanted

    return test


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
        self._seed(people, seed)

    # --- seeding -----------------------------------------------------------------------------------
    def _new_id(self) -> str:
        n, chars = next(self._ids), []
        for _ in range(10):
            n, digit = divmod(n, 32)
            chars.append(_ULID_ALPHABET[digit])
        return "01JSANDBOX" + "0" * 6 + "".join(reversed(chars))

    def _seed(self, count: int, seed: int) -> None:
        rng = random.Random(seed * 31 + 5)
        persons = population_people(count, seed)
        for index, record in population(count, seed):
            if record.get("source") != "email":
                continue
            at = parse_point(str(record.get("updated_at", ""))) or self.clock.now()
            if index is None:
                # Realistic mess: a profile a store integration created from an order, with neither
                # email nor phone. normalise_record must quarantine it (no usable identifier).
                self._add({"external_id": f"shop-{record['id']}"}, at, consent=None)
                continue
            person = persons[index]
            granted = record.get("consent", {}).get("email")
            consent = (
                "SUBSCRIBED" if granted else "NEVER_SUBSCRIBED" if rng.random() < 0.3 else "UNSUBSCRIBED"
            )
            location = {"country": record["country"]} if record.get("country") else {}
            self._add(
                {
                    # Klaviyo keeps addresses trimmed and lower-cased, phone numbers in E.164.
                    "email": str(record["email"]).strip().lower() if record.get("email") else None,
                    "phone_number": person.phone_e164 if record.get("phone") else None,
                    "first_name": record.get("first_name"),
                    "last_name": record.get("last_name"),
                    "location": location,
                },
                at,
                consent=consent,
                consent_at=at - timedelta(days=rng.randint(0, 90)),
            )

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
            ("GET", "/api/profiles"): lambda: self._list(request, base),
            ("POST", "/api/profiles"): lambda: profile_api.create(self, request),
            ("POST", "/api/profile-import"): lambda: profile_api.import_profile(self, request),
            ("POST", "/api/profile-bulk-import-jobs"): lambda: self._import(request, base),
            ("POST", "/api/data-privacy-deletion-jobs"): lambda: self._delete(request),
        }
        if len(parts) == 3 and parts[:2] == ["api", "profiles"]:
            routes[("GET", path)] = lambda: self._get_profile(parts[2], request, base)
            routes[("PATCH", path)] = lambda: profile_api.update(self, request, parts[2])
        if len(parts) in (3, 4) and parts[:2] == ["api", "profile-bulk-import-jobs"]:
            routes[("GET", path)] = lambda: self._job(parts[2], base, errors=len(parts) == 4)
        handler = routes.get((method, path))
        if handler is not None:
            return handler()
        if any(p == path for _, p in routes):
            return self.error(
                405, "method_not_allowed", "Method not allowed.", f'Method "{method}" not allowed.'
            )
        return self.error(404, "not_found", "Not found.", f"No route for {method} {path}.")

    # --- routes ------------------------------------------------------------------------------------
    def _parse_filter(self, text: str) -> list[Callable[[dict[str, Any]], bool]] | str:
        """The filter's clauses as predicates, or the reason it is invalid."""
        clauses = _split_top(text[4:-1] if text.startswith("and(") and text.endswith(")") else text)
        tests: list[Callable[[dict[str, Any]], bool]] = []
        for clause in clauses:
            match = _CLAUSE.match(clause)
            if match is None:
                return f"Invalid filter provided: {clause!r}"
            op, field, raw = match.groups()
            if op not in FILTERS.get(field, frozenset()):
                return f"'{op}' operation is not allowed for field '{field}'"
            if field in ("created", "updated"):
                point = parse_point(raw)
                if point is None:
                    return f"Invalid datetime {raw!r} for field '{field}' (datetimes are not quoted)"
                tests.append(_time_test(field, op, point))
                continue
            values = [v.strip() for v in (raw[1:-1].split(",") if op == "any" else [raw])]
            if not all(len(v) >= 2 and v[0] == v[-1] and v[0] in "\"'" for v in values):
                return f"Invalid value {raw!r} for field '{field}': strings must be quoted"
            wanted = {v[1:-1].lower() if field == "email" else v[1:-1] for v in values}
            tests.append(_value_test(field, wanted))
        return tests

    def _list(self, request: httpx.Request, base: str) -> httpx.Response:
        params = request.url.params
        unknown = [k for k in params if k not in _LIST_PARAMS and not k.startswith("fields[")]
        if unknown:
            return self.error(
                400,
                "invalid",
                "Invalid input.",
                f"'{unknown[0]}' is not a valid query parameter.",
                parameter=unknown[0],
            )
        size_text = params.get("page[size]", "20")
        if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_PAGE:
            return self.error(
                400,
                "invalid",
                "Invalid input.",
                f"page[size] must be between 1 and {MAX_PAGE}.",
                parameter="page[size]",
            )
        size = int(size_text)
        sort = params.get("sort", "id")
        if sort.lstrip("-") not in SORTS:
            return self.error(
                400, "invalid", "Invalid input.", f"'{sort}' is not a valid sort field.", parameter="sort"
            )
        tests = self._parse_filter(params["filter"]) if "filter" in params else []
        if isinstance(tests, str):
            return self.error(400, "invalid", "Invalid input.", tests, parameter="filter")
        unknown_field = profile_api.unknown_fields(params, _PROFILE_FIELDS)
        if unknown_field is not None:
            return self.error(
                400,
                "invalid",
                "Invalid input.",
                f"'{unknown_field}' is not a valid field for the resource 'profile'.",
                parameter="fields[profile]",
            )
        extra = {e.strip() for e in params.get("additional-fields[profile]", "").split(",") if e.strip()}
        if extra - {"subscriptions", "predictive_analytics"}:
            return self.error(
                400,
                "invalid",
                "Invalid input.",
                "Invalid additional-fields[profile].",
                parameter="additional-fields[profile]",
            )
        field, descending = sort.lstrip("-"), sort.startswith("-")

        def key(p: dict[str, Any]) -> tuple[str, str]:
            value = p.get(field) or ""
            if field in ("created", "updated"):
                value = (parse_point(value) or datetime.min.replace(tzinfo=UTC)).isoformat()
            return (str(value), str(p["id"]))

        after: tuple[str, str] | None = None
        if "page[cursor]" in params:
            cursor = params["page[cursor]"]
            if cursor.startswith(("http://", "https://")):
                # A whole links.next URL: klaviyo-api takes the cursor out of one only when it starts
                # with https://, and sends a plain-HTTP sandbox's link whole. Read its cursor.
                cursor = httpx.URL(cursor).params.get("page[cursor]", "")
            try:
                token = json.loads(base64.urlsafe_b64decode(cursor.encode()))
                if token[0] != sort:
                    raise ValueError("the cursor belongs to another sort")
                after = (str(token[1]), str(token[2]))
            except (ValueError, IndexError, TypeError):
                return self.error(
                    400, "invalid", "Invalid input.", "Invalid page cursor.", parameter="page[cursor]"
                )
        with self.lock:
            chosen = sorted(
                (p for p in self.profiles.values() if all(t(p) for t in tests)), key=key, reverse=descending
            )
            if after is not None:
                chosen = [p for p in chosen if (key(p) < after if descending else key(p) > after)]
            page = [
                profile_api.sparse(self._resource(p, base, subscriptions="subscriptions" in extra), params)
                for p in chosen[:size]
            ]
            last = key(chosen[size - 1]) if len(chosen) > size else None
        links = {"self": str(request.url)}
        if last is not None:
            token = base64.urlsafe_b64encode(json.dumps([sort, *last]).encode()).decode()
            links["next"] = str(request.url.copy_set_param("page[cursor]", token))
        return self.document(200, {"data": page, "links": links})

    def _get_profile(self, profile_id: str, request: httpx.Request, base: str) -> httpx.Response:
        extra = {e.strip() for e in request.url.params.get("additional-fields[profile]", "").split(",")}
        with self.lock:
            profile = self.profiles.get(profile_id)
            if profile is None:
                return self.error(
                    404, "not_found", "Not found.", f"A profile with id {profile_id} does not exist."
                )
            resource = profile_api.sparse(
                self._resource(profile, base, subscriptions="subscriptions" in extra), request.url.params
            )
        return self.document(200, {"data": resource, "links": resource["links"]})

    def _body(self, request: httpx.Request) -> Any:
        try:
            return json.loads(request.content or b"null")
        except ValueError:
            return None

    def _import(self, request: httpx.Request, base: str) -> httpx.Response:
        body = self._body(request)
        data = body.get("data") if isinstance(body, dict) else None
        items = (((data or {}).get("attributes") or {}).get("profiles") or {}).get("data")
        if (
            not isinstance(data, dict)
            or data.get("type") != "profile-bulk-import-job"
            or not isinstance(items, list)
        ):
            return self.error(
                400, "invalid", "Invalid input.", "The payload provided in the request is invalid."
            )
        if len(items) > MAX_IMPORT:
            return self.error(
                400, "invalid", "Invalid input.", f"A bulk import job accepts at most {MAX_IMPORT} profiles."
            )
        job_id = uuid.uuid5(uuid.NAMESPACE_URL, f"job{len(self.jobs)}").hex
        now = self.clock.now()
        errors, ids = [], []
        with self.lock:
            for index, item in enumerate(items):
                attributes = (item or {}).get("attributes") or {}
                email = str(attributes.get("email") or "").strip().lower()
                profile_id = (item or {}).get("id")
                if profile_id:
                    # Matched on the id: an import updates that profile, and creates nobody for an id
                    # Klaviyo does not have.
                    held = self.profiles.get(str(profile_id))
                    if held is None:
                        errors.append(
                            self._import_error(index, item, f"A profile with id {profile_id} does not exist.")
                        )
                        continue
                    self._merge_import(held, attributes, now)
                    ids.append(held["id"])
                    continue
                if (
                    not _EMAIL.match(email)
                    and not attributes.get("phone_number")
                    and not attributes.get("external_id")
                ):
                    errors.append(
                        self._import_error(
                            index, item, "A profile needs a valid email, phone_number or external_id."
                        )
                    )
                    continue
                found = self._find("email", email) if email else []
                profile = found[0] if found else self._add({"email": email}, now, consent=None)
                self._merge_import(profile, attributes, now)
                ids.append(profile["id"])
            self.jobs[job_id] = {
                "created_at": _stamp(now),
                "total_count": len(items),
                "completed_count": len(ids),
                "failed_count": len(errors),
                "errors": errors,
                "reads": 0,
            }
        return self.document(202, self._job_document(job_id, base))

    @staticmethod
    def _merge_import(profile: dict[str, Any], attributes: dict[str, Any], now: datetime) -> None:
        profile["properties"] = {**profile["properties"], **(attributes.get("properties") or {})}
        for name in ("email", "first_name", "last_name", "phone_number", "external_id"):
            if attributes.get(name):
                profile[name] = str(attributes[name]).strip().lower() if name == "email" else attributes[name]
        profile["updated"] = _stamp(now)

    @staticmethod
    def _import_error(index: int, item: Any, detail: str) -> dict[str, Any]:
        return {
            "type": "import-error",
            "id": str(uuid.uuid4()),
            "attributes": {
                "code": "invalid",
                "title": "Invalid input.",
                "detail": detail,
                "source": {"pointer": f"/data/attributes/profiles/data/{index}"},
                "original_payload": item,
            },
        }

    def _job_document(self, job_id: str, base: str) -> dict[str, Any]:
        job = self.jobs[job_id]
        done = job["reads"] > 0
        resource = {
            "type": "profile-bulk-import-job",
            "id": job_id,
            "attributes": {
                "status": "complete" if done else "queued",
                "created_at": job["created_at"],
                "total_count": job["total_count"],
                "completed_count": job["completed_count"] if done else 0,
                "failed_count": job["failed_count"] if done else 0,
                "completed_at": job["created_at"] if done else None,
                "expires_at": None,
                "started_at": job["created_at"] if done else None,
            },
            "links": {"self": f"{base}/api/profile-bulk-import-jobs/{job_id}/"},
        }
        return {"data": resource, "links": resource["links"]}

    def _job(self, job_id: str, base: str, *, errors: bool) -> httpx.Response:
        with self.lock:
            if job_id not in self.jobs:
                return self.error(404, "not_found", "Not found.", f"A job with id {job_id} does not exist.")
            self.jobs[job_id]["reads"] += 1
            if errors:
                url = f"{base}/api/profile-bulk-import-jobs/{job_id}/import-errors/"
                return self.document(200, {"data": self.jobs[job_id]["errors"], "links": {"self": url}})
            return self.document(200, self._job_document(job_id, base))

    def _delete(self, request: httpx.Request) -> httpx.Response:
        body = self._body(request)
        data = body.get("data") if isinstance(body, dict) else None
        profile = (((data or {}).get("attributes") or {}).get("profile") or {}).get("data") or {}
        given = {k: v for k, v in (profile.get("attributes") or {}).items() if v}
        if profile.get("id"):
            given["id"] = profile["id"]
        if not isinstance(data, dict) or data.get("type") != "data-privacy-deletion-job" or len(given) != 1:
            return self.error(
                400,
                "invalid",
                "Invalid input.",
                "Exactly one of email, phone_number or id must identify the profile to delete.",
            )
        [(field, value)] = given.items()
        with self.lock:
            for found in self._find(field, str(value)):
                del self.profiles[found["id"]]
                forget = {str(found.get(k) or "").lower() for k in ("email", "phone_number", "id")} - {""}
                for job in self.jobs.values():  # an import error quoting the profile goes with it
                    job["errors"] = [e for e in job["errors"] if not _quotes(e, forget)]
            # Klaviyo keeps the deleted profile's contact information as its GDPR record; the sandbox
            # keeps a digest of it, so its own data no longer holds the value.
            self.deletion_requests.append({field: forgotten(str(value))})
        return self.document(202, None)

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


def _quotes(error: dict[str, Any], values: set[str]) -> bool:
    """Whether an import error's original payload names one of ``values``."""
    payload = json.dumps(error.get("attributes", {}).get("original_payload"), default=str).lower()
    return any(value in payload for value in values)


__all__ = ["BASE", "DEFAULT_TOKEN", "LIMITS", "KlaviyoSandbox", "make_sandbox"]
