"""A faithful fake of the Mailchimp Marketing API 3.0 for one audience (list).

What it reproduces, with where the behaviour comes from:

* the data center in the key: ``https://<dc>.api.mailchimp.com/3.0``; HTTP Basic auth with any user
  name and the key as password. A wrong key, or a request to another data center's host, is a 401
  "API Key Invalid" ("Your API key may be invalid, or you've attempted to access the wrong
  datacenter.", https://mailchimp.com/developer/marketing/docs/errors/). Over ``serve()`` the host is
  127.0.0.1, so any host is accepted there;
* errors as RFC 7807 problem documents (``type``, ``title``, ``status``, ``detail``, ``instance``),
  ``application/problem+json``;
* 10 simultaneous connections per key; an 11th in flight gets 429 "Too Many Requests"
  (https://mailchimp.com/developer/marketing/docs/fundamentals/#api-limits). Mailchimp sends no
  rate-limit headers, so neither does the sandbox;
* ``GET /lists/{id}/members`` with ``count`` (default 10; above 1000 is served as 1000), ``offset``,
  ``fields``/``exclude_fields`` (dot paths), ``status``, ``since_last_changed`` / ``before_last_changed``
  (strictly after / before, whole seconds), ``sort_field`` (``timestamp_opt``, ``timestamp_signup``,
  ``last_changed``) and ``sort_dir``, ``total_items``; members tie-broken by creation order;
* batch subscribe ``POST /lists/{id}`` (at most 500 members; ``update_existing``; per-member
  ``errors`` with ``ERROR_CONTACT_EXISTS`` for an existing member when ``update_existing`` is false,
  a "compliance state" error for re-subscribing an unsubscribed or cleaned member, "permanently
  deleted and cannot be re-imported" after delete-permanent; unknown merge tags are ignored);
* merge fields (``GET``/``POST /lists/{id}/merge-fields``; FNAME, LNAME, ADDRESS, PHONE, BIRTHDAY
  exist in every new audience; a number field's value is kept and answered as a number),
  delete-permanent (204, then 404);
* ``GET /ping``, ``GET /lists`` and the audience object with its stats (``_sandbox_audience``), and the
  single-member writes ``POST .../members``, ``PUT`` and ``PATCH .../members/{hash}``
  (``_sandbox_members``), as mailchimp-marketing calls them.

``service_time`` and ``per_member_time`` make each request take that long (seconds), so a benchmark
can measure what the concurrency limit allows.
"""

from __future__ import annotations

import base64
import bisect
import itertools
import json
import random
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import httpx

from connectors._sandbox import Faults, VendorSandbox, forgotten, holdings_text, json_response
from core.connector import ConnectorSettings
from core.testing.population import people as population_people
from core.testing.population import population

from . import _sandbox_audience as audience
from . import _sandbox_members as members
from ._cursor import format_time, parse_time
from ._mapping import PUSHED_TAGS, subscriber_hash

