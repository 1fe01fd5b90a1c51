"""The HubSpot sandbox's properties API: the HubSpot-defined contact properties and groups, property and
group creation (batch too; 409 on a duplicate).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors._sandbox import json_response

from ._connector import GROUPS_PATH, PROPERTIES_PATH
from ._mapping import format_timestamp
from ._sandbox_wire import (
    _invalid,
    _json_object,
    _origin,
    _Request,
    hubspot_error,
)

if TYPE_CHECKING:
    from ._sandbox import HubSpotSandbox

_READ_ONLY: Final = frozenset({"createdate", "lastmodifieddate", "hs_object_id", "hs_email_optout"})
_PROPERTY_NAME: Final = re.compile(r"^[a-z][a-z0-9_]*$")
_FIELD_TYPES: Final = frozenset(
    {
        "booleancheckbox",
        "calculation_equation",
        "checkbox",
        "date",
        "file",
        "html",
        "number",
        "phonenumber",
        "radio",
        "select",
        "text",
        "textarea",
    }
)
_TYPES: Final = frozenset({"bool", "date", "datetime", "enumeration", "number", "phone_number", "string"})

#: (name, label, type, fieldType) of the HubSpot-defined contact properties the sandbox knows.
_DEFAULT_PROPERTIES: Final = (
    ("email", "Email", "string", "text"),
    ("hs_additional_emails", "Additional email addresses", "enumeration", "checkbox"),
    ("firstname", "First Name", "string", "text"),
    ("lastname", "Last Name", "string", "text"),
    ("phone", "Phone Number", "string", "phonenumber"),
    ("mobilephone", "Mobile Phone Number", "string", "phonenumber"),
    ("company", "Company Name", "string", "text"),
    ("jobtitle", "Job Title", "string", "text"),
    ("website", "Website URL", "string", "text"),
    ("address", "Street Address", "string", "text"),
    ("city", "City", "string", "text"),
    ("state", "State/Region", "string", "text"),
    ("zip", "Postal Code", "string", "text"),
    ("country", "Country/Region", "string", "text"),
    ("lifecyclestage", "Lifecycle Stage", "enumeration", "radio"),
    ("hs_email_optout", "Unsubscribed from all email", "enumeration", "booleancheckbox"),
    ("createdate", "Create Date", "datetime", "date"),
    ("lastmodifieddate", "Last Modified Date", "datetime", "date"),
    ("hs_object_id", "Record ID", "number", "number"),
    ("hs_merged_object_ids", "Merged Contact IDs", "enumeration", "checkbox"),
)
_DEFAULT_GROUPS: Final = (
    ("contactinformation", "Contact information"),
    ("emailinformation", "Email information"),
)

#: Boot time of the fake portal: property and group definitions are stamped with it.
_BOOT: Final = datetime(2025, 1, 1, tzinfo=UTC)


def definition(
    sb: HubSpotSandbox, spec: Mapping[str, Any], *, group: str | None = None, hubspot_defined: bool = False
) -> dict[str, Any]:
    name = str(spec["name"])
    return {
        "name": name,
        "label": str(spec.get("label", name)),
        "type": str(spec["type"]),
        "fieldType": str(spec["fieldType"]),
        "groupName": group or str(spec["groupName"]),
        "description": str(spec.get("description", "")),
        "options": list(spec.get("options") or []),
        "displayOrder": int(spec.get("displayOrder", -1)),
        "hidden": bool(spec.get("hidden", False)),
        "formField": bool(spec.get("formField", False)),
        "hasUniqueValue": name == "email",
        "calculated": False,
        "externalOptions": False,
        "hubspotDefined": hubspot_defined,
        "modificationMetadata": {
            "archivable": not hubspot_defined,
            "readOnlyDefinition": hubspot_defined,
            "readOnlyValue": name in _READ_ONLY,
        },
        "createdAt": format_timestamp(_BOOT),
        "updatedAt": format_timestamp(_BOOT),
        "archived": False,
    }


# --- properties API -------------------------------------------------------------------------------
def _check(sb: HubSpotSandbox, spec: Any) -> str | None:
    """Why a PropertyCreate cannot be created (None when it can)."""
    if not isinstance(spec, dict):
        return "each input must be an object"
    missing = [k for k in ("name", "label", "type", "fieldType", "groupName") if not spec.get(k)]
    if missing:
        return f"missing required field(s): {', '.join(missing)}"
    if not _PROPERTY_NAME.match(str(spec["name"])):
        return f"{spec['name']!r} is not a valid property name (lower case letters, digits, underscores)"
    if spec["type"] not in _TYPES or spec["fieldType"] not in _FIELD_TYPES:
        return f"type {spec['type']!r} with fieldType {spec['fieldType']!r} is not supported"
    if spec["groupName"] not in sb._groups:
        return f"The property group {spec['groupName']!r} does not exist"
    return None


def _exists_error(sb: HubSpotSandbox, name: str) -> dict[str, Any]:
    return {
        "status": "error",
        "category": "OBJECT_ALREADY_EXISTS",
        "message": f"A property named '{name}' already exists.",
        "context": {"name": [name]},
        "errors": [],
        "links": {},
    }


def create_property(sb: HubSpotSandbox, request: _Request) -> httpx.Response:
    spec = _json_object(request)
    problem = _check(sb, spec)
    if problem:
        raise _invalid(problem)
    name = str(spec["name"])
    if name in sb._properties:
        return hubspot_error(409, f"A property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
    sb._properties[name] = definition(sb, spec)
    return json_response(
        201, sb._properties[name], {"Location": f"{_origin(request)}{PROPERTIES_PATH}/{name}"}
    )


def batch_create(sb: HubSpotSandbox, request: _Request) -> httpx.Response:
    started = sb.clock.now()
    inputs = _json_object(request).get("inputs")
    if not isinstance(inputs, list):
        raise _invalid("Invalid input JSON: inputs must be a list")
    for spec in inputs:
        problem = _check(sb, spec)
        if problem:
            raise _invalid(problem)
    results: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    for spec in inputs:
        name = str(spec["name"])
        if name in sb._properties:
            errors.append(_exists_error(sb, name))
            continue
        sb._properties[name] = definition(sb, spec)
        results.append(sb._properties[name])
    answer: dict[str, Any] = {
        "status": "COMPLETE",
        "results": results,
        "startedAt": format_timestamp(started),
        "completedAt": format_timestamp(sb.clock.now()),
    }
    if errors:
        answer.update(errors=errors, numErrors=len(errors))
    return json_response(207 if errors else 201, answer)


def create_group(sb: HubSpotSandbox, request: _Request) -> httpx.Response:
    spec = _json_object(request)
    name, label = spec.get("name"), spec.get("label")
    if not isinstance(name, str) or not _PROPERTY_NAME.match(name) or not isinstance(label, str):
        raise _invalid("a property group needs a valid name and a label")
    if name in sb._groups:
        return hubspot_error(409, f"A property group named '{name}' already exists.", "OBJECT_ALREADY_EXISTS")
    order = spec.get("displayOrder", -1)
    sb._groups[name] = {
        "name": name,
        "label": label,
        "displayOrder": order if isinstance(order, int) else -1,
        "archived": False,
    }
    return json_response(201, sb._groups[name], {"Location": f"{_origin(request)}{GROUPS_PATH}/{name}"})
