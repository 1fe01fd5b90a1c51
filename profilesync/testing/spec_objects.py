"""Vendor objects taken from the vendors' own published specs, to fuzz the mappings with.

The sandboxes' objects follow the vendors' examples, but only the fields each sandbox chose to fill.
These come from the specs themselves (``specs/``, as the vendors publish them):

* Stripe: its own example objects (``stripe-fixtures3.json``: the customer and the charge, and the
  ``customer.updated`` and ``charge.refunded`` events carrying them); Stripe's example charge has
  both email fields null.
* HubSpot, Klaviyo, Mailchimp: every object of the list endpoint's 200 response, *spec-complete*:
  the sandbox's object with every field the schema documents and the sandbox leaves out filled in
  from the schema (its example, first enum value, a value of its format), nested ones too. A
  mapping then meets ``propertiesWithHistory``, ``associations``, a profile's ``subscriptions`` or
  a member's ``marketing_permissions`` as the vendor documents them.

Shopify's spec is a GraphQL schema (the sandbox's answers are checked against it in the contract
suite); Salesforce and WooCommerce publish no spec here: their sandboxes' objects stand alone.
Used by ``profilesync.testing.fuzz`` (tests/unit/test_mapping_fuzz.py and ``bench/bad_input.py``).
"""

from __future__ import annotations

import copy
import functools
import json
from typing import Any, Final

from profilesync.testing.specs import _read_text, _spec_path

#: connector -> (spec file, list path, JSON key of the objects in its 200 response)
_LIST_RESPONSES: Final = {
    "hubspot": ("hubspot-crm-contacts-v3.json", "/crm/v3/objects/contacts", "results"),
    "klaviyo": ("klaviyo-profiles-2026-07-15.json", "/api/profiles", "data"),
    "mailchimp": ("mailchimp-marketing-3.0.55.json", "/lists/{list_id}/members", "members"),
}
_MAX_DEPTH: Final = 8
_FORMATS: Final = {
    "email": "spec.person@example.com",
    "date-time": "2026-03-01T10:00:00Z",
    "date": "2026-03-01",
    "uri": "https://example.com/spec",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


@functools.cache
def _document(filename: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(_read_text(_spec_path(filename)))
    return loaded


def _resolve(document: dict[str, Any], schema: Any) -> Any:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        node: Any = document
        for part in str(schema["$ref"]).removeprefix("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        schema, seen = node, seen + 1
    return schema


def instance(document: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """One value of ``schema`` with every documented property filled (to ``_MAX_DEPTH``)."""
    schema = _resolve(document, schema)
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    example = schema.get("example")  # HubSpot's spec writes "example": null on many schemas
    if example is not None and not isinstance(example, dict | list):
        return example
    if schema.get("enum"):
        return schema["enum"][0]
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = instance(document, part, depth + 1)
            if isinstance(value, dict):
                merged = _fill(merged, value)  # parts add to each other's nested objects too
        return merged
    for choice in ("oneOf", "anyOf"):
        if schema.get(choice):
            options = [_resolve(document, s) for s in schema[choice]]
            chosen = next((s for s in options if isinstance(s, dict) and s.get("type") != "null"), None)
            return instance(document, chosen, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "object" or (kind is None and "properties" in schema):
        out = {name: instance(document, sub, depth + 1) for name, sub in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and not out:
            out["spec_key"] = instance(document, extra, depth + 1)
        return out
    if kind == "array":
        return [instance(document, schema.get("items", {}), depth + 1)]
    if kind == "string":
        return _FORMATS.get(str(schema.get("format")), "spec value")
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    return None


def _fill(base: Any, documented: Any) -> Any:
    """``base`` with what ``documented`` has and it lacks, recursively (``base``'s values win)."""
    if isinstance(base, dict) and isinstance(documented, dict):
        out = dict(base)
        for key, value in documented.items():
            out[key] = _fill(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return base


def list_item_schema(connector: str) -> tuple[dict[str, Any], Any]:
    """The spec document and the schema of one object of the connector's list endpoint."""
    filename, path, key = _LIST_RESPONSES[connector]
    document = _document(filename)
    content = document["paths"][path]["get"]["responses"]["200"]["content"]
    media = next(m for m in content if "json" in m)
    response = _resolve(document, content[media]["schema"])
    return document, _resolve(document, response["properties"][key])["items"]


def spec_complete(connector: str, objects: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The sandbox's ``objects`` with every field the vendor's list schema documents filled in."""
    if connector not in _LIST_RESPONSES:
        return []
    document, item = list_item_schema(connector)
    documented = instance(document, item)
    return [(kind, _fill(raw, documented)) for kind, raw in objects if isinstance(raw, dict)]


def stripe_examples() -> list[tuple[str, Any]]:
    """Stripe's own example customer and charge (fixtures3), alone and inside the events the
    connector reads them from."""
    resources = _document("stripe-fixtures3.json")["resources"]
    customer, charge, event = (copy.deepcopy(resources[k]) for k in ("customer", "charge", "event"))
    charge["customer"] = customer["id"]  # the example names no customer; the connector's owner link
    refunded = {**charge, "refunded": True, "amount_refunded": charge["amount"]}
    return [
        ("customer", customer),
        ("charge", charge),
        ("charge", resources["charge"]),
        ("event:customer.updated", {**event, "type": "customer.updated", "data": {"object": customer}}),
        ("event:charge", {**event, "type": "charge.refunded", "data": {"object": refunded}}),
    ]


def spec_objects(connector: str, sandbox_objects: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The spec's objects for ``connector`` (empty when the vendor publishes none here)."""
    if connector == "stripe":
        return stripe_examples()
    return spec_complete(connector, sandbox_objects)


__all__ = ["instance", "list_item_schema", "spec_complete", "spec_objects", "stripe_examples"]
