"""Frozen dataclasses with slots, made on the hot path without their ``__init__``.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__`` (name looked up,
frozen check bypassed), about 0.25 us a field: making a ``FieldWeight`` cost more than the
comparison behind it, and ingest makes a ``LinkageRecord`` (17 fields), two ``GraphNode``\\ s per
record and an ``Edge`` per join. ``slot_maker(cls)`` is a function taking every field in order,
or by name, that sets each slot through its descriptor instead: the same object (equal, hashed
alike, just as frozen afterwards), for classes without ``__post_init__`` or field converters.
tests/unit/linkage/test_fast_paths.py checks each maker against its class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass
from typing import Any, TypeVar

__all__ = ["slot_maker"]

_T = TypeVar("_T")


def slot_maker(cls: type[_T]) -> Callable[..., _T]:
    """``cls(...)`` given every field of ``cls`` (in order, or by name; no defaults), set through the
    slots' descriptors. ``cls`` must be a dataclass with slots and no ``__post_init__``."""
    if not is_dataclass(cls) or "__slots__" not in cls.__dict__ or hasattr(cls, "__post_init__"):
        raise TypeError(f"slot_maker: {cls.__name__} is not a dataclass with slots and a plain __init__")
    names = [f.name for f in fields(cls)]
    if {"made", "_new", "_cls"} & set(names) or any(name.startswith("_set_") for name in names):
        raise TypeError(f"slot_maker: a field of {cls.__name__} takes a name the maker uses")
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    namespace.update({f"_set_{name}": cls.__dict__[name].__set__ for name in names})
    lines = [f"def make_{cls.__name__}({', '.join(names)}):", "    made = _new(_cls)"]
    lines += [f"    _set_{name}(made, {name})" for name in names]
    lines.append("    return made")
    exec("\n".join(lines), namespace)
    maker: Callable[..., _T] = namespace[f"make_{cls.__name__}"]
    return maker
