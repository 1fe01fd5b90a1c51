"""The Salesforce sandbox's REST resources under ``/services/data/vXX.X`` (see ``_sandbox`` for the list).

Each handler answers as the REST API Developer Guide documents it: the same paths and methods, the
same success shapes (query results, UpsertResult/SaveResult lists, job info, CSV result sets) and the
same error array ``[{"message", "errorCode", "fields"}]`` with the documented codes.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import httpx

from connectors._sandbox import json_response

from . import _soql
from ._sandbox import (
    _READ_ONLY,
    _REQUIRED,
    LOCATOR_IDLE,
    MAX_BATCH,
    MAX_COLLECTION,
    MAX_COMPOSITE,
    OPEN_LOCATORS,
    error,
    sf_id,
)

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


def dispatch(
    sb: SalesforceSandbox, method: str, rest: str, request: httpx.Request, version: str
) -> httpx.Response:
    parts = [p for p in rest.split("/") if p]
    routes: list[tuple[str, Callable[[list[str]], bool], Callable[[], httpx.Response]]] = [
        ("GET", lambda p: p in (["query"], ["queryAll"]), lambda: _query(sb, request, version, parts[0])),
        ("GET", lambda p: len(p) == 2 and p[0] in ("query", "queryAll"), lambda: _more(sb, parts, version)),
        (
            "GET",
            lambda p: len(p) == 3 and p[0] == "sobjects" and p[2] == "describe",
            lambda: _describe(sb, parts[1]),
        ),
        ("GET", lambda p: len(p) == 3 and p[0] == "sobjects", lambda: _get(sb, parts[1], parts[2], version)),
        ("POST", lambda p: len(p) == 2 and p[0] == "sobjects", lambda: _create_one(sb, parts[1], request)),
        (
            "PATCH",
            lambda p: len(p) == 3 and p[0] == "sobjects",
            lambda: _update_one(sb, parts[1], parts[2], request),
        ),
        ("DELETE", lambda p: len(p) == 3 and p[0] == "sobjects", lambda: _delete_one(sb, parts[1], parts[2])),
        (
            "PATCH",
            lambda p: len(p) == 4 and p[0] == "sobjects",
            lambda: _upsert_one(sb, parts[1], parts[2], parts[3], request),
        ),
        ("PATCH", lambda p: p == ["composite", "sobjects"], lambda: _update_many(sb, request)),
        ("DELETE", lambda p: p == ["composite", "sobjects"], lambda: _delete_many(sb, request)),
        (
            "PATCH",
            lambda p: len(p) == 4 and p[:2] == ["composite", "sobjects"],
            lambda: _upsert_many(sb, parts[2], parts[3], request),
        ),
        (
            "POST",
            lambda p: p in (["composite"], ["tooling", "composite"]),
            lambda: _composite(sb, request, version),
        ),
        ("POST", lambda p: p == ["tooling", "sobjects", "CustomField"], lambda: _custom_field(sb, request)),
        ("POST", lambda p: p == ["jobs", "query"], lambda: _create_job(sb, request, version)),
        ("GET", lambda p: len(p) == 3 and p[:2] == ["jobs", "query"], lambda: _job(sb, parts[2])),
        (
            "GET",
            lambda p: len(p) == 4 and p[:2] == ["jobs", "query"] and p[3] == "results",
            lambda: _results(sb, parts[2], request),
        ),
    ]
    allowed = [m for m, test, _ in routes if test(parts)]
    for wanted, test, handler in routes:
        if wanted == method and test(parts):
            return handler()
    if allowed:
        return error(
            405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are {','.join(allowed)}"
        )
    return error(404, *_NOT_FOUND)


# --- SOQL queries ----------------------------------------------------------------------------------------
def _check(sb: SalesforceSandbox, query: _soql.Query) -> None:
    if query.sobject not in sb.schema:
        raise _soql.SoqlError(
            "INVALID_TYPE",
            f"sObject type '{query.sobject}' is not supported. If you are attempting to use a custom "
            "object, be "
            "sure to append the '__c' after the entity name.",
        )
    for path in query.referenced():
        head, _, leaf = path.partition(".")
        ok = (
            path in sb.schema[query.sobject]
            if not leaf
            else (f"{head}Id" in sb.schema[query.sobject] and head in sb.schema and leaf in sb.schema[head])
        )
        if not ok:
            raise _soql.SoqlError(
                "INVALID_FIELD",
                f"No such column '{path}' on entity '{query.sobject}'. If you are attempting to use a "
                "custom field, "
                "be sure to append the '__c' after the custom field name. Please reference your WSDL or the "
                "describe call for the appropriate names.",
            )


def _select(sb: SalesforceSandbox, text: str, *, deleted: bool) -> tuple[_soql.Query, list[dict[str, Any]]]:
    query = _soql.parse(text)
    _check(sb, query)
    with sb.lock:
        rows = [r for r in sb.objects[query.sobject].values() if deleted or not r["IsDeleted"]]
        return query, _soql.run(query, rows, sb.value)


def _query(sb: SalesforceSandbox, request: httpx.Request, version: str, kind: str) -> httpx.Response:
    text = request.url.params.get("q")
    if not text:
        return error(400, "MALFORMED_QUERY", "A query string has to be specified (the q parameter)")
    query, chosen = _select(sb, text, deleted=kind == "queryAll")
    if query.count:
        return json_response(200, {"totalSize": len(chosen), "done": True, "records": []})
    batch = MAX_BATCH
    options = request.headers.get("Sforce-Query-Options", "")
    for option in options.split(","):
        name, _, value = option.strip().partition("=")
        if name == "batchSize" and value.isdigit():
            batch = min(MAX_BATCH, max(200, int(value)))
    with sb.lock:
        rows = [sb._render(query.sobject, r, query.fields, version) for r in chosen]
    return _page(sb, rows, 0, batch, version, kind, None)


def _page(
    sb: SalesforceSandbox,
    rows: list[dict[str, Any]],
    start: int,
    batch: int,
    version: str,
    kind: str,
    locator: str | None,
) -> httpx.Response:
    body: dict[str, Any] = {
        "totalSize": len(rows),
        "done": start + batch >= len(rows),
        "records": rows[start : start + batch],
    }
    if not body["done"]:
        with sb.lock:
            if locator is None:
                locator = "01g" + sf_id("", len(sb.locators) + sb.api_usage)[3:15]
                sb.locators[locator] = {"rows": rows, "batch": batch}
                while len(sb.locators) > OPEN_LOCATORS:  # a user keeps 10 cursors: the oldest goes
                    sb.locators.popitem(last=False)
            sb.locators[locator]["used"] = sb.clock.now()
            sb.locators.move_to_end(locator)
        body["nextRecordsUrl"] = f"/services/data/v{version}/{kind}/{locator}-{start + batch}"
    return json_response(200, body)


def _more(sb: SalesforceSandbox, parts: list[str], version: str) -> httpx.Response:
    locator, _, offset = parts[1].rpartition("-")
    with sb.lock:
        cursor = sb.locators.get(locator)
        stale = (
            cursor is None
            or not offset.isdigit()
            or sb.clock.now() - cursor.get("used", sb.clock.now()) > LOCATOR_IDLE
        )
        if stale:
            sb.locators.pop(locator, None)
            return error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    assert cursor is not None
    return _page(sb, cursor["rows"], int(offset), cursor["batch"], version, parts[0], locator)


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
        return json_response(200, sb._render(sobject, record, sb.schema[sobject], version))


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


# --- composite and the Tooling API ----------------------------------------------------------------------
def _composite(sb: SalesforceSandbox, request: httpx.Request, version: str) -> httpx.Response:
    body = _body(request)
    parts = body.get("compositeRequest") if isinstance(body, dict) else None
    if not isinstance(parts, list) or not parts:
        return error(400, "JSON_PARSER_ERROR", "compositeRequest must be a list of subrequests")
    if len(parts) > MAX_COMPOSITE:
        return error(
            400, "INVALID_BATCH_REQUEST", f"A composite request can have at most {MAX_COMPOSITE} subrequests"
        )
    base = f"{request.url.scheme}://{request.url.netloc.decode()}"
    answers = []
    for part in parts:
        url = str(part.get("url", ""))
        if not url.startswith("/services/data/"):
            return error(
                400,
                "INVALID_BATCH_REQUEST",
                f"the url of subrequest {part.get('referenceId')} must start with /services/data/",
            )
        sub = httpx.Request(str(part.get("method", "GET")), base + url, json=part.get("body"))
        response = sb.route(sub)  # one API call for the whole composite request, as Salesforce counts
        content = response.read()
        answers.append(
            {
                "body": json.loads(content) if content else None,
                "httpHeaders": {},
                "httpStatusCode": response.status_code,
                "referenceId": part.get("referenceId"),
            }
        )
    return json_response(200, {"compositeResponse": answers})


def _custom_field(sb: SalesforceSandbox, request: httpx.Request) -> httpx.Response:
    body = _body(request)
    full = str((body or {}).get("FullName") or "")
    meta = (body or {}).get("Metadata") or {}
    sobject, _, name = full.partition(".")
    if sobject not in sb.schema or not name.endswith("__c") or not meta.get("type") or not meta.get("label"):
        return error(
            400,
            "FIELD_INTEGRITY_EXCEPTION",
            f"FullName {full!r} must be Object.Name__c, with a label and a type",
        )
    with sb.lock:
        if name in sb.schema[sobject]:
            return error(
                400,
                "DUPLICATE_DEVELOPER_NAME",
                f"Duplicate Developer Name: {name} already exists on {sobject}",
            )
        sb.schema[sobject].append(name)
        for record in sb.objects[sobject].values():
            record.setdefault(name, None)
        if meta.get("externalId"):
            sb.external_ids[sobject].add(name)
        sb.created_fields.append(full)
        field_id = sb.new_id("CustomField")
    return json_response(201, {"id": field_id, "success": True, "errors": [], "warnings": [], "infos": []})


# --- Bulk API 2.0 query jobs ----------------------------------------------------------------------------
def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _create_job(sb: SalesforceSandbox, request: httpx.Request, version: str) -> httpx.Response:
    if float(version) < 47.0:
        return error(404, *_NOT_FOUND)
    body = _body(request) or {}
    operation = body.get("operation")
    if operation not in ("query", "queryAll"):
        return error(400, "INVALIDJOB", "InvalidJob : Invalid operation, must be query or queryAll")
    query, chosen = _select(sb, str(body.get("query") or ""), deleted=operation == "queryAll")
    if query.count:
        return error(400, "API_ERROR", "Aggregate queries are not supported by Bulk API 2.0 query jobs")
    rows = [[_csv_value(sb.value(r, f)) for f in query.fields] for r in chosen]
    with sb.lock:
        job_id = sb.new_id("Job")
        now = sb.clock.now()
        sb.jobs[job_id] = {
            "info": {
                "id": job_id,
                "operation": operation,
                "object": query.sobject,
                "createdById": "005SANDBOX0000001AAA",
                "createdDate": now.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                "systemModstamp": now.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
                "state": "UploadComplete",
                "concurrencyMode": "Parallel",
                "contentType": "CSV",
                "apiVersion": float(version),
                "lineEnding": "LF",
                "columnDelimiter": "COMMA",
            },
            "header": list(query.fields),
            "rows": rows,
            "reads": 0,
        }
        return json_response(200, dict(sb.jobs[job_id]["info"]))


def _job(sb: SalesforceSandbox, job_id: str) -> httpx.Response:
    with sb.lock:
        job = sb.jobs.get(job_id)
        if job is None:
            return error(404, *_NOT_FOUND)
        job["reads"] += 1
        state = "InProgress" if job["reads"] == 1 else "JobComplete"
        job["info"]["state"] = state
        info = dict(job["info"])
    if state == "JobComplete":
        info.update({"numberRecordsProcessed": len(job["rows"]), "retries": 0, "totalProcessingTime": 120})
    return json_response(200, info)


def _results(sb: SalesforceSandbox, job_id: str, request: httpx.Request) -> httpx.Response:
    with sb.lock:
        job = sb.jobs.get(job_id)
    if job is None:
        return error(404, *_NOT_FOUND)
    if job["info"]["state"] != "JobComplete":
        return error(
            412,
            "JOB_NOT_COMPLETE",
            "can only download query results of successfully completed bulk job with status: "
            f"JOB_COMPLETE. Current status: {job['info']['state']}",
        )
    params = request.url.params
    size_text = params.get("maxRecords", "50000")
    try:
        start = int(base64.b64decode(params["locator"] + "==").decode()) if params.get("locator") else 0
    except (ValueError, UnicodeDecodeError):
        return error(400, "INVALIDLOCATOR", f"Invalid locator: {params.get('locator')}")
    if not size_text.isdigit() or int(size_text) < 1:
        return error(400, "INVALIDPARAMETER", "maxRecords must be a positive whole number")
    size = int(size_text)
    chosen = job["rows"][start : start + size]
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(job["header"])
    writer.writerows(chosen)
    following = start + size
    locator = (
        base64.b64encode(str(following).encode()).decode().rstrip("=")
        if following < len(job["rows"])
        else "null"
    )
    headers = {
        "content-type": "text/csv",
        "Sforce-NumberOfRecords": str(len(chosen)),
        "Sforce-Locator": locator,
    }
    return httpx.Response(200, content=text.getvalue().encode(), headers=headers)


__all__ = ["dispatch"]
