"""The WooCommerce sandbox's single objects and writes: ``GET``/``PUT``/``POST``/``PATCH``/``DELETE`` of a
customer or order, ``meta_data`` upserted by key, customer creation, the ``/batch`` endpoints (100
items at most, per-item errors) and order notes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Final

import httpx

from connectors._sandbox import json_response

from ._sandbox_lists import _ORDER_STATUSES
from ._sandbox_params import wp_error
from ._sandbox_shop import ADDRESS_KEYS

if TYPE_CHECKING:
    from ._sandbox import WooCommerceSandbox

BATCH_LIMIT: Final = 100


# --- single objects ----------------------------------------------------------------------------
def item(
    sb: WooCommerceSandbox,
    kind: str,
    item_id: int,
    method: str,
    body: dict[str, Any],
    query: dict[str, str],
    base: str,
) -> httpx.Response:
    objects = sb.shop.customers if kind == "customers" else sb.shop.orders
    item = objects.get(item_id)
    if item is None:
        code = (
            "woocommerce_rest_invalid_id" if kind == "customers" else "woocommerce_rest_shop_order_invalid_id"
        )
        message = "Invalid resource ID." if kind == "customers" else "Invalid ID."
        return wp_error(404, code, message)
    render = sb.shop.customer_json if kind == "customers" else sb.shop.order_json
    if method == "GET":
        return json_response(200, render(item, base))
    if method in ("PUT", "POST", "PATCH"):
        failed = _update(sb, kind, item, body)
        return failed if failed is not None else json_response(200, render(item, base))
    if method == "DELETE":
        force = query.get("force", "false").lower() in ("true", "1")
        before = render(item, base)
        if kind == "customers" and item["role"] not in ("customer", "subscriber"):
            # delete_item_permissions_check: only the allowed roles, before anything else
            refused = f"Sorry, users with {item['role']} role cannot be deleted via this endpoint. "
            return wp_error(
                401, "woocommerce_rest_cannot_delete", refused + "Allowed roles: customer, subscriber"
            )
        if kind == "customers":
            if not force:
                return wp_error(
                    501, "woocommerce_rest_trash_not_supported", "Customers do not support trashing."
                )
            del sb.shop.customers[item_id]
        elif force:
            del sb.shop.orders[item_id]
        else:
            if item["status"] == "trash":
                return wp_error(
                    410, "woocommerce_rest_already_trashed", "The shop_order has already been deleted."
                )
            item["status"] = "trash"
            item["date_modified"] = sb.clock.now()
            return json_response(200, render(item, base))
        return json_response(200, before)
    return wp_error(404, "rest_no_route", "No route was found matching the URL and request method")


def _update(
    sb: WooCommerceSandbox, kind: str, item: dict[str, Any], body: dict[str, Any]
) -> httpx.Response | None:
    """Apply one update body; an error response if WooCommerce would refuse it."""
    if kind == "customers":
        email = body.get("email")
        if isinstance(email, str) and email and email != item["email"]:
            if any(c["email"].lower() == email.lower() for c in sb.shop.customers.values()):
                return wp_error(400, "woocommerce_rest_customer_invalid_email", "Email address is invalid.")
            item["email"] = email
        if "username" in body and body["username"] and body["username"] != item["username"]:
            return wp_error(400, "woocommerce_rest_customer_invalid_argument", "Username isn't editable.")
        for name in ("first_name", "last_name"):
            if isinstance(body.get(name), str):
                item[name] = body[name].strip()
    else:
        status = body.get("status")
        if status is not None and status not in _ORDER_STATUSES:
            return wp_error(
                400,
                "rest_invalid_param",
                "Invalid parameter(s): status",
                {"params": {"status": f"status is not one of {', '.join(_ORDER_STATUSES)}."}},
            )
        if isinstance(status, str):
            item["status"] = status
        if "customer_id" in body:
            owner = body["customer_id"]
            if not isinstance(owner, int) or (owner and owner not in sb.shop.customers):
                return wp_error(400, "woocommerce_rest_invalid_customer_id", "Customer ID is invalid.")
            item["customer_id"] = owner
        if "transaction_id" in body:
            if not isinstance(body["transaction_id"], str):
                return wp_error(
                    400,
                    "rest_invalid_param",
                    "Invalid parameter(s): transaction_id",
                    {"params": {"transaction_id": "transaction_id is not of type string."}},
                )
            item["transaction_id"] = body["transaction_id"]
    for section in ("billing", "shipping"):
        values = body.get(section)
        if isinstance(values, dict):
            allowed = set(item[section])
            item[section].update({k: str(v) for k, v in values.items() if k in allowed and v is not None})
    meta = body.get("meta_data")
    if isinstance(meta, list):
        _meta(sb, item, meta)
    item["date_modified"] = sb.clock.now()
    return None


def _meta(sb: WooCommerceSandbox, item: dict[str, Any], entries: list[Any]) -> None:
    """``update_meta_data(key, value, id)`` for each entry; a null value deletes the entry."""
    for entry in entries:
        if not isinstance(entry, dict) or "key" not in entry:
            continue
        found = [
            m
            for m in item["meta_data"]
            if (m["id"] == entry.get("id")) or (not entry.get("id") and m["key"] == entry["key"])
        ]
        if entry.get("value") is None:
            item["meta_data"] = [m for m in item["meta_data"] if m not in found]
        elif found:
            found[0]["value"] = entry["value"]
        else:
            item["meta_data"].append(
                {"id": sb.shop.meta_id(), "key": str(entry["key"]), "value": entry["value"]}
            )


def create_customer(sb: WooCommerceSandbox, body: dict[str, Any], base: str) -> httpx.Response:
    email = body.get("email")
    if not isinstance(email, str) or not email:
        return wp_error(
            400, "rest_missing_callback_param", "Missing parameter(s): email", {"params": ["email"]}
        )
    if "@" not in email:
        return wp_error(
            400,
            "rest_invalid_param",
            "Invalid parameter(s): email",
            {"params": {"email": "Invalid email address."}},
        )
    if any(c["email"].lower() == email.lower() for c in sb.shop.customers.values()):
        return wp_error(
            400,
            "registration-error-email-exists",
            "An account is already registered with your email address. Please log in.",
        )
    now = sb.clock.now()
    billing = {
        k: str(v) for k, v in (body.get("billing") or {}).items() if k in (*ADDRESS_KEYS, "email", "phone")
    }
    customer = sb.shop.add_customer(
        email,
        billing,
        created=now,
        modified=now,
        first_name=str(body.get("first_name") or ""),
        last_name=str(body.get("last_name") or ""),
    )
    if isinstance(body.get("meta_data"), list):
        _meta(sb, customer, body["meta_data"])
    return json_response(201, sb.shop.customer_json(customer, base))


def batch(sb: WooCommerceSandbox, kind: str, body: dict[str, Any], base: str) -> httpx.Response:
    total = sum(len(body.get(op) or []) for op in ("create", "update", "delete"))
    if total > BATCH_LIMIT:
        return wp_error(
            413,
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {BATCH_LIMIT} items for this request.",
        )
    out: dict[str, list[Any]] = {}
    render = sb.shop.customer_json if kind == "customers" else sb.shop.order_json
    objects = sb.shop.customers if kind == "customers" else sb.shop.orders
    for item in body.get("create") or []:
        created = (
            create_customer(sb, item, base)
            if kind == "customers"
            else wp_error(400, "woocommerce_rest_cannot_create", "Orders are not created by this sandbox.")
        )
        out.setdefault("create", []).append(_result(created, 0))
    for item in body.get("update") or []:
        item_id = item.get("id") if isinstance(item, dict) else None
        target = objects.get(item_id) if isinstance(item_id, int) else None
        if target is None:
            code = (
                "woocommerce_rest_invalid_id"
                if kind == "customers"
                else "woocommerce_rest_shop_order_invalid_id"
            )
            message = "Invalid resource ID." if kind == "customers" else "Invalid ID."
            out.setdefault("update", []).append(
                {
                    "id": item.get("id") if isinstance(item, dict) else 0,
                    "error": {"code": code, "message": message, "data": {"status": 400}},
                }
            )
            continue
        failed = _update(sb, kind, target, item)
        out.setdefault("update", []).append(
            _result(failed, target["id"]) if failed is not None else render(target, base)
        )
    for item_id in body.get("delete") or []:
        target = objects.pop(int(item_id), None) if str(item_id).isdigit() else None
        if target is None:
            out.setdefault("delete", []).append(
                {
                    "id": item_id,
                    "error": {
                        "code": "woocommerce_rest_invalid_id",
                        "message": "Invalid resource ID.",
                        "data": {"status": 404},
                    },
                }
            )
        else:
            out.setdefault("delete", []).append(render(target, base))
    return json_response(200, out)


# --- order notes ---------------------------------------------------------------------------------
def notes(
    sb: WooCommerceSandbox,
    order_id: int,
    note_id: int | None,
    method: str,
    body: dict[str, Any],
    query: dict[str, str],
    base: str,
) -> httpx.Response:
    if order_id not in sb.shop.orders:
        return wp_error(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
    notes = sb.shop.notes.setdefault(order_id, [])
    if note_id is None and method == "GET":
        kind = query.get("type", "any")
        chosen = [n for n in notes if kind == "any" or (kind == "customer") == n["customer_note"]]
        return json_response(200, [sb.shop.note_json(order_id, n, base) for n in reversed(chosen)])
    if note_id is None and method == "POST":
        if not isinstance(body.get("note"), str) or not body["note"]:
            return wp_error(
                400, "rest_missing_callback_param", "Missing parameter(s): note", {"params": ["note"]}
            )
        added = sb.shop.add_note(order_id, body["note"], sb.clock.now(), author="WooCommerce")
        return json_response(201, sb.shop.note_json(order_id, added, base))
    note = next((n for n in notes if n["id"] == note_id), None)
    if note is None:
        return wp_error(404, "woocommerce_rest_invalid_id", "Invalid resource ID.")
    if method == "GET":
        return json_response(200, sb.shop.note_json(order_id, note, base))
    if method == "DELETE":
        if query.get("force", "false").lower() not in ("true", "1"):
            return wp_error(501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.")
        notes.remove(note)
        return json_response(200, sb.shop.note_json(order_id, note, base))
    return wp_error(404, "rest_no_route", "No route was found matching the URL and request method")


def _result(response: httpx.Response | None, item_id: int) -> Any:
    if response is None:
        return {}
    body = json.loads(response.read())
    if response.status_code >= 400:
        return {
            "id": item_id,
            "error": {"code": body["code"], "message": body["message"], "data": body["data"]},
        }
    return body
