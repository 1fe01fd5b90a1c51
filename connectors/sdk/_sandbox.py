"""``DeclaredSandbox``: a ready-made fake for a simple JSON vendor, enough to start a connector with.

It serves one list resource of people, paged by an opaque keyset cursor and filtered by modification
time, a batch upsert of custom properties, and an erase by email, behind a bearer token, with a
requests-per-second limit answered by 429 + ``Retry-After``. Everything the shared contract tests
drive (``SandboxControl``) is implemented. A real vendor's sandbox replaces the routes with the
vendor's own shapes (see ``connectors/klaviyo/_sandbox.py``); this one is for scaffolds, examples and
vendors whose API really is this simple.

The wire protocol, with the class attributes naming the paths::

    GET  {list_path}?updated_since=<ISO, inclusive>&cursor=<token>&limit=<1..page_size_max>
         -> {"data": [record...], "next_cursor": "<token>" | null}
    POST {push_path}  {"records": [{"email": ..., "id": <optional>, "properties": {...}}]}
         -> {"results": [{"email": ..., "id": ..., "status": "updated" | "created" | "not_found"}]}
    POST {erase_path} {"email": ...} or {"id": ...} -> {"deleted": <count>}

A record with an ``id`` updates that record (``not_found`` when there is none: never a create); one
without is upserted on its email. Results come in the order of the records.

A request to any other path is a 404 whose message says the sandbox does not serve it: a declaration
changed without its sandbox fails the contract tests loudly, not silently.
"""

from __future__ import annotations

import base64
import itertools
import json
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, ClassVar

import httpx

from connectors._sandbox import Faults, SlidingWindow, VendorSandbox, holdings_text, json_response
from core.connector import ConnectorSettings
from core.testing.population import people as population_people
from core.testing.population import population

from ._cursor import format_point, parse_point

_SURNAMES = ("Moreau", "Keller", "Adeyemi", "Lindqvist", "Okonkwo", "Barros", "Hale")


