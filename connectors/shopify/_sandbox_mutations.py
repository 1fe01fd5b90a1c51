"""The Shopify sandbox's metafield mutations and erasure: ``metafieldsSet`` (25 at most, atomic, typed
values checked, the owner's ``updatedAt`` moves), ``metafieldDefinitionCreate`` and
``customerRequestDataErasure``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._sandbox import ShopifySandbox

from . import _documents as docs
from ._graphql import Field
from ._sandbox_wire import GraphQLFailureError, _error, _num, stamp

#: Metafield types the sandbox accepts, with the check each value must pass.
_METAFIELD_VALUES: dict[str, Callable[[str], bool]] = {
    "single_line_text_field": lambda v: "\n" not in v and len(v) <= 65_535,
    "multi_line_text_field": lambda v: len(v) <= 65_535,
    "number_integer": lambda v: re.fullmatch(r"-?\d{1,19}", v) is not None,
    "number_decimal": lambda v: re.fullmatch(r"-?\d{1,13}(\.\d{1,9})?", v) is not None,
    "date": lambda v: _is_date(v),
    "boolean": lambda v: v in ("true", "false"),
}
_METAFIELD_CATEGORY = {"number_integer": "NUMBER", "number_decimal": "NUMBER", "date": "DATE_TIME"}


def _is_date(value: str) -> bool:
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


# --- mutations ----------------------------------------------------------------------------------
def metafields_set(sb: ShopifySandbox, args: dict[str, Any], node: Field) -> dict[str, Any]:
    inputs = args.get("metafields") or []
    if len(inputs) > docs.METAFIELDS_PER_CALL:
        raise GraphQLFailureError(
            [
                _error(
                    f"The input array size of {len(inputs)} is greater than the maximum allowed of "
                    f"{docs.METAFIELDS_PER_CALL}.",
                    "MAX_INPUT_SIZE_EXCEEDED",
                    node,
                )
            ]
        )
    errors: list[dict[str, Any]] = []
    writes: list[tuple[dict[str, Any], tuple[str, str], dict[str, Any]]] = []
    for index, item in enumerate(inputs):

        def fail(what: str, message: str, code: str, i: int = index) -> None:
            errors.append(
                {
                    "field": ["metafields", str(i), what],
                    "message": message,
                    "code": code,
                    "elementIndex": i,
                }
            )

        owner = (
            sb.customers.get(_num(item.get("ownerId"))) if "/Customer/" in str(item.get("ownerId")) else None
        )
        namespace, key = item.get("namespace") or "$app", item.get("key") or ""
        value, kind = item.get("value"), item.get("type")
        definition = sb.definitions.get((namespace, key))
        if owner is None:
            fail("ownerId", "Owner subject does not exist.", "INVALID")
            continue
        if not 2 <= len(key) <= 64:
            fail("key", "Key is too short or too long (2 to 64 characters).", "INVALID")
            continue
        if kind is None and definition is not None:
            kind = definition["type"]["name"]
        if kind is None:
            fail("type", "Type can't be blank.", "BLANK")
            continue
        if definition is not None and definition["type"]["name"] != kind:
            fail("type", "Type must be the same as the definition's type.", "INVALID_TYPE")
            continue
        check = _METAFIELD_VALUES.get(str(kind))
        if check is None:
            fail("type", f"Type '{kind}' is not a supported metafield type.", "INVALID_TYPE")
            continue
        if not isinstance(value, str) or not value.strip():
            fail("value", "Value can't be blank.", "BLANK")
            continue
        if not check(value):
            fail("value", f"Value must be a valid {kind}.", "INVALID_VALUE")
            continue
        writes.append((owner, (namespace, key), {"value": value, "type": kind}))
    if errors:
        return {"metafields": [], "userErrors": errors}  # atomic: nothing is saved
    now = stamp(sb.clock.now())
    saved = []
    for owner, address, values in writes:
        existing = owner["_metafields"].get(address)
        metafield = existing or {
            "id": f"gid://shopify/Metafield/{sb._id('misc')}",
            "namespace": address[0],
            "key": address[1],
            "ownerType": "CUSTOMER",
            "createdAt": now,
        }
        metafield.update(
            values, updatedAt=now, compareDigest=hashlib.sha256(values["value"].encode()).hexdigest()
        )
        owner["_metafields"][address] = metafield
        owner["updatedAt"] = now  # a metafield write moves the customer's updatedAt (the echo)
        saved.append(metafield)
    return {"metafields": saved, "userErrors": []}


def definition_create(sb: ShopifySandbox, args: dict[str, Any]) -> dict[str, Any]:
    definition = args.get("definition") or {}
    namespace, key = definition.get("namespace") or "$app", definition.get("key") or ""
    kind, owner = definition.get("type"), definition.get("ownerType")
    if (namespace, key) in sb.definitions:
        error = {
            "field": ["definition", "key"],
            "message": f"Key is in use for {str(owner).title()} metafields on the '{namespace}' namespace.",
            "code": "TAKEN",
            "elementIndex": None,
        }
        return {"createdDefinition": None, "userErrors": [error]}
    if kind not in _METAFIELD_VALUES:
        error = {
            "field": ["definition", "type"],
            "message": "Type is not included in the list",
            "code": "INCLUSION",
            "elementIndex": None,
        }
        return {"createdDefinition": None, "userErrors": [error]}
    created = {
        "id": f"gid://shopify/MetafieldDefinition/{sb._id('misc')}",
        "name": definition.get("name") or key,
        "namespace": namespace,
        "key": key,
        "description": definition.get("description"),
        "ownerType": owner,
        "type": {"name": kind, "category": _METAFIELD_CATEGORY.get(str(kind), "TEXT")},
    }
    sb.definitions[(namespace, key)] = created
    return {"createdDefinition": created, "userErrors": []}


def erase(sb: ShopifySandbox, args: dict[str, Any]) -> dict[str, Any]:
    customer = sb.customers.get(_num(args.get("customerId")))
    if customer is None:
        error = {"field": ["customerId"], "message": "Customer does not exist", "code": "DOES_NOT_EXIST"}
        return {"customerId": None, "userErrors": [error]}
    # Shopify enqueues the request and later redacts the customer and their orders' personal data;
    # the sandbox does it at once.
    del sb.customers[customer["_num"]]
    now = stamp(sb.clock.now())
    for order in sb.orders.values():
        if order.get("_customer") == customer["_num"]:
            order.update(
                email=None,
                phone=None,
                billingAddress=None,
                shippingAddress=None,
                _customer=None,
                updatedAt=now,
            )
    return {"customerId": customer["id"], "userErrors": []}
