"""A quarantined record's raw values as JSON text, numbers kept as numbers (``raw_json``).

Records are read with ``parse_float=Decimal`` (connectors.jsonl), so money never passes through a
float, and a quarantined record's ``raw`` holds those Decimals. ``json.dumps(..., default=str)``
wrote each one as a string (``1e-7`` became ``"1E-7"``), so a quarantine line or item fed back
(fixed, then resolved or pulled again) turned a number trait into text. Here a finite Decimal is
written as the JSON number its ``str`` is (always valid JSON: ``1E-7``, ``-0.0``, ``1.50``), which
reads back as the same Decimal, digit for digit (``E0`` added to one that prints as an integer);
a NaN or an infinity (no JSON number) stays text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

__all__ = ["raw_json"]


class _HasDecimal(Exception):  # noqa: N818 - a signal to the slower path, not an error
    """Raised by the fast path's ``default`` at the first Decimal."""


def _fast_default(value: object) -> object:
    if isinstance(value, Decimal):
        raise _HasDecimal
    return str(value)


#: Deeper than this, a value is written as text (as json's own recursion limit would refuse it).
_MAX_DEPTH: Final = 200


def raw_json(value: Any, *, sort_keys: bool = False, ensure_ascii: bool = True) -> str:
    """``value`` as JSON text as ``json.dumps(value, default=str, sort_keys=..., ensure_ascii=...)``
    writes it, except that a finite ``Decimal`` is a JSON number (its ``str``), so that reading the
    text with ``json.loads(text, parse_float=Decimal)`` gives the value back."""
    try:  # most raw records hold no Decimal: json's C encoder, as before
        return json.dumps(value, ensure_ascii=ensure_ascii, default=_fast_default, sort_keys=sort_keys)
    except _HasDecimal:
        pass
    parts: list[str] = []
    _write(value, parts, (sort_keys, ensure_ascii), 0)
    return "".join(parts)


def _write(value: Any, parts: list[str], how: tuple[bool, bool], depth: int) -> None:
    sort_keys, ensure_ascii = how
    if isinstance(value, Decimal):
        parts.append(_number(value) if value.is_finite() else json.dumps(str(value)))
    elif depth >= _MAX_DEPTH or not isinstance(value, Mapping | list | tuple):
        parts.append(json.dumps(value, ensure_ascii=ensure_ascii, default=str))
    elif isinstance(value, Mapping):
        # keys as json writes them (text; a number or a constant as its JSON text), sorted as it sorts
        items = sorted(value.items(), key=lambda pair: pair[0]) if sort_keys else value.items()
        parts.append("{")
        for index, (key, item) in enumerate(items):
            if index:
                parts.append(", ")
            parts.append(json.dumps({key: 0}, ensure_ascii=ensure_ascii)[1:-4])
            parts.append(": ")
            _write(item, parts, how, depth + 1)
        parts.append("}")
    else:
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(", ")
            _write(item, parts, how, depth + 1)
        parts.append("]")


def _number(value: Decimal) -> str:
    """A finite Decimal as a JSON number that reads back as that Decimal: its ``str``, with ``E0``
    added when that has neither a point nor an exponent (``0E0`` and ``5E0`` print ``0`` and
    ``5``, which JSON reads as integers)."""
    text = str(value)
    return text if "." in text or "E" in text else text + "E0"
