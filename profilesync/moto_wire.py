"""The embedded moto's request and response handling, made cheaper for the demo; answers unchanged.

Every request the demo's handlers send to the embedded AWS pays moto's generic handling, whatever it
asks for; these two patches remove work that gives the same answer every time:

* **Attribute maps written as held.** moto serialises a response by walking the service model: an
  item (an ``AttributeMap``) costs one dispatch per attribute, each then passed through as it is held
  (``model_moto_costs`` writes a held ``AttributeValue`` as it is). A map whose every value is in its
  wire form is written as it is, in one step: Query and Scan items, and the Keys, NewImage and
  OldImage of every stream record (the demo reads ~60,000 of them). Binary values, maps and lists go
  through moto's serialiser as before (it base64-encodes binary values).
* **Stream records written as held.** A stream record (``Record`` and its ``StreamRecord``) is a
  dict moto built in the wire form, but its members were looked up one by one under every spelling
  moto's attribute picker knows: two thirds of a GetRecords call. A record whose keys are all members
  of the shape, and whose images are in wire form, is written as it is; its one timestamp
  (``ApproximateCreationDateTime``) through moto's own serialiser.
* **Action names looked up once per handler class.** moto finds the method of each request's action
  by listing every function of the handler's class (``inspect.getmembers``) on every request, about
  6% of an embedded Query; a class's functions do not change while the demo runs.

Applied by ``profilesync.local.model_moto_costs``; tests/unit/test_moto_patches.py checks that moto
still has what they replace and that the patched answers equal moto's own.
"""

from __future__ import annotations

from typing import Any

#: AttributeValue members whose JSON form moto already holds. Binary ones go through moto's serialiser
#: (it base64-encodes them), and so do maps and lists, which may hold binary values further down.
WIRE_ATTRIBUTE_TYPES = frozenset({"S", "N", "SS", "NS", "NULL", "BOOL"})


def in_wire_form(value: Any) -> bool:
    """Whether ``value`` is an attribute value moto can write as it holds it: ``{"S": "..."}``..."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in WIRE_ATTRIBUTE_TYPES


def patch_attribute_maps() -> None:
    """Write a map of attribute values in wire form as it is (see the module docstring)."""
    from moto.core.serialize import JSONSerializer

    original_map = JSONSerializer._serialize_type_map

    def serialize_map(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if (
            getattr(shape.value, "name", None) == "AttributeValue"
            and isinstance(value, dict)
            and all(in_wire_form(v) for v in value.values())
        ):
            self._default_serialize(serialized, value, shape, key)
            return
        original_map(self, serialized, value, shape, key)

    JSONSerializer._serialize_type_map = serialize_map  # type: ignore[method-assign]


#: The images of a stream record, maps of attribute values.
_IMAGES = ("Keys", "NewImage", "OldImage")
_CREATED = "ApproximateCreationDateTime"


def patch_stream_records() -> None:
    """Write a stream record in wire form as it is (see the module docstring)."""
    from moto.core.serialize import JSONSerializer

    original_structure = JSONSerializer._serialize_type_structure

    def serialize_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if shape.name == "Record" and key and _record_in_wire_form(value, shape):
            change_shape = shape.members["dynamodb"]
            change = {k: v for k, v in value["dynamodb"].items() if k != _CREATED}
            if _CREATED in value["dynamodb"]:
                self._serialize(change, value["dynamodb"][_CREATED], change_shape.members[_CREATED], _CREATED)
            record = {k: v for k, v in value.items() if k != "dynamodb"}
            record["dynamodb"] = change
            serialized[self.get_serialized_name(shape, key)] = record
            return
        original_structure(self, serialized, value, shape, key)

    JSONSerializer._serialize_type_structure = serialize_structure  # type: ignore[method-assign]


def _record_in_wire_form(value: Any, shape: Any) -> bool:
    if not (isinstance(value, dict) and set(value) <= set(shape.members)):
        return False
    change = value.get("dynamodb")
    change_shape = shape.members.get("dynamodb")
    if not (
        isinstance(change, dict) and change_shape is not None and set(change) <= set(change_shape.members)
    ):
        return False
    if any(v is None for v in value.values()) or any(v is None for v in change.values()):
        return False  # moto's serialiser leaves out members that are None
    return all(
        isinstance(change.get(image, {}), dict)
        and all(in_wire_form(v) for v in change.get(image, {}).values())
        for image in _IMAGES
    )


def patch_action_lookup() -> None:
    """Remember the function names of each moto handler class (see the module docstring)."""
    import moto.core.responses as responses

    original = getattr(responses, "method_names_from_class")  # noqa: B009 - moto does not export it
    known: dict[type, list[str]] = {}

    def method_names_from_class(clazz: Any) -> list[str]:
        names = known.get(clazz)
        if names is None:
            names = known[clazz] = original(clazz)
        return names

    setattr(responses, "method_names_from_class", method_names_from_class)  # noqa: B010


__all__ = [
    "WIRE_ATTRIBUTE_TYPES",
    "in_wire_form",
    "patch_action_lookup",
    "patch_attribute_maps",
    "patch_stream_records",
]
