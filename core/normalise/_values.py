"""What every part of record normalisation shares: how a raw value is shown in a reason, what counts
as blank, ids as plain text, the raw record kept for a quarantine report, and the collector of
dropped values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from core.errors import NormalisationError
from core.schema import DroppedValue, RecordDraft

_SHORT: Final = 200


def _short(value: object, limit: int = _SHORT) -> str:
    """A bounded, never-raising text form of any value, for ``DroppedValue.value`` and reasons."""
    try:
        text = value if isinstance(value, str) else repr(value)
    except Exception:
        text = f"<unprintable {type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reason(exc: Exception) -> str:
    """The reason to record for a normaliser's exception; unexpected ones are named, not hidden."""
    if isinstance(exc, NormalisationError):
        return exc.reason
    return f"unexpected error: {type(exc).__name__}: {_short(str(exc), 120)}"


def _jsonable(value: object, depth: int = 0) -> Any:
    """Convert any value to JSON-able data without raising (for ``Quarantined.raw``)."""
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, int):
        # json can write any int, but Python refuses str() of ints beyond 4300 digits.
        return value if value.bit_length() <= 64 else _short(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if depth >= 20:
        return _short(value)
    if isinstance(value, Mapping):
        try:
            return {
                _short(k) if not isinstance(k, str) else k: _jsonable(v, depth + 1) for k, v in value.items()
            }
        except Exception:
            return _short(value)
    if isinstance(value, list | tuple | set | frozenset):
        try:
            return [_jsonable(v, depth + 1) for v in value]
        except Exception:
            return _short(value)
    return _short(value)


def _raw_of(draft: RecordDraft) -> dict[str, Any]:
    try:
        raw = getattr(draft, "raw", None)
        if isinstance(raw, Mapping):
            converted = _jsonable(raw)
        else:
            converted = _jsonable(
                {name: getattr(draft, name, None) for name in RecordDraft.model_fields if name != "raw"}
            )
        return converted if isinstance(converted, dict) else {"value": converted}
    except Exception:  # pragma: no cover - _jsonable does not raise; this is the last guard
        return {}


def _plain(text: str) -> str:
    """``text`` as an exact ``str``, as pydantic's validation would make it.

    Records are assembled without validation (every value is normalised here already), so the one
    thing validation did that matters is done here: a ``str`` subclass, which only a foreign
    ``__str__`` or ``isoformat`` can hand back, becomes a plain string with the same characters.
    """
    return text if type(text) is str else str.__str__(text)


def _text_id(value: object) -> str:
    """A source or source id as text: strings trimmed, ints via str(), anything else empty."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return _plain(str(value))
    return ""


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Collector:
    """Accumulates dropped values for one record."""

    def __init__(self) -> None:
        self.dropped: list[DroppedValue] = []

    def drop(self, field: str, value: object, reason: str) -> None:
        self.dropped.append(DroppedValue(field=field, value=_short(value), reason=reason))
