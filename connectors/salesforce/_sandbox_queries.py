"""The Salesforce sandbox's queries: SOQL ``query`` and ``queryAll`` with ``nextRecordsUrl`` locators, and
Bulk API 2.0 query jobs (create, status, CSV results in pages with ``Sforce-Locator``).
"""

from __future__ import annotations

import base64
import csv
import io
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import httpx

from connectors._sandbox import json_response

from . import _soql
from ._sandbox_records import _NOT_FOUND, _body, _render
from ._sandbox_schema import LOCATOR_IDLE, MAX_BATCH, OPEN_LOCATORS, error, sf_id

if TYPE_CHECKING:
    from ._sandbox import SalesforceSandbox


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
        rows = [_render(sb, query.sobject, r, query.fields, version) for r in chosen]
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