DEFAULT_TOKEN: Final = "5f0c2d4b9a8e7c6d1b3a2f4e6d8c0b1a-us21"
DEFAULT_LIST_ID: Final = "a1b2c3d4e5"
ERRORS_DOC: Final = "https://mailchimp.com/developer/marketing/docs/errors/"
MAX_COUNT: Final = 1000
INVALID: Final = (
    "The resource submitted could not be validated. For field-specific details, see the 'errors' array."
)
MAX_BATCH: Final = 500
BATCH_STATUSES: Final = frozenset({"subscribed", "unsubscribed", "cleaned", "pending", "transactional"})
SORT_FIELDS: Final = frozenset({"timestamp_opt", "timestamp_signup", "last_changed"})
MERGE_TYPES: Final = frozenset(
    {"text", "number", "address", "phone", "date", "url", "imageurl", "radio", "dropdown", "birthday", "zip"}
)
_EMAIL = re.compile(
    r"^[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_SURNAMES: Final = ("Moreau", "Keller", "Adeyemi", "Lindqvist", "Okonkwo", "Barros", "Hale")


def _as_number(value: str | float) -> int | float | str:
    """A number merge field's value as Mailchimp answers it: 3, 12.5, or "" when empty."""
    if value == "" or isinstance(value, int | float):
        return value
    number = float(value)
    return int(number) if number.is_integer() and "." not in str(value) else number


def _dc_of(token: str) -> str:
    _, sep, suffix = token.rpartition("-")
    return suffix if sep and re.fullmatch(r"[a-z]{2,4}\d{1,3}", suffix) else "us21"


def _ascii_address(email: str) -> str:
    """Mailchimp keeps addresses in ASCII: an internationalised domain is stored in its IDNA form."""
    local, sep, domain = email.strip().rpartition("@")
    if not sep or domain.isascii():
        return email.strip()
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return email.strip()


FieldTree = dict[str, "FieldTree | None"]


def _field_tree(paths: list[list[str]]) -> FieldTree:
    """``fields=`` paths as a tree: a key maps to None (keep it whole) or to the sub-keys to keep."""
    tree: FieldTree = {}
    for path in paths:
        node = tree
        for depth, key in enumerate(path):
            if depth == len(path) - 1 or node.get(key, {}) is None:
                node[key] = None
                break
            child = node.setdefault(key, {})
            if child is None:
                break
            node = child
    return tree


def _select(value: Any, tree: FieldTree) -> Any:
    """Keep only the ``fields=`` of a response (lists are traversed element-wise)."""
    if isinstance(value, list):
        return [_select(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: value[k] if sub is None else _select(value[k], sub) for k, sub in tree.items() if k in value}


def _exclude(value: Any, paths: list[list[str]]) -> Any:
    if isinstance(value, list):
        return [_exclude(v, paths) for v in value]
    if not isinstance(value, dict):
        return value
    drop = {p[0] for p in paths if len(p) == 1}
    deeper: dict[str, list[list[str]]] = {}
    for path in paths:
        if len(path) > 1:
            deeper.setdefault(path[0], []).append(path[1:])
    return {k: (_exclude(v, deeper[k]) if k in deeper else v) for k, v in value.items() if k not in drop}


def _paths(text: str | None) -> list[list[str]]:
    return [p.strip().split(".") for p in (text or "").split(",") if p.strip()]


class MailchimpSandbox(VendorSandbox):
    """One Mailchimp audience in memory, seeded from the ``email`` records of the shared population."""

    name = "mailchimp"

    def __init__(
        self,
        *,
        people: int = 200,
        seed: int = 7,
        token: str | None = None,
        faults: Faults | None = None,
        list_id: str = DEFAULT_LIST_ID,
        service_time: float = 0.0,
        per_member_time: float = 0.0,
        max_connections: int = 10,
    ) -> None:
        super().__init__(token=token or DEFAULT_TOKEN, seed=seed, faults=faults)
        self.list_id = list_id
        self.dc = _dc_of(self.token)
        self.service_time = service_time
        self.per_member_time = per_member_time
        self.max_connections = max_connections
        self.in_flight = 0
        self.peak_connections = 0
        self._conn_lock = threading.Lock()
        self._local = threading.local()
        self._web_ids = itertools.count(1001)
        self._merge_ids = itertools.count(1)
        self._new_people = itertools.count(1)
        self._touches = itertools.count(0)
        self.members: dict[str, dict[str, Any]] = {}
        # Members sorted by (last_changed, web_id) with their timestamps, rebuilt after any change:
        # the walk's queries become a bisect instead of a scan of the whole audience.
        self._index: tuple[list[str], list[dict[str, Any]]] | None = None
        self._json_cache: dict[tuple[str, str, str, int, str], bytes] = {}
        #: contact id -> member id, built on a miss (``find_member``).
        self._contacts: dict[str, str] = {}
        self.deleted: set[str] = set()
        self.merge_fields: list[dict[str, Any]] = []
        for tag, name, kind in (
            ("FNAME", "First Name", "text"),
            ("LNAME", "Last Name", "text"),
            ("ADDRESS", "Address", "address"),
            ("PHONE", "Phone Number", "phone"),
            ("BIRTHDAY", "Birthday", "birthday"),
        ):
            self._add_merge_field(tag, name, kind)
        self._seed(people, seed)

    # --- seeding -----------------------------------------------------------------------------------
    def _seed(self, count: int, seed: int) -> None:
        rng = random.Random(seed * 7919 + 17)
        persons = population_people(count, seed)
        for index, record in population(count, seed, malformed_share=0.02):
            if record.get("source") != "email":
                continue
            if index is None:
                # Realistic bad data: an address Mailchimp took in an old import that has no domain
                # suffix, and a phone that is not one; normalise_record must quarantine it.
                email, status = f"{record['id']}@example", "transactional"
            else:
                email = str(record.get("email") or persons[index].email)
                granted = bool(record.get("consent", {}).get("email"))
                roll = rng.random()
                if granted:
                    status = "pending" if roll < 0.07 else "subscribed"
                else:
                    status = "cleaned" if roll < 0.2 else "transactional" if roll < 0.35 else "unsubscribed"
            changed = parse_time(str(record.get("updated_at", ""))) or self.clock.now()
            opted = changed - timedelta(days=rng.randint(0, 60), seconds=rng.randint(0, 3600))
            country = record.get("country")
            member = self._new_member(
                _ascii_address(email),
                status,
                {
                    "FNAME": record.get("first_name", ""),
                    "LNAME": record.get("last_name", ""),
                    "PHONE": record.get("phone", ""),
                    "ADDRESS": (
                        {"addr1": "", "addr2": "", "city": "", "state": "", "zip": "", "country": country}
                        if country
                        else ""
                    ),
                },
                changed,
                timestamp_opt=format_time(opted)
                if status in ("subscribed", "unsubscribed", "cleaned")
                else "",
                # Imported members have no signup time; form signups do.
                timestamp_signup="" if rng.random() < 0.5 else format_time(opted - timedelta(hours=2)),
                language=rng.choice(["", "", "", "", "en", "fr", "de"]),
                source="Import",
            )
            self.members.setdefault(member["id"], member)
        self._index = None

    def _new_member(
        self,
        email: str,
        status: str,
        merge: Mapping[str, Any],
        at: datetime,
        *,
        timestamp_opt: str = "",
        timestamp_signup: str = "",
        language: str = "",
        source: str = "API - Generic",
    ) -> dict[str, Any]:
        member_id = subscriber_hash(email)
        first, last = str(merge.get("FNAME", "") or ""), str(merge.get("LNAME", "") or "")
        return {
            "id": member_id,
            "email_address": email,
            "unique_email_id": member_id[:10],
            "contact_id": uuid.uuid5(uuid.NAMESPACE_URL, member_id).hex,
            "full_name": " ".join(p for p in (first, last) if p),
            "web_id": next(self._web_ids),
            "email_type": "html",
            "status": status,
            "consents_to_one_to_one_messaging": True,
            "merge_fields": {k: v for k, v in merge.items() if v not in (None, "")},
            "interests": {},
            "stats": {"avg_open_rate": 0, "avg_click_rate": 0},
            "ip_signup": "",
            "timestamp_signup": timestamp_signup,
            "ip_opt": "",
            "timestamp_opt": timestamp_opt,
            "member_rating": 2,
            "last_changed": format_time(at),
            "language": language,
            "vip": False,
            "email_client": "",
            "location": {
                "latitude": 0,
                "longitude": 0,
                "gmtoff": 0,
                "dstoff": 0,
                "country_code": "",
                "timezone": "",
                "region": "",
            },
            "source": source,
            "tags_count": 0,
            "tags": [],
            "list_id": self.list_id,
        }

    def _add_merge_field(self, tag: str, name: str, kind: str) -> dict[str, Any]:
        merge_id = next(self._merge_ids)
        field = {
            "merge_id": merge_id,
            "tag": tag,
            "name": name,
            "type": kind,
            "required": False,
            "default_value": "",
            "public": kind != "birthday",
            "display_order": merge_id + 1,
            "options": {"size": 25} if kind == "text" else {},
            "help_text": "",
            "list_id": self.list_id,
        }
        self.merge_fields.append(field)
        return field

    # --- responses ---------------------------------------------------------------------------------
    def problem(self, status: int, title: str, detail: str, **extra: Any) -> httpx.Response:
        """Mailchimp's error document (https://mailchimp.com/developer/marketing/docs/errors/)."""
        body = {
            "type": ERRORS_DOC,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": str(uuid.uuid4()),
            **extra,
        }
        content = json.dumps(body, separators=(",", ":")).encode()
        return httpx.Response(
            status, content=content, headers={"content-type": "application/problem+json; charset=utf-8"}
        )

    def _not_found(self) -> httpx.Response:
        return self.problem(404, "Resource Not Found", "The requested resource could not be found.")

    def _invalid(self, detail: str, errors: list[dict[str, str]] | None = None) -> httpx.Response:
        extra: dict[str, Any] = {"errors": errors} if errors else {}
        return self.problem(400, "Invalid Resource", detail, **extra)

    def _too_many(self, retry_after: str | None = None) -> httpx.Response:
        response = self.problem(
            429,
            "Too Many Requests",
            f"You have exceeded the limit of {self.max_connections} simultaneous connections.",
        )
        if retry_after is not None:
            response.headers["Retry-After"] = retry_after
        return response

    # --- the VendorSandbox hooks -----------------------------------------------------------------
    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        header = request.headers.get("authorization", "")
        if not header.strip():
            return self.problem(401, "API Key Missing", "Your request did not include an API key.")
        scheme, _, value = header.partition(" ")
        key = ""
        if scheme.lower() == "basic":
            try:
                key = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")[2]
            except (ValueError, UnicodeDecodeError):
                key = ""
        host = request.url.host
        wrong_dc = host.endswith(".api.mailchimp.com") and host.split(".", 1)[0] != self.dc
        if key != self.token or wrong_dc:
            return self.problem(
                401,
                "API Key Invalid",
                "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
            )
        return None

    def limit(self, request: httpx.Request) -> httpx.Response | None:
        with self._conn_lock:
            if self.in_flight >= self.max_connections:
                return self._too_many()
            self.in_flight += 1
            self.peak_connections = max(self.peak_connections, self.in_flight)
        return None

    def release(self, request: httpx.Request) -> None:
        with self._conn_lock:
            self.in_flight -= 1

    def throttled(self, retry_after: str | None) -> httpx.Response:
        return self._too_many(retry_after)

    def handle(self, request: httpx.Request) -> httpx.Response:
        response = super().handle(request)
        # The kit's injected 5xx has a generic body; Mailchimp answers with a problem document.
        if response.status_code >= 500 and "problem" not in response.headers.get("content-type", ""):
            return self.problem(
                response.status_code, "Service Unavailable", "Service temporarily unavailable."
            )
        return response

    def _spend(self, members: int) -> None:
        """Take the modelled service time in all: the sandbox's own work so far counts towards it."""
        target = self.service_time + self.per_member_time * members
        if target > 0:
            elapsed = time.perf_counter() - getattr(self._local, "started", time.perf_counter())
            if target > elapsed:
                time.sleep(target - elapsed)

    def route(self, request: httpx.Request) -> httpx.Response:
        self._local.started = time.perf_counter()
        path = request.url.path
        if not path.startswith("/3.0/"):
            return self._not_found()
        parts = [p for p in path[len("/3.0/") :].split("/") if p]
        if parts in (["ping"], ["lists"]):
            if request.method != "GET":
                return self.problem(
                    405, "Method Not Allowed", "The requested method and resource are not compatible."
                )
            return audience.ping() if parts == ["ping"] else audience.get_lists(self, request)
        if len(parts) < 2 or parts[0] != "lists":
            return self._not_found()
        if parts[1] != self.list_id:
            return self._not_found()
        rest, method = parts[2:], request.method
        params = request.url.params
        routes: dict[tuple[str, ...], dict[str, Any]] = {
            (): {"GET": lambda: audience.get_list(self, request), "POST": lambda: self._batch(request)},
            ("members",): {
                "GET": lambda: self._list_members(params),
                "POST": lambda: members.add(self, request),
            },
            ("merge-fields",): {
                "GET": lambda: self._list_merge_fields(params),
                "POST": lambda: self._create_merge_field(request),
            },
        }
        if len(rest) == 2 and rest[0] == "members":
            routes[tuple(rest)] = {
                "GET": lambda: self._get_member(rest[1], params),
                "PUT": lambda: members.set_member(self, request, rest[1]),
                "PATCH": lambda: members.update_member(self, request, rest[1]),
                "DELETE": lambda: self._archive_member(rest[1]),
            }
        if len(rest) == 4 and rest[0] == "members" and rest[2:] == ["actions", "delete-permanent"]:
            routes[tuple(rest)] = {"POST": lambda: self._delete_permanent(rest[1])}
        handlers = routes.get(tuple(rest))
        if handlers is None:
            return self._not_found()
        handler = handlers.get(method)
        if handler is None:
            return self.problem(
                405, "Method Not Allowed", "The requested method and resource are not compatible."
            )
        response: httpx.Response = handler()
        return response

    @staticmethod
    def _shape(body: dict[str, Any], params: httpx.QueryParams) -> dict[str, Any]:
        fields, excluded = params.get("fields"), params.get("exclude_fields")
        if fields:
            body = _select(body, _field_tree(_paths(fields)))
        if excluded:
            body = _exclude(body, _paths(excluded))
        return body

    # --- members -----------------------------------------------------------------------------------
    def _view(self, member: Mapping[str, Any]) -> dict[str, Any]:
        """A member as the API shows it: every merge field of the list, "" when empty."""
        view = dict(member)
        stored = member.get("merge_fields", {})
        view["merge_fields"] = {f["tag"]: stored.get(f["tag"], "") for f in self.merge_fields}
        view["_links"] = []
        return view

    def _int(self, params: httpx.QueryParams, name: str, default: int) -> int | None:
        text = params.get(name)
        if text is None or text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            return None
        return value if value >= 0 else None

    def _list_members(self, params: httpx.QueryParams) -> httpx.Response:
        count, offset = self._int(params, "count", 10), self._int(params, "offset", 0)
        if count is None or offset is None:
            return self._invalid(
                INVALID,
                [
                    {
                        "field": "count" if count is None else "offset",
                        "message": "Must be a non-negative integer",
                    }
                ],
            )
        count = min(count, MAX_COUNT)  # Mailchimp serves at most 1000 per page
        bounds: dict[str, datetime | None] = {}
        for name in ("since_last_changed", "before_last_changed"):
            text = params.get(name)
            bounds[name] = parse_time(text) if text else None
            if text and bounds[name] is None:
                return self._invalid(f"The value of {name} must be an ISO 8601 date and time, got {text!r}.")
        sort_field, sort_dir = params.get("sort_field"), (params.get("sort_dir") or "ASC").upper()
        if sort_field is not None and sort_field not in SORT_FIELDS:
            return self._invalid(f"Invalid sort_field: {sort_field!r}.")
        if sort_dir not in ("ASC", "DESC"):
            return self._invalid(f"Invalid sort_dir: {sort_dir!r}.")
        status = params.get("status")
        # Stored timestamps are all written by format_time (UTC, "+00:00", whole seconds), so their
        # text sorts and compares chronologically.
        since = format_time(bounds["since_last_changed"]) if bounds["since_last_changed"] else None
        before = format_time(bounds["before_last_changed"]) if bounds["before_last_changed"] else None
        with self.lock:
            if sort_field == "last_changed" and not status:
                stamps, ordered = self._changed_index()
                low = bisect.bisect_right(stamps, since) if since else 0
                high = bisect.bisect_left(stamps, before) if before else len(stamps)
                total = max(0, high - low)
                if sort_dir == "ASC":
                    window = ordered[low + offset : min(high, low + offset + count)]
                else:
                    top = high - offset
                    window = ordered[max(low, top - count) : max(low, top)][::-1]
                fast = self._encoded_page(window, total, params)
                page = [] if fast is not None else [self._view(m) for m in window]
                served = len(window)
            else:
                chosen = [
                    m
                    for m in self.members.values()
                    if (not status or m["status"] == status)
                    and (since is None or m["last_changed"] > since)
                    and (before is None or m["last_changed"] < before)
                ]
                if sort_field is not None:
                    key_field = sort_field
                    chosen.sort(
                        key=lambda m: (m.get(key_field) or "", m["web_id"]), reverse=sort_dir == "DESC"
                    )
                else:
                    chosen.sort(key=lambda m: m["web_id"])
                fast = None
                page = [self._view(m) for m in chosen[offset : offset + count]]
                total, served = len(chosen), len(page)
        self._spend(served)
        if fast is not None:
            return fast
        body = {"members": page, "list_id": self.list_id, "total_items": total, "_links": []}
        return json_response(200, self._shape(body, params))

    def _encoded_page(
        self, window: list[dict[str, Any]], total: int, params: httpx.QueryParams
    ) -> httpx.Response | None:
        """The members page of a ``fields=`` query, from per-member JSON cached until the member (or
        the list's merge fields) change: what the walk asks for, served without re-encoding it.
        None when the query needs the general path. Call under ``self.lock``."""
        fields = params.get("fields")
        if not fields or params.get("exclude_fields"):
            return None
        tree = _field_tree(_paths(fields))
        members_tree = tree.get("members")
        if not isinstance(members_tree, dict) or not set(tree) <= {
            "members",
            "list_id",
            "total_items",
            "_links",
        }:
            return None
        if len(self._json_cache) > 200_000:
            self._json_cache.clear()
        parts = []
        for member in window:
            key = (member["id"], member["last_changed"], member["status"], len(self.merge_fields), fields)
            part = self._json_cache.get(key)
            if part is None:
                part = json.dumps(_select(self._view(member), members_tree), separators=(",", ":")).encode()
                self._json_cache[key] = part
            parts.append(part)
        top = {"list_id": self.list_id, "total_items": total, "_links": []}
        pieces = [
            b'"members":[' + b",".join(parts) + b"]"
            if key == "members"
            else json.dumps(key).encode() + b":" + json.dumps(top[key]).encode()
            for key in ("members", "list_id", "total_items", "_links")
            if key in tree
        ]
        return httpx.Response(
            200,
            content=b"{" + b",".join(pieces) + b"}",
            headers={"content-type": "application/json; charset=utf-8"},
        )

    def _changed_index(self) -> tuple[list[str], list[dict[str, Any]]]:
        """Members by (last_changed, web_id), and their last_changed texts (call under ``self.lock``)."""
        if self._index is None:
            ordered = sorted(self.members.values(), key=lambda m: (m["last_changed"], m["web_id"]))
            self._index = ([m["last_changed"] for m in ordered], ordered)
        return self._index

    def find_member(self, key: str) -> dict[str, Any] | None:
        """The member a path names: by subscriber hash, email address or contact id, as the spec's
        ``subscriber_hash`` parameter says (call under the lock)."""
        found = self.members.get(key.lower()) or self.members.get(subscriber_hash(key))
        if found is not None:
            return found
        member_id = self._contacts.get(key)
        member = self.members.get(member_id) if member_id is not None else None
        if member is None or member["contact_id"] != key:
            # Members come and go under many writers: the contact index is built again on a miss.
            self._contacts = {m["contact_id"]: i for i, m in self.members.items()}
            member_id = self._contacts.get(key)
            member = self.members.get(member_id) if member_id is not None else None
        return member

    def move_member(self, member: dict[str, Any], email: str) -> None:
        """Give a member a new address, as ``PATCH .../members/{hash}`` with ``email_address`` does: a
        new id (the new address's hash) and ``unique_email_id``, the same ``contact_id`` (call under
        the lock; the caller checks that the address is free)."""
        del self.members[member["id"]]
        member_id = subscriber_hash(email)
        member.update(id=member_id, email_address=email, unique_email_id=member_id[:10])
        self.members[member_id] = member
        self._contacts[member["contact_id"]] = member_id
        self._index = None

    @staticmethod
    def is_valid_address(email: str) -> bool:
        """Whether Mailchimp takes ``email`` as an address (ASCII, a dotted domain)."""
        return bool(_EMAIL.match(email)) and email.isascii()

    def _get_member(self, member_id: str, params: httpx.QueryParams) -> httpx.Response:
        with self.lock:
            member = self.find_member(member_id)
            view = self._view(member) if member else None
        if view is None:
            return self._not_found()
        self._spend(1)
        return json_response(200, self._shape(view, params))

    def _delete_permanent(self, member_id: str) -> httpx.Response:
        with self.lock:
            found = self.find_member(member_id)
            member = self.members.pop(found["id"], None) if found is not None else None
            self._index = None
            if member is not None:
                # Mailchimp remembers that the address was deleted (it refuses a re-import); the
                # sandbox keeps a digest of the member id, not the id (which is the address's hash).
                self.deleted.add(forgotten(member["id"]))
        if member is None:
            return self._not_found()
        self._spend(0)
        return httpx.Response(204)

    # --- batch subscribe ---------------------------------------------------------------------------
    def _merge_errors(self, merge: Any) -> tuple[dict[str, Any], tuple[str, str] | None]:
        """The merge values to store, or the first (tag, message) that Mailchimp would refuse."""
        if merge is None:
            return {}, None
        if not isinstance(merge, dict):
            return {}, ("merge_fields", "Merge fields must be an object")
        types = {f["tag"]: f["type"] for f in self.merge_fields}
        clean: dict[str, Any] = {}
        for tag, value in merge.items():
            kind = types.get(tag)
            if kind is None:
                continue  # unknown tags are ignored
            if kind == "number":
                if isinstance(value, bool) or not (
                    isinstance(value, int | float)
                    or (isinstance(value, str) and (value == "" or _NUMBER.match(value)))
                ):
                    return {}, (tag, "Please enter a number")
                # Mailchimp keeps a number field's value as a number and answers it as one.
                clean[tag] = _as_number(value)
                continue
            if kind == "date":
                if not (isinstance(value, str) and (value == "" or _DATE.match(value))):
                    return {}, (tag, "Please enter the date in the format YYYY-MM-DD")
            elif kind == "address":
                if not (value == "" or isinstance(value, dict)):
                    return {}, (tag, "Please enter a complete address")
            elif not isinstance(value, str | int | float):
                return {}, (tag, "Please enter a value")
            clean[tag] = value
        return clean, None

    def _batch(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            return self.problem(
                400, "JSON Parse Exception", "We encountered an unspecified JSON parsing error."
            )

        if not isinstance(body, dict) or not isinstance(body.get("members"), list):
            return self._invalid(
                INVALID, [{"field": "members", "message": "Required fields were not provided: members"}]
            )
        items: list[Any] = body["members"]
        if len(items) > MAX_BATCH:
            return self._invalid(
                INVALID, [{"field": "members", "message": f"A maximum of {MAX_BATCH} members is allowed"}]
            )
        update_existing = body.get("update_existing") is True
        created: list[dict[str, Any]] = []
        updated: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []

        def fail(
            email: str, message: str, code: str = "ERROR_GENERIC", field: str | None = None, hint: str = ""
        ) -> None:
            entry: dict[str, Any] = {"email_address": email, "error": message, "error_code": code}
            if field:
                entry.update(field=field, field_message=hint)
            errors.append(entry)

        with self.lock:
            now = self.clock.now()
            for item in items:
                if not isinstance(item, dict):
                    fail("", "Each member must be an object")
                    continue
                email = str(item.get("email_address") or "").strip()
                status = item.get("status")
                if not self.is_valid_address(email):
                    fail(email, f"{email} looks fake or invalid, please enter a real email address.")
                    continue
                if status not in BATCH_STATUSES:
                    fail(
                        email,
                        "Invalid Resource",
                        field="status",
                        hint=f"Status must be one of {sorted(BATCH_STATUSES)}",
                    )
                    continue
                merge, bad = self._merge_errors(item.get("merge_fields"))
                if bad is not None:
                    fail(email, "Your merge fields were invalid.", field=bad[0], hint=bad[1])
                    continue
                member_id = subscriber_hash(email)
                existing = self.members.get(member_id)
                if existing is None:
                    if self.was_deleted(member_id):
                        fail(
                            email,
                            f"{email} was permanently deleted and cannot be re-imported. The contact must "
                            "re-subscribe to get back on the list.",
                        )
                        continue
                    member = self._new_member(
                        email,
                        str(status),
                        merge,
                        now,
                        timestamp_opt=format_time(now) if status == "subscribed" else "",
                    )
                    self.members[member_id] = member
                    self._index = None
                    created.append(self._view(member))
                    continue
                if not update_existing:
                    fail(
                        email,
                        f"{email} is already a list member, do you want to update? please provide "
                        "update_existing:true in the request body",
                        code="ERROR_CONTACT_EXISTS",
                    )
                    continue
                if status == "subscribed" and existing["status"] in ("unsubscribed", "cleaned"):
                    fail(
                        email,
                        f"{email} is in a compliance state due to unsubscribe, bounce, or compliance review "
                        "and cannot be subscribed.",
                    )
                    continue
                changed = existing["status"] != status or any(
                    existing["merge_fields"].get(tag, "") != value for tag, value in merge.items()
                )
                if changed:
                    if status == "subscribed" and existing["status"] != "subscribed":
                        existing["timestamp_opt"] = format_time(now)
                    existing["status"] = status
                    existing["merge_fields"].update(merge)
                    existing["last_changed"] = format_time(now)
                    self._index = None
                updated.append(self._view(existing))
        self._spend(len(items))
        return json_response(
            200,
            {
                "new_members": created,
                "updated_members": updated,
                "errors": errors,
                "total_created": len(created),
                "total_updated": len(updated),
                "error_count": len(errors),
                "_links": [],
            },
        )

    # --- merge fields ------------------------------------------------------------------------------
    def _list_merge_fields(self, params: httpx.QueryParams) -> httpx.Response:
        count, offset = self._int(params, "count", 10), self._int(params, "offset", 0)
        count, offset = min(count or 0, MAX_COUNT), offset or 0
        with self.lock:
            fields = [{**f, "_links": []} for f in self.merge_fields]
        body = {
            "merge_fields": fields[offset : offset + count],
            "list_id": self.list_id,
            "total_items": len(fields),
            "_links": [],
        }
        return json_response(200, self._shape(body, params))

    def _create_merge_field(self, request: httpx.Request) -> httpx.Response:
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            return self.problem(
                400, "JSON Parse Exception", "We encountered an unspecified JSON parsing error."
            )

        if not isinstance(body, dict):
            return self._invalid(INVALID, [{"field": "", "message": "Schema describes object"}])
        missing = [f for f in ("name", "type") if not isinstance(body.get(f), str) or not body[f].strip()]
        if missing:
            return self._invalid(
                INVALID, [{"field": f, "message": "This value should not be blank."} for f in missing]
            )
        if body["type"] not in MERGE_TYPES:
            return self._invalid(
                INVALID, [{"field": "type", "message": "Data did not match any of the schemas"}]
            )
        with self.lock:
            tag = str(body.get("tag") or f"MMERGE{len(self.merge_fields) + 1}").upper()
            if any(f["tag"] == tag for f in self.merge_fields):
                return self._invalid(f'A Merge Field with the tag "{tag}" already exists for this list.')
            field = self._add_merge_field(tag, str(body["name"]), str(body["type"]))
        return json_response(200, {**field, "_links": []})

    # --- the SandboxControl surface ----------------------------------------------------------------
    def settings(self, transport: bool = True) -> ConnectorSettings:
        """The key and audience id of this sandbox; in-process it answers for ``<dc>.api.mailchimp.com``."""
        return ConnectorSettings(
            credentials={"mailchimp_api_key": self.token},
            options={"list_id": self.list_id},
            transport=self.transport() if transport else None,
        )

    def record_keys(self) -> set[str]:
        """``member:<contact id>``: the connector keys a member's record by its contact id."""
        with self.lock:
            return {f"member:{m['contact_id']}" for m in self.members.values() if m["status"] != "archived"}

    def _member_of(self, key: str) -> dict[str, Any]:
        """The member a record key (``member:<contact id or member id>``) names (under the lock)."""
        member = self.find_member(key.split(":", 1)[1])
        if member is None:
            raise KeyError(key)
        return member

    def _archive_member(self, member_id: str) -> httpx.Response:
        """``DELETE .../members/{hash}``: archive the member (204); it stays listed, status "archived"."""
        with self.lock:
            member = self.find_member(member_id)
            if member is None or member["status"] == "archived":
                return self._not_found()
            self._archive(member, self.clock.now())
        return httpx.Response(204)

    def _archive(self, member: dict[str, Any], at: datetime) -> None:
        member["status"] = "archived"
        member["last_changed"] = format_time(at)
        self._index = None

    def delete_records(self, keys: set[str], at: datetime | None = None) -> None:
        """Archive these members (``member:<id>``) at ``at``, as ``DELETE .../members/{hash}`` does."""
        with self.lock:
            for key in sorted(keys):
                self._archive(self._member_of(key), at or self.clock.now())

    def touch(self, keys: Iterable[str], at: datetime | None = None) -> None:
        """Give each member a new last name, stamped ``at`` (default: the sandbox clock)."""
        stamp = format_time(at or self.clock.now())
        with self.lock:
            for key in keys:
                member = self._member_of(key)
                current = member["merge_fields"].get("LNAME", "")
                name = next(
                    n for n in (_SURNAMES[next(self._touches) % len(_SURNAMES)], *_SURNAMES) if n != current
                )
                member["merge_fields"]["LNAME"] = name
                member["full_name"] = f"{member['merge_fields'].get('FNAME', '')} {name}".strip()
                member["last_changed"] = stamp
            self._index = None

    def add_records(self, count: int, at: datetime | None = None) -> set[str]:
        """Subscribe ``count`` new people (``new<k>@example.com``), all changed at ``at``."""
        when = at or self.clock.now()
        keys = set()
        with self.lock:
            for _ in range(count):
                k = next(self._new_people)
                member = self._new_member(
                    f"new{k}@example.com",
                    "subscribed",
                    {"FNAME": "New", "LNAME": f"Person {_SURNAMES[k % len(_SURNAMES)]}"},
                    when,
                    timestamp_opt=format_time(when),
                    timestamp_signup=format_time(when),
                )
                self.members[member["id"]] = member
                self._index = None
                keys.add(f"member:{member['contact_id']}")
        return keys

    def was_deleted(self, member_id: str) -> bool:
        """Whether a member of this id was permanently deleted (its address cannot be re-imported)."""
        return forgotten(member_id) in self.deleted

    def holdings(self) -> str:
        """Every member of the audience (the deleted ones are digests of their ids)."""
        with self.lock:
            return holdings_text(self.members, sorted(self.deleted))

    def holds(self, email: str) -> bool:
        with self.lock:
            member = self.members.get(subscriber_hash(email))
            return member is not None and member["status"] != "archived"

    def pushed_traits(self, email: str) -> dict[str, Any]:
        with self.lock:
            member = self.members.get(subscriber_hash(email))
            return {k: v for k, v in (member or {}).get("merge_fields", {}).items() if k in PUSHED_TAGS}


def make_sandbox(
    people: int = 200, seed: int = 7, token: str | None = None, faults: Faults | None = None, **options: Any
) -> MailchimpSandbox:
    """A seeded Mailchimp sandbox (see ``MailchimpSandbox`` for ``options``)."""
    return MailchimpSandbox(people=people, seed=seed, token=token, faults=faults, **options)


__all__ = ["DEFAULT_LIST_ID", "DEFAULT_TOKEN", "MailchimpSandbox", "make_sandbox"]
