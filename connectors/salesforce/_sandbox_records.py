"""The Salesforce sandbox's sObject records: get, create, update, delete and upsert by external id, one
at a time and as sObject Collections (``/composite/sobjects``), and ``describe``; the same SaveResult
and UpsertResult shapes and error arrays as the REST API Developer Guide.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

import httpx

from connectors._sandbox import json_response

from . import _soql
from ._sandbox_schema import _READ_ONLY, _REQUIRED, MAX_COLLECTION, _json, error

if TYPE_CHECKING:
    from ._sandbox import SalesforceSandbox

_DATE_FIELDS = frozenset({"CloseDate", "ProfileSync_Last_Order__c"})
_NOT_FOUND = ("NOT_FOUND", "The requested resource does not exist")


def _body(request: httpx.Request) -> Any:
    try:
        return json.loads(request.content or b"null")
    except ValueError as exc:
        raise _soql.SoqlError(
            "JSON_PARSER_ERROR", f"Unexpected character in the request body: {exc}"
        ) from None


def _render(
    sb: SalesforceSandbox, sobject: str, record: dict[str, Any], fields: Iterable[str], version: str
) -> dict[str, Any]:
    """A record as the REST API answers it: its ``attributes`` and the fields asked for, a relationship
    field (``Contact.Email``) nested under its parent's own ``attributes``."""
    out: dict[str, Any] = {
        "attributes": {
            "type": sobject,
            "url": f"/services/data/v{version}/sobjects/{sobject}/{record['Id']}",
        }
    }
    for path in fields:
        head, _, leaf = path.partition(".")
        if leaf:
            parent = sb.objects[head].get(record.get(f"{head}Id") or "")
            if parent is None:
                out[head] = None
                continue
            nested = out.get(head) or {
                "attributes": {
                    "type": head,
                    "url": f"/services/data/v{version}/sobjects/{head}/{parent['Id']}",
                }
            }
            nested[leaf] = _json(parent.get(leaf))
            out[head] = nested
        else:
            out[path] = _json(record.get(path))
    return out


# --- records -------------------------------------------------------------------------------------------
def _known(sb: SalesforceSandbox, sobject: str) -> httpx.Response | None:
    if sobject not in sb.schema:
        return error(404, "NOT_FOUND", f"The requested resource does not exist: sObject type '{sobject}'")
    return None


def _apply(
    sb: SalesforceSandbox, sobject: str, record: dict[str, Any], values: dict[str, Any]
) -> list[dict[str, Any]]:
    """Set writable fields; per-record errors (read-only, unknown fields) instead of a change."""
    problems = []
    for name, value in values.items():
        if name == "attributes":
            continue
        if name not in sb.schema[sobject]:
            problems.append(
                {
                    "statusCode": "INVALID_FIELD",
                    "message": f"No such column '{name}' on sobject of type {sobject}",
                    "fields": [name],
                }
            )
        elif name in _READ_ONLY and value != record.get(name):
            problems.append(
                {
                    "statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
                    "message": f"Unable to create/update fields: {name}.",
                    "fields": [name],
                }
            )
    if problems:
        return problems
    for name, value in values.items():
        if name in ("attributes", "Id"):
            continue
        if name in _DATE_FIELDS and isinstance(value, str):
            value = date.fromisoformat(value)
        record[name] = value
    sb._derive(sobject, record)
    record["LastModifiedDate"] = record["SystemModstamp"] = sb.clock.now()
    return []


