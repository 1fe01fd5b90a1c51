"""The Shopify sandbox's bulk operations: ``bulkOperationRunQuery`` snapshots the data as JSONL lines,
``bulkOperation(id:)`` moves it to COMPLETED over a few polls, and its signed ``url`` serves the file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._sandbox import ShopifySandbox

import httpx

from . import _sandbox_cost as cost
from . import _sandbox_execute as execution
from . import _sandbox_paging as paging
from ._graphql import Field, GraphQLSyntaxError, expand, parse, resolve_value
from ._sandbox_paging import _Page
from ._sandbox_schema import _S, TYPES
from ._sandbox_wire import _Prepared, stamp


# --- bulk operations ----------------------------------------------------------------------------
def run(sb: ShopifySandbox, args: dict[str, Any]) -> dict[str, Any]:
    query = args.get("query")
    running = [o for o in sb.bulk_operations.values() if o["status"] in ("CREATED", "RUNNING")]
    if len(running) >= 5:
        # 2026-01 and later allow five bulk queries at a time per shop.
        error = {
            "field": None,
            "message": "A bulk query operation limit of 5 has been reached.",
            "code": "LIMIT_REACHED",
        }
        return {"bulkOperation": None, "userErrors": [error]}
    try:
        document = parse(str(query))
        operation = document.operation()
        roots = expand(operation.selections, "QueryRoot", document.fragments)
        if len(roots) != 1 or TYPES["QueryRoot"].get(roots[0].name, _S)[0] != "connection":
            raise GraphQLSyntaxError("Bulk queries must contain exactly one top-level connection field", 1, 1)
        prepared = _Prepared(operation=operation, fragments=document.fragments, bulk=True)
        errors: list[dict[str, Any]] = []
        cost.static_cost(sb, "QueryRoot", operation.selections, prepared, errors, bulk=True)
        if errors:
            raise GraphQLSyntaxError(str(errors[0]["message"]), 1, 1)
    except GraphQLSyntaxError as exc:
        return {
            "bulkOperation": None,
            "userErrors": [
                {"field": ["query"], "message": f"Invalid bulk query: {exc.message}", "code": "INVALID"}
            ],
        }
    root = roots[0]
    target = TYPES["QueryRoot"][root.name][1]
    assert target is not None
    root_args = {k: resolve_value(v, {}) for k, v in root.arguments.items()}
    everything = list((sb.customers if root.name == "customers" else sb.orders).values())
    page = paging.page_objects(sb, everything, {**root_args, "first": None}, root, root.name, capped=False)
    lines: list[dict[str, Any]] = []
    _lines(sb, target, page.items, _node_selections(root, prepared), prepared, None, lines)
    numeric = sb._id("misc")
    now = sb.clock.now()
    operation_record = {
        "id": f"gid://shopify/BulkOperation/{numeric}",
        "status": "CREATED",
        "errorCode": None,
        "createdAt": stamp(now),
        "completedAt": None,
        "objectCount": "0",
        "rootObjectCount": "0",
        "fileSize": None,
        "url": None,
        "partialDataUrl": None,
        "query": str(query),
        "type": "QUERY",
        "_num": numeric,
        "_polls": 0,
        "_lines": lines,
        "_roots": len(page.items),
    }
    sb.bulk_operations[numeric] = operation_record
    return {"bulkOperation": operation_record, "userErrors": []}


def _lines(
    sb: ShopifySandbox,
    type_name: str,
    items: list[dict[str, Any]],
    selections: list[Any],
    prepared: _Prepared,
    parent: str | None,
    lines: list[dict[str, Any]],
) -> None:
    # Each node is a line; a nested connection's nodes become lines of their own, after their
    # parent, pointing back with __parentId (https://shopify.dev/docs/api/usage/bulk-operations/queries).
    fields = expand(selections, type_name, prepared.fragments)
    flat = [f for f in fields if TYPES[type_name].get(f.name, _S)[0] != "connection"]
    nested = [f for f in fields if TYPES[type_name].get(f.name, _S)[0] == "connection"]
    for item in items:
        line, _ = execution.project(sb, type_name, item, list(flat), prepared)
        if parent is not None:
            line["__parentId"] = parent
        lines.append(line)
        for connection in nested:
            target = TYPES[type_name][connection.name][1]
            assert target is not None
            page = execution.field_value(sb, type_name, item, connection, prepared)
            children = page.items if isinstance(page, _Page) else []
            _lines(sb, target, children, _node_selections(connection, prepared), prepared, item["id"], lines)


def advance(sb: ShopifySandbox, operation: dict[str, Any], request: httpx.Request) -> dict[str, Any]:
    if operation["status"] in ("CREATED", "RUNNING"):
        operation["_polls"] += 1
        operation["status"] = "RUNNING"
        if operation["_polls"] >= sb.bulk_polls:
            lines = operation["_lines"]
            content = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in lines)
            operation["status"] = "COMPLETED"
            operation["completedAt"] = stamp(sb.clock.now())
            operation["objectCount"] = str(len(lines))
            operation["rootObjectCount"] = str(operation["_roots"])
            operation["fileSize"] = str(len(content.encode()))
            operation["url"] = _url(sb, operation["_num"], request) if lines else None
    return operation


def _signature(sb: ShopifySandbox, numeric: int) -> str:
    return hmac.new(sb.token.encode(), str(numeric).encode(), hashlib.sha256).hexdigest()[:32]


def _url(sb: ShopifySandbox, numeric: int, request: httpx.Request) -> str:
    signature = _signature(sb, numeric)
    host = request.url.host
    if host.endswith(".myshopify.com"):
        # In-process: the file lives on Shopify's storage host, as in production.
        return f"https://storage.googleapis.com/profilesync-sandbox-bulk/{sb.shop}/{numeric}.jsonl?X-Goog-Signature={signature}"
    port = f":{request.url.port}" if request.url.port else ""
    return f"{request.url.scheme}://{host}{port}/bulk-results/{numeric}.jsonl?X-Goog-Signature={signature}"


def serve_file(sb: ShopifySandbox, numeric: int, request: httpx.Request) -> httpx.Response:
    operation = sb.bulk_operations.get(numeric)
    signature = request.url.params.get("X-Goog-Signature", "")
    if (
        operation is None
        or operation["status"] != "COMPLETED"
        or not hmac.compare_digest(signature, _signature(sb, numeric))
    ):
        body = (
            b"<?xml version='1.0' encoding='UTF-8'?>"
            b"<Error><Code>AccessDenied</Code><Message>Access denied.</Message></Error>"
        )
        return httpx.Response(403, content=body, headers={"content-type": "application/xml; charset=UTF-8"})
    content = "".join(json.dumps(line, separators=(",", ":")) + "\n" for line in operation["_lines"])
    return httpx.Response(200, content=content.encode(), headers={"content-type": "application/jsonl"})


def _node_selections(connection: Field, prepared: _Prepared) -> list[Any]:
    """The selections made on a connection's nodes, whether through ``nodes`` or ``edges { node }``."""
    out: list[Any] = []
    for part in expand(connection.selections or [], "Connection", prepared.fragments):
        if part.name == "nodes":
            out.extend(part.selections or [])
        elif part.name == "edges":
            for edge_part in expand(part.selections or [], "Edge", prepared.fragments):
                if edge_part.name == "node":
                    out.extend(edge_part.selections or [])
    return out