class DeclaredSandbox(VendorSandbox):
    """A simple vendor in memory, seeded from one source's records of the shared population."""

    name = "declared"
    credential: ClassVar[str] = "declared_token"
    list_path: ClassVar[str] = "/v1/people"
    push_path: ClassVar[str] = "/v1/people/batch"
    erase_path: ClassVar[str] = "/v1/people/erase"
    object_type: ClassVar[str] = "person"
    page_size_max: ClassVar[int] = 100
    seed_source: ClassVar[str] = "email"
    """Which population source the people come from (``crm``, ``shop`` or ``email``)."""

    def __init__(
        self,
        *,
        people: int = 200,
        seed: int = 7,
        token: str | None = None,
        faults: Faults | None = None,
        requests_per_second: int = 50,
    ) -> None:
        super().__init__(
            token=token or f"{self.name}-sandbox-token", seed=seed, faults=faults or Faults(seed=seed)
        )
        self.window = SlidingWindow(requests_per_second, 1.0)
        self.records: dict[str, dict[str, Any]] = {}
        self.erased: set[str] = set()
        self._ids = itertools.count(1)
        self._touches = itertools.count()
        self._seed(people, seed)

    # --- seeding -----------------------------------------------------------------------------------
    def _seed(self, count: int, seed: int) -> None:
        persons = population_people(count, seed)
        rng = random.Random(seed)
        for index, flat in population(count, seed):
            if flat.get("source") != self.seed_source:
                continue
            at = parse_point(str(flat.get("updated_at", ""))) or self.clock.now()
            email = str(flat.get("email") or (persons[index].email if index is not None else ""))
            record = self.make_record(flat, email.strip(), at)
            if index is None:
                record["email"] = None  # malformed on purpose: normalise must quarantine it
            record.setdefault("created_at", format_point(at - timedelta(days=rng.randint(0, 90))))
            self.records[record["id"]] = record

    def make_record(self, flat: dict[str, Any], email: str, at: datetime) -> dict[str, Any]:
        """One vendor record from a flat population record; override to match the vendor's shape."""
        consent = flat.get("consent", {}).get("email")
        return {
            "id": f"p{next(self._ids):06d}",
            "email": email or None,
            "phone": flat.get("phone"),
            "first_name": flat.get("first_name"),
            "last_name": flat.get("last_name"),
            "country": flat.get("country"),
            "email_marketing": {True: "subscribed", False: "unsubscribed"}.get(consent),
            "updated_at": format_point(at),
            "properties": {},
        }

    # --- VendorSandbox hooks -----------------------------------------------------------------------
    def authenticate(self, request: httpx.Request) -> httpx.Response | None:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return json_response(401, {"error": {"message": "The bearer token is missing or invalid."}})
        return None

    def limit(self, request: httpx.Request) -> httpx.Response | None:
        wait = self.window.admit()
        return self.throttled(str(max(1, round(wait)))) if wait else None

    def throttled(self, retry_after: str | None) -> httpx.Response:
        headers = {} if retry_after is None else {"Retry-After": retry_after}
        return json_response(429, {"error": {"message": "Too many requests."}}, headers)

    def route(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        if (method, path) == ("GET", self.list_path):
            return self._list(request.url.params)
        if (method, path) == ("POST", self.push_path):
            return self._push(json.loads(request.content or b"{}"))
        if (method, path) == ("POST", self.erase_path):
            return self._erase(json.loads(request.content or b"{}"))
        served = f"GET {self.list_path}, POST {self.push_path}, POST {self.erase_path}"
        return json_response(
            404,
            {
                "error": {
                    "message": f"the {self.name} sandbox does not serve {method} {path} (it serves "
                    f"{served}): update the sandbox to match the declaration"
                }
            },
        )

    # --- routes ------------------------------------------------------------------------------------
    @staticmethod
    def _token(record: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps([record["updated_at"], record["id"]]).encode()).decode()

    def _list(self, params: httpx.QueryParams) -> httpx.Response:
        try:
            limit = int(params.get("limit", "20"))
            since = parse_point(params["updated_since"]) if "updated_since" in params else None
            after = json.loads(base64.urlsafe_b64decode(params["cursor"])) if "cursor" in params else None
        except (ValueError, KeyError):
            return json_response(400, {"error": {"message": "limit, updated_since or cursor is invalid."}})
        if not 1 <= limit <= self.page_size_max or ("updated_since" in params and since is None):
            return json_response(
                400, {"error": {"message": f"limit must be 1-{self.page_size_max}; updated_since ISO 8601."}}
            )
        with self.lock:
            ordered = sorted(self.records.values(), key=lambda r: (parse_point(r["updated_at"]), r["id"]))
            if since is not None:
                ordered = [r for r in ordered if (parse_point(r["updated_at"]) or since) >= since]
            if after is not None:
                mark = (parse_point(after[0]), after[1])
                ordered = [r for r in ordered if (parse_point(r["updated_at"]), r["id"]) > mark]
            page = [json.loads(json.dumps(r)) for r in ordered[:limit]]
        following = self._token(page[-1]) if len(ordered) > limit else None
        return json_response(200, {"data": page, "next_cursor": following})

    def _push(self, body: Any) -> httpx.Response:
        items = body.get("records") if isinstance(body, dict) else None
        if not isinstance(items, list) or len(items) > self.page_size_max:
            return json_response(
                400, {"error": {"message": f"records must be a list of at most {self.page_size_max}."}}
            )
        results = []
        with self.lock:
            for item in items:
                email = str(item.get("email", "")).strip().lower()
                if item.get("id") is not None:
                    record = self.records.get(str(item["id"]))
                    if record is None:
                        results.append({"email": item.get("email"), "id": item["id"], "status": "not_found"})
                        continue
                else:
                    record = next(
                        (r for r in self.records.values() if (r["email"] or "").lower() == email), None
                    )
                status = "updated"
                if record is None:
                    record = self.make_record({}, item["email"], self.clock.now())
                    self.records[record["id"]] = record
                    status = "created"
                record["properties"] = {**record["properties"], **item.get("properties", {})}
                record["updated_at"] = format_point(self.clock.now())
                results.append({"email": record["email"], "id": record["id"], "status": status})
        return json_response(200, {"results": results})

    def _erase(self, body: Any) -> httpx.Response:
        given = body if isinstance(body, dict) else {}
        with self.lock:
            if given.get("id"):
                found = [str(given["id"])] if str(given["id"]) in self.records else []
            else:
                email = str(given.get("email", "")).strip().lower()
                found = [k for k, r in self.records.items() if email and (r["email"] or "").lower() == email]
            for key in found:
                del self.records[key]
            self.erased.update(found)
        return json_response(200, {"deleted": len(found)})

    # --- SandboxControl ----------------------------------------------------------------------------
    def settings(self, transport: bool = True) -> ConnectorSettings:
        return ConnectorSettings(
            credentials={self.credential: self.token}, transport=self.transport() if transport else None
        )

    def record_keys(self) -> set[str]:
        with self.lock:
            return {f"{self.object_type}:{key}" for key in self.records}

    def touch(self, keys: Iterable[str], at: datetime | None = None) -> None:
        stamp = format_point(at or self.clock.now())
        with self.lock:
            for key in keys:
                record = self.records[key.split(":", 1)[1]]
                current = record.get("last_name")
                record["last_name"] = next(
                    n for n in (_SURNAMES[next(self._touches) % len(_SURNAMES)], *_SURNAMES) if n != current
                )
                record["updated_at"] = stamp

    def add_records(self, count: int, at: datetime | None = None) -> set[str]:
        when = at or self.clock.now()
        keys = set()
        with self.lock:
            for _ in range(count):
                n = next(self._ids)
                record = self.make_record(
                    {"first_name": "New", "last_name": "Person", "consent": {"email": True}},
                    f"new{n}@example.com",
                    when,
                )
                self.records[record["id"]] = record
                keys.add(f"{self.object_type}:{record['id']}")
        return keys

    def holdings(self) -> str:
        """Every record the vendor holds."""
        with self.lock:
            return holdings_text(self.records)

    def holds(self, email: str) -> bool:
        with self.lock:
            return any((r["email"] or "").lower() == email.lower() for r in self.records.values())

    def pushed_traits(self, email: str) -> dict[str, Any]:
        with self.lock:
            for record in self.records.values():
                if (record["email"] or "").lower() == email.lower():
                    return dict(record["properties"])
        return {}


__all__ = ["DeclaredSandbox"]
