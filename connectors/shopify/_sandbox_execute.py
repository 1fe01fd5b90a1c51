"""The Shopify sandbox's execution of a checked GraphQL operation: the root fields, each object's
fields, and the projection of the selections with their actual cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ._sandbox import ShopifySandbox

from . import _documents as docs
from . import _sandbox_bulk as bulk
from . import _sandbox_mutations as mutations
from . import _sandbox_paging as paging
from . import _sandbox_store as store
from ._graphql import Field, Operation, expand, resolve_value
from ._sandbox_paging import _Page
from ._sandbox_schema import TYPES
from ._sandbox_wire import GraphQLFailureError, _error, _num, _Prepared, stamp


# --- execution ----------------------------------------------------------------------------------
def execute(
    sb: ShopifySandbox, operation: Operation, prepared: _Prepared, request: httpx.Request
) -> tuple[dict[str, Any], int]:
    root = "Mutation" if operation.kind == "mutation" else "QueryRoot"
    data: dict[str, Any] = {}
    actual = 0
    for node in expand(operation.selections, root, prepared.fragments):
        if node.name == "__typename":
            data[node.key] = root
            continue
        args = {k: resolve_value(v, prepared.variables) for k, v in node.arguments.items()}
        value = _resolve_root(sb, node, args, request)
        shape, target = TYPES[root][node.name]
        assert target is not None
        projected, cost = _project_field(sb, shape, target, value, node, prepared)
        data[node.key] = projected
        actual += docs.MUTATION_COST if root == "Mutation" else cost
    return data, actual


def _project_field(
    sb: ShopifySandbox, shape: str, target: str, value: Any, node: Field, prepared: _Prepared
) -> tuple[Any, int]:
    if value is None:
        return None, 0
    if shape == "connection":
        return _project_connection(sb, target, value, node, prepared)
    if shape == "list":
        out, cost = [], 1
        for item in value:
            projected, inner = project(sb, target, item, node.selections or [], prepared)
            out.append(projected)
            cost += inner
        return out, cost
    projected, inner = project(sb, target, value, node.selections or [], prepared)
    return projected, 1 + inner


def project(
    sb: ShopifySandbox, type_name: str, obj: dict[str, Any], selections: list[Any], prepared: _Prepared
) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    cost = 0
    for node in expand(selections, type_name, prepared.fragments):
        if node.name == "__typename":
            out[node.key] = type_name
            continue
        shape, target = TYPES[type_name][node.name]
        value = field_value(sb, type_name, obj, node, prepared)
        if shape == "scalar":
            out[node.key] = value
            continue
        assert target is not None
        out[node.key], inner = _project_field(sb, shape, target, value, node, prepared)
        cost += inner
    return out, cost


def _project_connection(
    sb: ShopifySandbox, target: str, page: _Page, node: Field, prepared: _Prepared
) -> tuple[dict[str, Any], int]:
    out: dict[str, Any] = {}
    cost = 2
    counted = False
    for part in expand(node.selections or [], "Connection", prepared.fragments):
        if part.name == "nodes":
            projected = [project(sb, target, item, part.selections or [], prepared) for item in page.items]
            out[part.key] = [p for p, _ in projected]
            if not counted:
                cost += sum(1 + c for _, c in projected)
                counted = True
        elif part.name == "edges":
            edges = []
            edge_cost = 0
            for item, cursor in zip(page.items, page.cursors, strict=True):
                edge: dict[str, Any] = {}
                for edge_part in expand(part.selections or [], "Edge", prepared.fragments):
                    if edge_part.name == "cursor":
                        edge[edge_part.key] = cursor
                    elif edge_part.name == "node":
                        edge[edge_part.key], inner = project(
                            sb, target, item, edge_part.selections or [], prepared
                        )
                        edge_cost += 1 + inner
                    elif edge_part.name == "__typename":
                        edge[edge_part.key] = f"{target}Edge"
                edges.append(edge)
            out[part.key] = edges
            if not counted:
                cost += edge_cost
                counted = True
        elif part.name == "pageInfo":
            info = {
                "hasNextPage": page.has_next,
                "hasPreviousPage": page.has_previous,
                "startCursor": page.cursors[0] if page.cursors else None,
                "endCursor": page.cursors[-1] if page.cursors else None,
            }
            out[part.key], _ = project(sb, "PageInfo", info, part.selections or [], prepared)
        elif part.name == "__typename":
            out[part.key] = f"{target}Connection"
    return out, cost


def field_value(
    sb: ShopifySandbox, type_name: str, obj: dict[str, Any], node: Field, prepared: _Prepared
) -> Any:
    args = {k: resolve_value(v, prepared.variables) for k, v in node.arguments.items()}
    if type_name == "Customer":
        if node.name == "displayName":
            return " ".join(p for p in (obj.get("firstName"), obj.get("lastName")) if p) or "Unnamed"
        if node.name in ("email", "phone"):
            holder = obj.get("defaultEmailAddress" if node.name == "email" else "defaultPhoneNumber") or {}
            return holder.get("emailAddress" if node.name == "email" else "phoneNumber")
        if node.name == "emailMarketingConsent":
            address = obj.get("defaultEmailAddress")
            if not address:
                return None
            return {
                "marketingState": address["marketingState"],
                "consentUpdatedAt": address["marketingUpdatedAt"],
                "marketingOptInLevel": address["marketingOptInLevel"],
            }
        if node.name == "numberOfOrders":
            return str(sum(1 for o in sb.orders.values() if o.get("_customer") == obj["_num"]))
        if node.name == "amountSpent":
            return {"amount": "0.0", "currencyCode": "GBP"}
        if node.name == "metafield":
            return obj["_metafields"].get((args.get("namespace") or "$app", args.get("key")))
        if node.name == "metafields":
            items = [
                m for (ns, _), m in sorted(obj["_metafields"].items()) if args.get("namespace") in (None, ns)
            ]
            return paging.page(
                sb, items, args, node, key=lambda m: (0, _num(m["id"])), capped=not prepared.bulk
            )
        if node.name == "orders":
            items = [o for o in sb.orders.values() if o.get("_customer") == obj["_num"]]
            return paging.page_objects(sb, items, args, node, "orders", capped=not prepared.bulk)
    if type_name == "Order" and node.name == "customer":
        return sb.customers.get(obj.get("_customer") or -1)
    if type_name == "Order" and node.name == "lineItems":
        return paging.page(
            sb, store.line_items(obj), args, node, key=lambda i: (0, i["_num"]), capped=not prepared.bulk
        )
    return obj.get(node.name)


# --- root fields --------------------------------------------------------------------------------
def _resolve_root(sb: ShopifySandbox, node: Field, args: dict[str, Any], request: httpx.Request) -> Any:
    name = node.name
    if name == "customers":
        return paging.page_objects(sb, list(sb.customers.values()), args, node, "customers")
    if name == "orders":
        return paging.page_objects(sb, list(sb.orders.values()), args, node, "orders")
    if name in ("customersCount", "ordersCount"):
        objects = sb.customers if name == "customersCount" else sb.orders
        keep, _ = paging.search_filter(
            sb, args.get("query"), "customers" if name == "customersCount" else "orders"
        )
        total = sum(1 for obj in objects.values() if keep(obj))
        limit = args.get("limit", 10_000)
        if isinstance(limit, int) and total > limit:
            return {"count": limit, "precision": "AT_LEAST"}
        return {"count": total, "precision": "EXACT"}
    if name == "customer":
        return sb.customers.get(_num(args.get("id")))
    if name == "order":
        return sb.orders.get(_num(args.get("id")))
    if name in ("bulkOperation", "currentBulkOperation"):
        if name == "currentBulkOperation":
            operation = max(sb.bulk_operations.values(), key=lambda o: o["_num"], default=None)
        else:
            operation = sb.bulk_operations.get(_num(args.get("id")))
        return bulk.advance(sb, operation, request) if operation else None
    if name == "metafieldDefinitions":
        items = [
            d
            for (ns, _), d in sorted(sb.definitions.items())
            if d["ownerType"] == args.get("ownerType") and args.get("namespace") in (None, ns)
        ]
        return paging.page(sb, items, args, node, key=lambda d: (0, _num(d["id"])))
    if name == "bulkOperationRunQuery":
        return bulk.run(sb, args)
    if name == "metafieldsSet":
        return mutations.metafields_set(sb, args, node)
    if name == "metafieldDefinitionCreate":
        return mutations.definition_create(sb, args)
    if name == "customerRequestDataErasure":
        return mutations.erase(sb, args)
    if name == "shop":
        return store.shop(sb)
    if name == "customerUpdate":
        values = dict(args.get("input") or {})
        customer = sb.customers.get(_num(values.get("id")))
        return store.customer_update(sb, customer, values, node, stamp(sb.clock.now()))
    if name == "customerCreate":
        return store.customer_create(sb, dict(args.get("input") or {}), node)
    raise GraphQLFailureError(
        [_error(f"Field '{name}' is not served by the sandbox", "undefinedField", node)]
    )
