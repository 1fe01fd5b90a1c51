"""The Klaviyo sandbox's profile reads: ``GET /api/profiles`` (``page[size]``, the keyset ``page[cursor]``,
``sort``, ``filter`` with the operators the spec allows per field, ``additional-fields``, sparse
fieldsets) and ``GET /api/profiles/{id}``.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors.sdk import parse_point

from . import _sandbox_profiles as profile_api

if TYPE_CHECKING:
    from ._sandbox import KlaviyoSandbox

MAX_PAGE: Final = 100
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


def _parse_filter(sb: KlaviyoSandbox, text: str) -> list[Callable[[dict[str, Any]], bool]] | str:
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


def list_profiles(sb: KlaviyoSandbox, request: httpx.Request, base: str) -> httpx.Response:
    params = request.url.params
    unknown = [k for k in params if k not in _LIST_PARAMS and not k.startswith("fields[")]
    if unknown:
        return sb.error(
            400,
            "invalid",
            "Invalid input.",
            f"'{unknown[0]}' is not a valid query parameter.",
            parameter=unknown[0],
        )
    size_text = params.get("page[size]", "20")
    if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_PAGE:
        return sb.error(
            400,
            "invalid",
            "Invalid input.",
            f"page[size] must be between 1 and {MAX_PAGE}.",
            parameter="page[size]",
        )
    size = int(size_text)
    sort = params.get("sort", "id")
    if sort.lstrip("-") not in SORTS:
        return sb.error(
            400, "invalid", "Invalid input.", f"'{sort}' is not a valid sort field.", parameter="sort"
        )
    tests = _parse_filter(sb, params["filter"]) if "filter" in params else []
    if isinstance(tests, str):
        return sb.error(400, "invalid", "Invalid input.", tests, parameter="filter")
    unknown_field = profile_api.unknown_fields(params, _PROFILE_FIELDS)
    if unknown_field is not None:
        return sb.error(
            400,
            "invalid",
            "Invalid input.",
            f"'{unknown_field}' is not a valid field for the resource 'profile'.",
            parameter="fields[profile]",
        )
    extra = {e.strip() for e in params.get("additional-fields[profile]", "").split(",") if e.strip()}
    if extra - {"subscriptions", "predictive_analytics"}:
        return sb.error(
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
            return sb.error(
                400, "invalid", "Invalid input.", "Invalid page cursor.", parameter="page[cursor]"
            )
    with sb.lock:
        chosen = sorted(
            (p for p in sb.profiles.values() if all(t(p) for t in tests)), key=key, reverse=descending
        )
        if after is not None:
            chosen = [p for p in chosen if (key(p) < after if descending else key(p) > after)]
        page = [
            profile_api.sparse(sb._resource(p, base, subscriptions="subscriptions" in extra), params)
            for p in chosen[:size]
        ]
        last = key(chosen[size - 1]) if len(chosen) > size else None
    links = {"self": str(request.url)}
    if last is not None:
        token = base64.urlsafe_b64encode(json.dumps([sort, *last]).encode()).decode()
        links["next"] = str(request.url.copy_set_param("page[cursor]", token))
    return sb.document(200, {"data": page, "links": links})


def get_profile(sb: KlaviyoSandbox, profile_id: str, request: httpx.Request, base: str) -> httpx.Response:
    extra = {e.strip() for e in request.url.params.get("additional-fields[profile]", "").split(",")}
    with sb.lock:
        profile = sb.profiles.get(profile_id)
        if profile is None:
            return sb.error(404, "not_found", "Not found.", f"A profile with id {profile_id} does not exist.")
        resource = profile_api.sparse(
            sb._resource(profile, base, subscriptions="subscriptions" in extra), request.url.params
        )
    return sb.document(200, {"data": resource, "links": resource["links"]})
