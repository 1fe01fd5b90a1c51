"""Vendor objects broken the ways real exports and APIs break them, for fuzzing mappings.

``mutate(value, rng)`` takes a real object (a sandbox's, shaped after the vendor's published
examples) and breaks one to three things in it: a value of the wrong type, a missing or null key,
a list where an object was, an id that is a list, a lone surrogate, a huge string, a date in 2099,
a negative amount, deep nesting; or it replaces the whole object with junk. Deterministic per
``rng``. Pure: used by tests and ``bench/bad_input.py``.
"""

from __future__ import annotations

import copy
import random
from typing import Any, Final

#: Values a field may hold instead of what it should.
JUNK: Final[tuple[Any, ...]] = (
    None,
    "",
    " ",
    0,
    -1,
    3.5,
    float("nan"),
    True,
    [],
    {},
    [1, 2],
    ["a", {"b": None}],
    {"a": {"b": []}},
    "NaN",
    "null",
    "\ud800",
    "a\udc00b",
    "😀",
    "2099-01-01T00:00:00Z",
    "0001-01-01T00:00:00Z",
    4102444800,
    -500,
    "-500.00",
    "x" * 5000,
    "Robert'); DROP TABLE",
    "gid://shopify/Customer/",
    "+",
    "++44",
)


def _junk(rng: random.Random) -> Any:
    return copy.deepcopy(rng.choice(JUNK))  # a fresh copy: two places must never share one list


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (keys of objects, indexes of lists)."""
    found: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for key, child in value.items():
            found.append((*prefix, key))
            found.extend(_paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.append((*prefix, index))
            found.extend(_paths(child, (*prefix, index)))
    return found


def _set(root: Any, path: tuple[Any, ...], value: Any) -> None:
    holder = root
    for step in path[:-1]:
        holder = holder[step]
    holder[path[-1]] = value


def _delete(root: Any, path: tuple[Any, ...]) -> None:
    holder = root
    for step in path[:-1]:
        holder = holder[step]
    if isinstance(holder, dict):
        holder.pop(path[-1], None)
    else:
        holder[path[-1]] = None


def mutate(value: Any, rng: random.Random) -> Any:
    """A broken copy of ``value`` (which is left as it was)."""
    roll = rng.random()
    if roll < 0.05:
        return _junk(rng)  # the whole element is junk
    if roll < 0.08:
        return [copy.deepcopy(value)]  # an object wrapped in a list
    broken = copy.deepcopy(value)
    paths = _paths(broken)
    if not paths:
        return _junk(rng)
    for _ in range(rng.randint(1, 3)):
        paths = _paths(broken)
        if not paths:
            break
        path = rng.choice(paths)
        action = rng.random()
        if action < 0.55:
            _set(broken, path, _junk(rng))
        elif action < 0.7:
            _delete(broken, path)
        elif action < 0.8:
            _set(broken, path, [_junk(rng) for _ in range(rng.randint(0, 3))])
        elif action < 0.9:
            _set(broken, path, {"id": _junk(rng), "nested": {"deeper": [_junk(rng)]}})
        else:
            _set(broken, path, [f"extra{i}@example.com" for i in range(rng.randint(50, 150))])
    return broken


__all__ = ["JUNK", "mutate"]
