"""The Mailchimp sandbox's merge fields: ``GET``/``POST /lists/{id}/merge-fields``, and the fields every
new audience has.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors._sandbox import json_response

from . import _sandbox_list as listing
from ._sandbox_list import MAX_COUNT
from ._sandbox_wire import INVALID, shape

if TYPE_CHECKING:
    from ._sandbox import MailchimpSandbox

MERGE_TYPES: Final = frozenset(
    {"text", "number", "address", "phone", "date", "url", "imageurl", "radio", "dropdown", "birthday", "zip"}
)


def add(sb: MailchimpSandbox, tag: str, name: str, kind: str) -> dict[str, Any]:
    merge_id = next(sb._merge_ids)
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
        "list_id": sb.list_id,
    }
    sb.merge_fields.append(field)
    return field


# --- merge fields ------------------------------------------------------------------------------
def list_fields(sb: MailchimpSandbox, params: httpx.QueryParams) -> httpx.Response:
    count, offset = listing.int_param(sb, params, "count", 10), listing.int_param(sb, params, "offset", 0)
    count, offset = min(count or 0, MAX_COUNT), offset or 0
    with sb.lock:
        fields = [{**f, "_links": []} for f in sb.merge_fields]
    body = {
        "merge_fields": fields[offset : offset + count],
        "list_id": sb.list_id,
        "total_items": len(fields),
        "_links": [],
    }
    return json_response(200, shape(body, params))


def create(sb: MailchimpSandbox, request: httpx.Request) -> httpx.Response:
    try:
        body = json.loads(request.content or b"null")
    except ValueError:
        return sb.problem(400, "JSON Parse Exception", "We encountered an unspecified JSON parsing error.")

    if not isinstance(body, dict):
        return sb._invalid(INVALID, [{"field": "", "message": "Schema describes object"}])
    missing = [f for f in ("name", "type") if not isinstance(body.get(f), str) or not body[f].strip()]
    if missing:
        return sb._invalid(
            INVALID, [{"field": f, "message": "This value should not be blank."} for f in missing]
        )
    if body["type"] not in MERGE_TYPES:
        return sb._invalid(INVALID, [{"field": "type", "message": "Data did not match any of the schemas"}])
    with sb.lock:
        tag = str(body.get("tag") or f"MMERGE{len(sb.merge_fields) + 1}").upper()
        if any(f["tag"] == tag for f in sb.merge_fields):
            return sb._invalid(f'A Merge Field with the tag "{tag}" already exists for this list.')
        field = add(sb, tag, str(body["name"]), str(body["type"]))
    return json_response(200, {**field, "_links": []})