def _create(
    sb: SalesforceSandbox, sobject: str, values: dict[str, Any]
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    missing = [f for f in _REQUIRED[sobject] if not values.get(f)]
    if missing:
        return None, [
            {
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": f"Required fields are missing: [{', '.join(missing)}]",
                "fields": missing,
            }
        ]
    record = sb._new(sobject, {}, sb.clock.now())
    problems = _apply(sb, sobject, record, values)
    if problems:
        del sb.objects[sobject][record["Id"]]
        return None, problems
    return record, []


def _live(sb: SalesforceSandbox, sobject: str, record_id: str) -> dict[str, Any] | None:
    record = sb.objects[sobject].get(record_id)
    return record if record is not None and not record["IsDeleted"] else None


def _missing(sb: SalesforceSandbox, sobject: str, record_id: str) -> list[dict[str, Any]]:
    if record_id in sb.objects.get(sobject, {}):
        return [{"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []}]
    return [
        {"statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": "invalid cross reference id", "fields": []}
    ]


def _get(sb: SalesforceSandbox, sobject: str, record_id: str, version: str) -> httpx.Response:
    with sb.lock:
        if (bad := _known(sb, sobject)) is not None:
            return bad
        record = _live(sb, sobject, record_id)
        if record is None:
            return error(404, *_NOT_FOUND)
        return json_response(200, _render(sb, sobject, record, sb.schema[sobject], version))


def _create_one(sb: SalesforceSandbox, sobject: str, request: httpx.Request) -> httpx.Response:
    values = _body(request)
    with sb.lock:
        if (bad := _known(sb, sobject)) is not None:
            return bad
        record, problems = _create(sb, sobject, values if isinstance(values, dict) else {})
    if record is None:
        return json_response(
            400,
            [
                {"message": p["message"], "errorCode": p["statusCode"], "fields": p["fields"]}
                for p in problems
            ],
        )
    return json_response(201, {"id": record["Id"], "success": True, "errors": []})


def _update_one(
    sb: SalesforceSandbox, sobject: str, record_id: str, request: httpx.Request
) -> httpx.Response:
    values = _body(request)
    with sb.lock:
        if (bad := _known(sb, sobject)) is not None:
            return bad
        record = _live(sb, sobject, record_id)
        if record is None:
            return error(404, *_NOT_FOUND)
        problems = _apply(sb, sobject, record, values if isinstance(values, dict) else {})
    if problems:
        return json_response(
            400,
            [
                {"message": p["message"], "errorCode": p["statusCode"], "fields": p["fields"]}
                for p in problems
            ],
        )
    return httpx.Response(204)


def _delete_one(sb: SalesforceSandbox, sobject: str, record_id: str) -> httpx.Response:
    if (bad := _known(sb, sobject)) is not None:
        return bad
    if not sb.delete(sobject, record_id):
        return (
            error(404, "ENTITY_IS_DELETED", "entity is deleted")
            if record_id in sb.objects[sobject]
            else error(404, *_NOT_FOUND)
        )
    return httpx.Response(204)


def _upsert(
    sb: SalesforceSandbox, sobject: str, field: str, key: Any, values: dict[str, Any]
) -> dict[str, Any]:
    """One UpsertResult: update the one record whose external id is ``key``, else create it."""
    if key in (None, ""):
        return {
            "id": None,
            "success": False,
            "errors": [
                {"statusCode": "MISSING_ARGUMENT", "message": f"{field} not specified", "fields": [field]}
            ],
            "created": False,
        }
    found = [
        r
        for r in sb.objects[sobject].values()
        if not r["IsDeleted"] and str(r.get(field) or "").lower() == str(key).lower()
    ]
    if len(found) > 1:
        return {
            "id": None,
            "success": False,
            "errors": [
                {
                    "statusCode": "DUPLICATE_EXTERNAL_ID",
                    "message": f"{field}: more than one record found for external id field: "
                    f"{[r['Id'] for r in found]}",
                    "fields": [field],
                }
            ],
            "created": False,
        }
    if found:
        problems = _apply(sb, sobject, found[0], values)
        return {"id": found[0]["Id"], "success": not problems, "errors": problems, "created": False}
    record, problems = _create(sb, sobject, {**values, field: key})
    return {
        "id": record["Id"] if record else None,
        "success": record is not None,
        "errors": problems,
        "created": record is not None,
    }


def _external(sb: SalesforceSandbox, sobject: str, field: str) -> httpx.Response | None:
    if field not in sb.external_ids.get(sobject, set()):
        return error(
            400,
            "INVALID_FIELD",
            f"Field name provided, {field} is not an External ID or indexed field for {sobject}",
        )
    return None


def _upsert_one(
    sb: SalesforceSandbox, sobject: str, field: str, key: str, request: httpx.Request
) -> httpx.Response:
    values = _body(request)
    with sb.lock:
        if (bad := _known(sb, sobject) or _external(sb, sobject, field)) is not None:
            return bad
        result = _upsert(sb, sobject, field, key, values if isinstance(values, dict) else {})
    if not result["success"]:
        return json_response(
            400,
            [
                {"message": e["message"], "errorCode": e["statusCode"], "fields": e["fields"]}
                for e in result["errors"]
            ],
        )
    return json_response(201 if result["created"] else 200, result)


def _collection(request: httpx.Request) -> tuple[bool, list[dict[str, Any]]] | httpx.Response:
    body = _body(request)
    records = body.get("records") if isinstance(body, dict) else None
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        return error(400, "JSON_PARSER_ERROR", "records must be a list of sObjects")
    if len(records) > MAX_COLLECTION:
        return error(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_COLLECTION} records into this call",
        )
    for record in records:
        if not isinstance(record.get("attributes"), dict) or not record["attributes"].get("type"):
            return error(400, "INVALID_TYPE", "Must send a concrete entity type.")
    return bool(body.get("allOrNone")), records


def _update_many(sb: SalesforceSandbox, request: httpx.Request) -> httpx.Response:
    parsed = _collection(request)
    if isinstance(parsed, httpx.Response):
        return parsed
    _, records = parsed
    results = []
    with sb.lock:
        for values in records:
            sobject, record_id = values["attributes"]["type"], str(values.get("Id") or "")
            if sobject not in sb.schema:
                return error(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
            unknown = [k for k in values if k not in ("attributes", *sb.schema[sobject])]
            if unknown:
                return error(
                    400, "INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type {sobject}"
                )
            record = _live(sb, sobject, record_id)
            if record is None:
                results.append(
                    {"id": record_id or None, "success": False, "errors": _missing(sb, sobject, record_id)}
                )
                continue
            problems = _apply(sb, sobject, record, values)
            results.append({"id": record_id, "success": not problems, "errors": problems})
    return json_response(200, results)


def _upsert_many(sb: SalesforceSandbox, sobject: str, field: str, request: httpx.Request) -> httpx.Response:
    parsed = _collection(request)
    if isinstance(parsed, httpx.Response):
        return parsed
    _, records = parsed
    with sb.lock:
        if (bad := _known(sb, sobject) or _external(sb, sobject, field)) is not None:
            return bad
        if any(r["attributes"]["type"] != sobject for r in records):
            return error(400, "INVALID_TYPE", f"The list can contain objects only of the type {sobject}")
        results = [_upsert(sb, sobject, field, r.get(field), r) for r in records]
    return json_response(200, results)


def _delete_many(sb: SalesforceSandbox, request: httpx.Request) -> httpx.Response:
    ids = [i for i in request.url.params.get("ids", "").split(",") if i]
    if not ids or len(ids) > MAX_COLLECTION:
        return error(
            400,
            "EXCEEDED_ID_LIMIT" if ids else "MISSING_ARGUMENT",
            f"ids must name 1 to {MAX_COLLECTION} records",
        )
    results = []
    for record_id in ids:
        sobject = next((name for name, records in sb.objects.items() if record_id in records), None)
        if sobject is not None and sb.delete(sobject, record_id):
            results.append({"id": record_id, "success": True, "errors": []})
        else:
            results.append(
                {"id": record_id, "success": False, "errors": _missing(sb, sobject or "Contact", record_id)}
            )
    return json_response(200, results)


def _describe(sb: SalesforceSandbox, sobject: str) -> httpx.Response:
    if (bad := _known(sb, sobject)) is not None:
        return bad
    with sb.lock:
        fields = [
            {
                "name": name,
                "type": "id" if name == "Id" else "boolean" if name.startswith(("Is", "Has")) else "string",
                "externalId": name in sb.external_ids[sobject],
                "updateable": name not in _READ_ONLY,
                "custom": name.endswith("__c"),
            }
            for name in sb.schema[sobject]
        ]
    return json_response(
        200, {"name": sobject, "label": sobject, "custom": False, "queryable": True, "fields": fields}
    )
