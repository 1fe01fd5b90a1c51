"""The HubSpot sandbox's contact search: filter groups (at most 5 groups, 6 filters each, 18 in all),
the operators, the text query, one sort, pages of at most 200 and the 10,000-result cap; an
incremental pull's ``lastmodifieddate`` bound is found by bisection.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors._sandbox import json_response

from . import _sandbox_list as listing
from . import _sandbox_objects as objects
from ._mapping import timestamp_ms
from ._sandbox_wire import (
    _invalid,
    _json_object,
    _Request,
)

if TYPE_CHECKING:
    from ._sandbox import HubSpotSandbox, _Contact

SEARCH_MAX: Final = 200
SEARCH_DEFAULT: Final = 10
MAX_FILTER_GROUPS: Final = 5
MAX_FILTERS_PER_GROUP: Final = 6
MAX_FILTERS: Final = 18
_DATETIME_PROPERTIES: Final = frozenset({"createdate", "lastmodifieddate"})
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


def _candidates(sb: HubSpotSandbox, groups: list[list[dict[str, Any]]]) -> Iterable[_Contact]:
    """The contacts a search must look at: when every filter group bounds ``lastmodifieddate`` from
    below (what incremental pulls send), only those modified since the lowest bound, found by bisection
    in an index kept by modification time; when every group bounds ``hs_object_id`` from below (a walk
    by id), only the ids above the lowest bound, when fewer; otherwise all of them."""
    by_time = _floor(
        groups, "lastmodifieddate", ("GT", "GTE", "EQ"), lambda v: _coerce(sb, "lastmodifieddate", v)
    )
    by_id = _floor(groups, "hs_object_id", ("GT", "GTE"), _whole)
    if by_time is None and by_id is None:
        return list(sb._contacts.values())
    found: list[_Contact] | None = None
    if by_time is not None:
        if sb._by_modified is None:
            sb._by_modified = sorted((c.updated_ms, int(c.id)) for c in sb._contacts.values())
        start = bisect.bisect_left(sb._by_modified, (by_time, -1))
        found = [sb._contacts[str(i)] for _, i in sb._by_modified[start:]]
    if by_id is not None:
        ids = listing._ordered_ids(sb)
        above = ids[bisect.bisect_left(ids, by_id) :]
        if found is None or len(above) < len(found):
            found = [sb._contacts[str(i)] for i in above]
    return found if found is not None else list(sb._contacts.values())


def _floor(
    groups: list[list[dict[str, Any]]], name: str, operators: tuple[str, ...], read: Callable[[Any], Any]
) -> int | None:
    """The lowest value of ``name`` every filter group asks at or above (a superset: each group's own
    filters still apply), or None when some group does not bound it from below."""
    bounds: list[int] = []
    for filters in groups:
        found = [
            read(f.get("value"))
            for f in filters
            if f.get("propertyName") == name and f.get("operator") in operators
        ]
        usable = [int(b) for b in found if isinstance(b, int | float) and not isinstance(b, bool)]
        if not usable:
            return None
        bounds.append(max(usable))
    return min(bounds) if bounds else None


def _whole(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


# --- contacts: search -----------------------------------------------------------------------------
def search(sb: HubSpotSandbox, request: _Request) -> httpx.Response:
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
            if not isinstance(f, dict) or not f.get("propertyName") or f.get("operator") not in _OPERATORS:
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
    if offset >= sb.search_result_cap:
        raise _invalid(
            f"The search endpoints are limited to {sb.search_result_cap} total results for any given "
            "query; page with a narrower filter instead"
        )
    names = body.get("properties")
    wanted = (
        [str(n) for n in names] if isinstance(names, list) and names else list(objects.DEFAULT_PROPERTIES)
    )
    query = str(body.get("query") or "").strip().lower()
    groups = [[_predicate(sb, f) for f in fs] for fs in filters_per_group]
    matches = [
        c
        for c in _candidates(sb, filters_per_group)
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
        present = [c for c in matches if _value(sb, c, name) is not None]
        absent = [c for c in matches if _value(sb, c, name) is None]
        present.sort(key=lambda c: _value(sb, c, name), reverse=descending)
        matches = present + absent
    end = min(offset + limit, len(matches), sb.search_result_cap)
    page = matches[offset:end]
    result: dict[str, Any] = {"total": len(matches), "results": [listing.view(sb, c, wanted) for c in page]}
    if end < len(matches):
        result["paging"] = {"next": {"after": str(end)}}
    return json_response(200, result)


def property_kind(sb: HubSpotSandbox, name: str) -> str:
    prop = sb._properties.get(name)
    if name in _DATETIME_PROPERTIES:
        return "datetime"
    return str(prop["type"]) if prop else "string"


def _coerce(sb: HubSpotSandbox, name: str, value: Any) -> Any:
    kind = property_kind(sb, name)
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


def _value(sb: HubSpotSandbox, contact: _Contact, name: str) -> Any:
    """A contact's property as search compares it (the hot path: every search reads every contact)."""
    if name == "lastmodifieddate":
        return contact.updated_ms
    if name == "hs_object_id":
        return float(contact.id)
    raw = contact.properties.get(name)
    return _coerce(sb, name, raw) if raw not in (None, "") else None


def _predicate(sb: HubSpotSandbox, f: Mapping[str, Any]) -> Callable[[_Contact], bool]:
    """One search filter as a test of a contact (its value parsed once, not once per contact)."""
    name, operator = str(f["propertyName"]), str(f["operator"])
    if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        wanted = operator == "HAS_PROPERTY"
        return lambda c: bool(c.properties.get(name)) == wanted
    if operator in ("IN", "NOT_IN"):
        values = {_coerce(sb, name, v) for v in f.get("values") or []}
        inside = operator == "IN"
        return lambda c: (_value(sb, c, name) in values) == inside
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(f.get("value") or "").strip("*").lower()
        contains = operator == "CONTAINS_TOKEN"
        return lambda c: (token in (c.properties.get(name) or "").lower()) == contains
    expected = _coerce(sb, name, f.get("value"))
    if f.get("value") is not None and expected is None:
        raise _invalid(f"{f.get('value')!r} is not a valid value for the property {name}")
    if operator == "NEQ":
        return lambda c: bool(_value(sb, c, name) != expected)
    if expected is None:
        return lambda c: False
    high = _coerce(sb, name, f.get("highValue")) if operator == "BETWEEN" else None
    compare: Callable[[Any], bool] = {
        "EQ": lambda a: a == expected,
        "GT": lambda a: a > expected,
        "GTE": lambda a: a >= expected,
        "LT": lambda a: a < expected,
        "LTE": lambda a: a <= expected,
        "BETWEEN": lambda a: high is not None and expected <= a <= high,
    }[operator]

    def test(contact: _Contact) -> bool:
        actual = _value(sb, contact, name)
        try:
            return actual is not None and bool(compare(actual))
        except TypeError:  # a number compared with text
            return False

    return test


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
