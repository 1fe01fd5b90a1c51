"""The Shopify sandbox's rate limit and query cost: the leaky bucket, the parsing and checking of a
request against the type table, and its requested cost by Shopify's documented model.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._sandbox import ShopifySandbox

import httpx

from connectors._sandbox import json_response

from . import _documents as docs
from ._graphql import Field, GraphQLSyntaxError, expand, parse, resolve_value
from ._sandbox_schema import TYPES
from ._sandbox_wire import _error, _Prepared


class LeakyBucket:
    """Shopify's cost bucket: ``maximum`` points, refilled at ``rate`` points per second."""

    def __init__(self, maximum: float, rate: float, clock: Callable[[], float]) -> None:
        self.maximum = maximum
        self.rate = rate
        self._clock = clock
        self._available = maximum
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._available = min(self.maximum, self._available + (now - self._updated) * self.rate)
        self._updated = now

    def take(self, points: float) -> bool:
        with self._lock:
            self._refill()
            if self._available + 1e-6 < points:  # float noise is not a missing point
                return False
            self._available -= points
            return True

    def refund(self, points: float) -> None:
        with self._lock:
            self._refill()
            self._available = min(self.maximum, self._available + points)

    def status(self) -> dict[str, Any]:
        with self._lock:
            self._refill()
            return {
                "maximumAvailable": float(self.maximum),
                "currentlyAvailable": int(self._available),
                "restoreRate": float(self.rate),
            }


def report(sb: ShopifySandbox, requested: int, actual: int | None) -> dict[str, Any]:
    return {
        "requestedQueryCost": requested,
        "actualQueryCost": actual,
        "throttleStatus": sb.bucket.status(),
    }


def extensions(sb: ShopifySandbox, prepared: _Prepared, actual: int) -> dict[str, Any]:
    return {"extensions": {"cost": report(sb, prepared.requested, actual)}}


def settle(sb: ShopifySandbox, prepared: _Prepared, actual: int) -> None:
    if prepared.reserved and not prepared.settled:
        sb.bucket.refund(max(0.0, prepared.reserved - actual))
        prepared.settled = True
        with sb.lock:
            sb.cost_log.append((prepared.requested, actual))


def prepare(sb: ShopifySandbox, request: httpx.Request) -> _Prepared:
    cached = request.extensions.get("shopify_sandbox")
    if isinstance(cached, _Prepared):
        return cached
    prepared = _Prepared()
    request.extensions["shopify_sandbox"] = prepared
    content_type = request.headers.get("content-type", "")
    try:
        variables: dict[str, Any] = {}
        name: Any = None
        query: Any
        if content_type.startswith("application/graphql"):
            query = request.content.decode()
        else:
            body = json.loads(request.content or b"null")
            if not isinstance(body, dict):
                raise ValueError("not an object")
            query, variables, name = (
                body.get("query"),
                body.get("variables") or {},
                body.get("operationName"),
            )
        if not isinstance(query, str) or not query.strip() or not isinstance(variables, dict):
            raise ValueError("no query")
    except (ValueError, UnicodeDecodeError):
        prepared.answer = json_response(
            400, {"errors": {"query": "Required parameter missing or invalid"}}, sb._headers()
        )
        return prepared
    try:
        document = parse(query)
        operation = document.operation(name if isinstance(name, str) else None)
    except GraphQLSyntaxError as exc:
        error = {"message": exc.message, "locations": [{"line": exc.line, "column": exc.column}]}
        prepared.answer = json_response(200, {"errors": [error]}, sb._headers())
        return prepared
    prepared.operation, prepared.fragments = operation, document.fragments
    prepared.variables = {**operation.variable_defaults, **variables}
    root = "Mutation" if operation.kind == "mutation" else "QueryRoot"
    errors: list[dict[str, Any]] = []
    cost = static_cost(sb, root, operation.selections, prepared, errors, bulk=False)
    if errors:
        prepared.answer = json_response(200, {"errors": errors}, sb._headers())
        return prepared
    prepared.requested = cost
    return prepared


# --- validation and requested cost ---------------------------------------------------------------
def static_cost(
    sb: ShopifySandbox,
    type_name: str,
    selections: list[Any],
    prepared: _Prepared,
    errors: list[dict[str, Any]],
    *,
    bulk: bool,
) -> int:
    total = 0
    for node in expand(selections, type_name, prepared.fragments):
        if node.name == "__typename":
            continue
        kind = TYPES[type_name].get(node.name)
        if kind is None:
            errors.append(
                _error(
                    f"Field '{node.name}' doesn't exist on type '{type_name}'",
                    "undefinedField",
                    node,
                    typeName=type_name,
                    fieldName=node.name,
                )
            )
            continue
        shape, target = kind
        if shape == "scalar":
            if node.selections:
                errors.append(
                    _error(
                        f"Selections can't be made on scalars (field '{node.name}')",
                        "selectionMismatch",
                        node,
                    )
                )
            continue
        assert target is not None
        if not node.selections:
            errors.append(
                _error(
                    f"Field must have selections (field '{node.name}' returns {target} "
                    "but has no selections)",
                    "selectionMismatch",
                    node,
                )
            )
            continue
        if shape == "connection":
            total += _connection_cost(sb, node, target, prepared, errors, bulk=bulk)
        else:
            inner = static_cost(sb, target, node.selections, prepared, errors, bulk=bulk)
            total += docs.MUTATION_COST if type_name == "Mutation" else 1 + inner
    return total


def _connection_cost(
    sb: ShopifySandbox,
    node: Field,
    target: str,
    prepared: _Prepared,
    errors: list[dict[str, Any]],
    *,
    bulk: bool,
) -> int:
    args = {k: resolve_value(v, prepared.variables) for k, v in node.arguments.items()}
    size = args.get("first") if args.get("first") is not None else args.get("last")
    if not bulk:
        if size is None:
            errors.append(
                _error("you must provide one of first or last", "argumentLiteralsIncompatible", node)
            )
            size = 0
        elif not isinstance(size, int) or size < 0 or size > docs.MAX_PAGE_SIZE:
            errors.append(
                _error(
                    f"The first/last argument of {node.name} must be between 0 and "
                    f"{docs.MAX_PAGE_SIZE} (got {size})",
                    "argumentLiteralsIncompatible",
                    node,
                )
            )
            size = 0
    node_cost = 0
    for part in expand(node.selections or [], "Connection", prepared.fragments):
        if part.name == "nodes" and part.selections:
            node_cost = max(
                node_cost, 1 + static_cost(sb, target, part.selections, prepared, errors, bulk=bulk)
            )
        elif part.name == "edges" and part.selections:
            for edge_part in expand(part.selections, "Edge", prepared.fragments):
                if edge_part.name == "node" and edge_part.selections:
                    inner = static_cost(sb, target, edge_part.selections, prepared, errors, bulk=bulk)
                    node_cost = max(node_cost, 1 + inner)
                elif edge_part.name not in ("cursor", "__typename"):
                    errors.append(
                        _error(
                            f"Field '{edge_part.name}' doesn't exist on type '{target}Edge'",
                            "undefinedField",
                            edge_part,
                        )
                    )
        elif part.name == "pageInfo" and part.selections:
            static_cost(sb, "PageInfo", part.selections, prepared, errors, bulk=bulk)
        elif part.name != "__typename":
            errors.append(
                _error(
                    f"Field '{part.name}' doesn't exist on type '{target}Connection'",
                    "undefinedField",
                    part,
                )
            )
    return 2 + (size if isinstance(size, int) else 0) * node_cost
