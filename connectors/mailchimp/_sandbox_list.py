"""The Mailchimp sandbox's member reads: ``GET /lists/{id}/members`` (``count``, ``offset``, ``status``,
the ``last_changed`` bounds, the sort fields; the walk's ``fields=`` pages served from cached JSON) and
``GET .../members/{hash}``.
"""

from __future__ import annotations

import bisect
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors._sandbox import json_response

from ._cursor import format_time, parse_time
from ._sandbox_wire import INVALID, _field_tree, _paths, _select, shape

if TYPE_CHECKING:
    from ._sandbox import MailchimpSandbox

MAX_COUNT: Final = 1000
SORT_FIELDS: Final = frozenset({"timestamp_opt", "timestamp_signup", "last_changed"})


def int_param(sb: MailchimpSandbox, params: httpx.QueryParams, name: str, default: int) -> int | None:
    text = params.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value >= 0 else None


def list_members(sb: MailchimpSandbox, params: httpx.QueryParams) -> httpx.Response:
    count, offset = int_param(sb, params, "count", 10), int_param(sb, params, "offset", 0)
    if count is None or offset is None:
        return sb._invalid(
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
            return sb._invalid(f"The value of {name} must be an ISO 8601 date and time, got {text!r}.")
    sort_field, sort_dir = params.get("sort_field"), (params.get("sort_dir") or "ASC").upper()
    if sort_field is not None and sort_field not in SORT_FIELDS:
        return sb._invalid(f"Invalid sort_field: {sort_field!r}.")
    if sort_dir not in ("ASC", "DESC"):
        return sb._invalid(f"Invalid sort_dir: {sort_dir!r}.")
    status = params.get("status")
    # Stored timestamps are all written by format_time (UTC, "+00:00", whole seconds), so their
    # text sorts and compares chronologically.
    since = format_time(bounds["since_last_changed"]) if bounds["since_last_changed"] else None
    before = format_time(bounds["before_last_changed"]) if bounds["before_last_changed"] else None
    with sb.lock:
        if sort_field == "last_changed" and not status:
            stamps, ordered = _changed_index(
                sb,
            )
            low = bisect.bisect_right(stamps, since) if since else 0
            high = bisect.bisect_left(stamps, before) if before else len(stamps)
            total = max(0, high - low)
            if sort_dir == "ASC":
                window = ordered[low + offset : min(high, low + offset + count)]
            else:
                top = high - offset
                window = ordered[max(low, top - count) : max(low, top)][::-1]
            fast = _encoded_page(sb, window, total, params)
            page = [] if fast is not None else [sb._view(m) for m in window]
            served = len(window)
        else:
            chosen = [
                m
                for m in sb.members.values()
                if (not status or m["status"] == status)
                and (since is None or m["last_changed"] > since)
                and (before is None or m["last_changed"] < before)
            ]
            if sort_field is not None:
                key_field = sort_field
                chosen.sort(key=lambda m: (m.get(key_field) or "", m["web_id"]), reverse=sort_dir == "DESC")
            else:
                chosen.sort(key=lambda m: m["web_id"])
            fast = None
            page = [sb._view(m) for m in chosen[offset : offset + count]]
            total, served = len(chosen), len(page)
    sb._spend(served)
    if fast is not None:
        return fast
    body = {"members": page, "list_id": sb.list_id, "total_items": total, "_links": []}
    return json_response(200, shape(body, params))


def _encoded_page(
    sb: MailchimpSandbox, window: list[dict[str, Any]], total: int, params: httpx.QueryParams
) -> httpx.Response | None:
    """The members page of a ``fields=`` query, from per-member JSON cached until the member (or
    the list's merge fields) change: what the walk asks for, served without re-encoding it.
    None when the query needs the general path. Call under the sandbox's lock."""
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
    if len(sb._json_cache) > 200_000:
        sb._json_cache.clear()
    parts = []
    for member in window:
        key = (member["id"], member["last_changed"], member["status"], len(sb.merge_fields), fields)
        part = sb._json_cache.get(key)
        if part is None:
            part = json.dumps(_select(sb._view(member), members_tree), separators=(",", ":")).encode()
            sb._json_cache[key] = part
        parts.append(part)
    top = {"list_id": sb.list_id, "total_items": total, "_links": []}
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


def _changed_index(sb: MailchimpSandbox) -> tuple[list[str], list[dict[str, Any]]]:
    """Members by (last_changed, web_id), and their last_changed texts (call under the sandbox's lock)."""
    if sb._index is None:
        ordered = sorted(sb.members.values(), key=lambda m: (m["last_changed"], m["web_id"]))
        sb._index = ([m["last_changed"] for m in ordered], ordered)
    return sb._index


def get_member(sb: MailchimpSandbox, member_id: str, params: httpx.QueryParams) -> httpx.Response:
    with sb.lock:
        member = sb.find_member(member_id)
        view = sb._view(member) if member else None
    if view is None:
        return sb._not_found()
    sb._spend(1)
    return json_response(200, shape(view, params))
