"""The Salesforce sandbox's REST resources under ``/services/data/vXX.X`` (see ``_sandbox`` for the list).

Each handler answers as the REST API Developer Guide documents it: the same paths and methods, the
same success shapes (query results, UpsertResult/SaveResult lists, job info, CSV result sets) and the
same error array ``[{"message", "errorCode", "fields"}]`` with the documented codes.

Routing, composite requests and the Tooling API are here; the sObject records in ``_sandbox_records``,
SOQL queries and Bulk API 2.0 query jobs in ``_sandbox_queries``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

import httpx

from connectors._sandbox import json_response

from ._sandbox_queries import _create_job, _job, _more, _query, _results
from ._sandbox_records import (
    _NOT_FOUND,
    _body,
    _create_one,
    _delete_many,
    _delete_one,
    _describe,
    _get,
    _update_many,
    _update_one,
    _upsert_many,
    _upsert_one,
)
from ._sandbox_schema import MAX_COMPOSITE, error

if TYPE_CHECKING:
    from ._sandbox import SalesforceSandbox


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


__all__ = ["dispatch"]
