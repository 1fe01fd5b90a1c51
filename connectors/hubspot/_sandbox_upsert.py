"""The HubSpot sandbox's batch upsert by email (at most 100 inputs, 207 Multi-Status per-input errors)
and GDPR delete (204 for an unknown email, which is blocklisted).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors._sandbox import forgotten, json_response

from . import _sandbox_list as listing
from . import _sandbox_objects as objects
from . import _sandbox_search as search
from ._mapping import format_timestamp
from ._sandbox_properties import _READ_ONLY
from ._sandbox_wire import (
    _invalid,
    _json_object,
    _ms_precision,
    _not_found,
    _Request,
    canonical_email,
)

if TYPE_CHECKING:
    from ._sandbox import HubSpotSandbox

BATCH_MAX: Final = 100
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


# --- contacts: batch upsert -----------------------------------------------------------------------
def upsert(sb: HubSpotSandbox, request: _Request) -> httpx.Response:
    started = sb.clock.now()
    body = _json_object(request)
    inputs = body.get("inputs")
    if not isinstance(inputs, list):
        raise _invalid("Invalid input JSON: inputs must be a list")
    if len(inputs) > BATCH_MAX:
        raise _invalid(f"The batch input limit is {BATCH_MAX} inputs; got {len(inputs)}")
    ids: list[str] = []
    for item in inputs:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("id"), str)
            or not isinstance(item.get("properties", {}), dict)
        ):
            raise _invalid("Invalid input JSON: each input needs an id and a properties object")
        if item.get("idProperty") != "email":
            raise _invalid(
                f"Upsert by {item.get('idProperty')!r} is not supported here; use idProperty email"
            )
        ids.append(item["id"].strip().lower())
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise _invalid(f"Duplicate IDs found in batch input: {duplicates}")
    objects.property_problems(sb, (str(n) for item in inputs for n in item.get("properties", {})), _READ_ONLY)
    now = _ms_precision(sb.clock.now())
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for item, email in zip(inputs, ids, strict=True):
        properties = {str(k): "" if v is None else str(v) for k, v in item.get("properties", {}).items()}
        problem = invalid_value(sb, email, properties)
        if problem is not None:
            code, message = problem
            errors.append(
                {
                    "status": "error",
                    "category": "VALIDATION_ERROR",
                    "message": message,
                    "context": {"ids": [item["id"]]},
                    "errors": [{"message": message, "code": code}],
                    "links": {},
                }
            )
            continue
        results.append(_write(sb, email, properties, now))
    answer: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "requestedAt": format_timestamp(started),
        "startedAt": format_timestamp(started),
        "completedAt": format_timestamp(sb.clock.now()),
    }
    if errors:
        answer.update(errors=errors, numErrors=len(errors))
    return json_response(207 if errors else 200, answer)


def invalid_value(sb: HubSpotSandbox, email: str, properties: Mapping[str, str]) -> tuple[str, str] | None:
    if not _EMAIL.match(email):
        return "INVALID_EMAIL", f"Email address {email} is invalid"
    for name, value in properties.items():
        kind = search.property_kind(sb, name)
        if value == "":
            continue
        if kind == "number":
            try:
                float(value)
            except ValueError:
                return "INVALID_DOUBLE", f"{value} was not a valid number."
        if kind == "date" and (not search._is_date_only(value) and not value.isdigit()):
            return "INVALID_DATE", f"{value} is not a valid date (use YYYY-MM-DD or midnight UTC in ms)"
    return None


def _write(sb: HubSpotSandbox, email: str, properties: Mapping[str, str], now: datetime) -> dict[str, Any]:
    record_id = sb._by_email.get(email)
    created = record_id is None
    contact = sb._insert({"email": email}, now, now) if created else sb._contacts[str(record_id)]
    changed = created
    for name, value in properties.items():
        if name == "email":
            continue
        if value == "":
            changed |= contact.properties.pop(name, None) is not None
        elif contact.properties.get(name) != value:
            contact.properties[name] = value
            changed = True
    if changed and not created:
        # Any write that changes a value moves the contact's lastmodifieddate: the echo of a push.
        contact.updated = max(now, contact.updated)
        sb._stamp(contact)
        sb._by_modified = None
    view = listing.view(sb, contact, ["email", *properties])
    view["new"] = created
    return view


# --- contacts: GDPR delete ------------------------------------------------------------------------
def gdpr_delete(sb: HubSpotSandbox, request: _Request) -> httpx.Response:
    body = _json_object(request)
    object_id = body.get("objectId")
    if not isinstance(object_id, str) or not object_id.strip():
        raise _invalid("Invalid input JSON: objectId is required")
    id_property = body.get("idProperty")
    if id_property == "email":
        email = object_id.strip().lower()
        record_id = sb._by_email.get(email)
        if record_id is None:
            # Documented: an unknown email is blocklisted, so it can never be used again.
            sb._blocklist.add(forgotten(canonical_email(email)))
            return httpx.Response(204)
    elif id_property in (None, "hs_object_id"):
        record_id = object_id.strip()
        if record_id not in sb._contacts:
            return _not_found()
    else:
        raise _invalid(f"idProperty {id_property!r} is not a unique contact property")
    contact = sb._contacts.pop(record_id)
    sb._sorted_ids = sb._by_modified = None
    for email in [
        contact.email() or "",
        *(contact.properties.get("hs_additional_emails") or "").split(";"),
    ]:
        if email:
            sb._by_email.pop(email, None)
            sb._blocklist.add(forgotten(canonical_email(email)))
    return httpx.Response(204)
