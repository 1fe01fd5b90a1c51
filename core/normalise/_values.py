"""What every part of record normalisation shares: how a raw value is shown in a reason, what counts
as blank, ids as plain text, the raw record kept for a quarantine report, and the collector of
dropped values."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from core.errors import NormalisationError
from core.schema import DroppedValue, RecordDraft

from ._limits import MAX_DROPPED

_SHORT: Final = 200

# A lone surrogate (U+D800..U+DFFF on its own) is what JSON's "\ud800" escape decodes to: Python keeps
# it in a str, but it has no UTF-8 form, so serialising the record or encoding the request fails.
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _surrogate(text: str) -> str | None:
    """The first lone surrogate of ``text`` as ``U+D800``, or None when the text is valid Unicode."""
    if text.isascii():
        return None
    found = _SURROGATE.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


def _printable(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD, for reports that must be written out."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


def _short(value: object, limit: int = _SHORT) -> str:
    """A bounded, never-raising text form of any value, for ``DroppedValue.value`` and reasons."""
    try:
        text = value[: limit + 1] if isinstance(value, str) else repr(value)
    except Exception:
        text = f"<unprintable {type(value).__name__}>"
    text = _printable(text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _reason(exc: Exception) -> str:
    """The reason to record for a normaliser's exception; unexpected ones are named, not hidden."""
    if isinstance(exc, NormalisationError):
        return exc.reason
    return f"unexpected error: {type(exc).__name__}: {_short(str(exc), 120)}"


#: The longest integer kept as a number in a quarantined raw record: 4,300 decimal digits (Python's
#: limit on converting an int to text, sys.get_int_max_str_digits) take at least 14,281 bits.
_JSON_INT_BITS: Final = 14_000


def _jsonable(value: object, depth: int = 0) -> Any:
    """Convert any value to JSON-able data without raising (for ``Quarantined.raw``), lone surrogates
    replaced so that it can be written out as UTF-8."""
    if isinstance(value, str):
        return _printable(value)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        # json can write any int, but Python refuses str() of ints beyond 4300 digits (and so
        # json.loads reads none longer: an input line's integer is always within this).
        return value if value.bit_length() <= _JSON_INT_BITS else _short(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Decimal):
        # kept a number: core.raw_json writes it as one, so a replayed quarantine line is the record
        return value if value.is_finite() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if depth >= 20:
        return _short(value)
    if isinstance(value, Mapping):
        try:
            return {
                _short(k) if not isinstance(k, str) else _printable(k): _jsonable(v, depth + 1)
                for k, v in value.items()
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
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() <= 128:
        return _plain(str(value))
    return ""


def _id_problem(value: object, what: str) -> str | None:
    """Why ``value`` cannot be an id (``what`` names it in the reason), or None when it can: ids are
    strings or integers, with valid Unicode, short enough to be part of a stored key."""
    if type(value) is str and value.isascii() and not value.isspace() and value:
        return None  # nearly every id: what the checks below find for it, without them
    if _is_blank(value):
        return f"missing {what}"
    if isinstance(value, bool) or not isinstance(value, str | int):
        return f"{what} must be a string or an integer, not {_kind(value)} ({_short(value, 60)})"
    if isinstance(value, int) and value.bit_length() > 128:
        return f"{what} is an integer of more than 38 digits"
    if isinstance(value, str) and (bad := _surrogate(value)) is not None:
        return f"{what} holds invalid Unicode (a lone surrogate, {bad}); fix it in the source"
    return None


def _kind(value: object) -> str:
    """A JSON-ish name of a value's type, for reasons: "a list", "an object", "a number"."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple | set | frozenset):
        return "a list"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    return f"a {type(value).__name__}"


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Collector:
    """Accumulates dropped values for one record: the first ``MAX_DROPPED`` with their values, and a
    count of the rest (a record with 10,000 bad emails must not become 10,000 entries)."""

    def __init__(self) -> None:
        self.dropped: list[DroppedValue] = []
        self.more = 0

    def drop(self, field: str, value: object, reason: str) -> None:
        if len(self.dropped) >= MAX_DROPPED:
            self.more += 1
            return
        self.dropped.append(
            DroppedValue(field=_short(field, 150), value=_short(value), reason=_short(reason, 300))
        )

    def listed(self) -> tuple[DroppedValue, ...]:
        """What the record keeps: the listed drops, then one entry counting those left out."""
        if not self.more:
            return tuple(self.dropped)
        summary = DroppedValue(
            field="dropped",
            value=str(self.more),
            reason=f"{self.more} more values were dropped; only the first {MAX_DROPPED} are listed",
        )
        return (*self.dropped, summary)
