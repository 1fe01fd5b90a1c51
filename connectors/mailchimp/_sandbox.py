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
  single-member writes ``POST .../members``, ``PUT``, ``PATCH`` and ``DELETE .../members/{hash}`` and
  delete-permanent (``_sandbox_members``), as mailchimp-marketing calls them.

The parts live beside this module: member reads (``_sandbox_list``), batch subscribe and the merge
values it checks (``_sandbox_batch``), merge fields (``_sandbox_merge_fields``), seeding
(``_sandbox_seed``), the ``fields=`` selection every answer goes through (``_sandbox_wire``), and
which of them answers a request (path and method: ``_sandbox_routes``).

``service_time`` and ``per_member_time`` make each request take that long (seconds), so a benchmark
can measure what the concurrency limit allows.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

import httpx

from connectors._sandbox import Faults, VendorSandbox, forgotten, holdings_text
from core.connector import ConnectorSettings

from . import _sandbox_members as members
from . import _sandbox_merge_fields as merge_fields
from . import _sandbox_routes as routes
from . import _sandbox_seed as seeding
from ._cursor import format_time
from ._mapping import PUSHED_TAGS, subscriber_hash
from ._sandbox_batch import BATCH_STATUSES as BATCH_STATUSES
from ._sandbox_batch import MAX_BATCH as MAX_BATCH
from ._sandbox_list import MAX_COUNT as MAX_COUNT
from ._sandbox_list import SORT_FIELDS as SORT_FIELDS
from ._sandbox_merge_fields import MERGE_TYPES as MERGE_TYPES
from ._sandbox_wire import INVALID as INVALID
from ._sandbox_wire import FieldTree as FieldTree

DEFAULT_TOKEN: Final = "5f0c2d4b9a8e7c6d1b3a2f4e6d8c0b1a-us21"
DEFAULT_LIST_ID: Final = "a1b2c3d4e5"
ERRORS_DOC: Final = "https://mailchimp.com/developer/marketing/docs/errors/"
#: A label of the domain: letters (UTF-8 ones too) and digits, hyphens inside.
_LABEL = r"[^\W_](?:(?:[^\W_]|-)*[^\W_])?"
_EMAIL = re.compile(rf"^[^@\s]+@{_LABEL}(?:\.{_LABEL})+$")
_SURNAMES: Final = ("Moreau", "Keller", "Adeyemi", "Lindqvist", "Okonkwo", "Barros", "Hale")


def _dc_of(token: str) -> str:
    _, sep, suffix = token.rpartition("-")
    return suffix if sep and re.fullmatch(r"[a-z]{2,4}\d{1,3}", suffix) else "us21"


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
        page_size: int | None = None,
    ) -> None:
        super().__init__(token=token or DEFAULT_TOKEN, seed=seed, faults=faults)
        self.list_id = list_id
        self.dc = _dc_of(self.token)
        self.service_time = service_time
        self.per_member_time = per_member_time
        self.max_connections = max_connections
        #: The connector's ``page_size`` option in ``settings()`` (None: its default).
        self.page_size = page_size
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
            merge_fields.add(self, tag, name, kind)
        seeding.seed_members(self, people, seed)

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
        return routes.route(self, request)

    # --- members -----------------------------------------------------------------------------------
    def _view(self, member: Mapping[str, Any]) -> dict[str, Any]:
        """A member as the API shows it: every merge field of the list, "" when empty."""
        view = dict(member)
        stored = member.get("merge_fields", {})
        view["merge_fields"] = {f["tag"]: stored.get(f["tag"], "") for f in self.merge_fields}
        view["_links"] = []
        return view

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
        """Whether Mailchimp takes ``email`` as an address: an ASCII prefix, a dotted domain that may
        hold UTF-8 letters ("we block direcciónelectrónica@domain.com ... but allow
        test@ñoñó1234.com": https://mailchimp.com/help/international-characters-in-mailchimp/)."""
        return bool(_EMAIL.match(email)) and email.partition("@")[0].isascii()

    # --- the SandboxControl surface ----------------------------------------------------------------
    def settings(self, transport: bool = True) -> ConnectorSettings:
        """The key and audience id of this sandbox; in-process it answers for ``<dc>.api.mailchimp.com``."""
        return ConnectorSettings(
            credentials={"mailchimp_api_key": self.token},
            options={
                "list_id": self.list_id,
                **({} if self.page_size is None else {"page_size": str(self.page_size)}),
            },
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

    def _archive(self, member: dict[str, Any], at: datetime) -> None:
        member["status"] = "archived"
        member["last_changed"] = format_time(at)
        self._index = None

    def delete_records(self, keys: set[str], at: datetime | None = None) -> None:
        """Archive these members (``member:<id>``) at ``at``, as ``DELETE .../members/{hash}`` does."""
        with self.lock:
            for key in sorted(keys):
                self._archive(self._member_of(key), at or self.clock.now())

    def purge_records(self, keys: set[str]) -> None:
        """Delete these members (``member:<contact id>``) for good, as ``POST .../members/{hash}/actions/
        delete-permanent`` does: no archived member left to list (``PurgesRecords``)."""
        with self.lock:
            for key in sorted(keys):
                if members.delete_permanent(self, key.split(":", 1)[1]).status_code != 204:
                    raise KeyError(key)

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
                member = seeding.new_member(
                    self,
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
