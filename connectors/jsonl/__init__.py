"""The ``jsonl`` connector: one flat record per line, the local entry point to profilesync.

    {"source": "crm", "id": "c1", "updated_at": "2026-01-05T10:00:00Z", "email": "Ann@Example.com",
     "phone": "+44 20 7946 0018", "first_name": "ann", "last_name": "Lee", "country": "GB",
     "consent": {"email": true}, "orders": [{"id": "o1", "total": "19.90", "currency": "GBP",
     "created_at": "2026-01-02T09:00:00Z"}]}

``email`` and ``phone`` may be lists. ``object_type`` (default ``contact``) is optional; every other
field becomes a trait. Lines that are not JSON objects are quarantined with their line number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from core.errors import InputError
from core.schema import Quarantined, RecordDraft

__all__ = ["draft_from_flat", "read_jsonl"]

_RESERVED = {"source", "id", "object_type", "updated_at", "email", "phone", "consent", "orders"}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def draft_from_flat(data: dict[str, Any]) -> RecordDraft:
    """Map one flat JSON object to a ``RecordDraft`` (values still raw; core.normalise cleans them)."""
    consent = data.get("consent")
    orders = data.get("orders")
    return RecordDraft(
        source=str(data.get("source") or ""),
        object_type=str(data.get("object_type") or "contact"),
        source_id=str(data["id"]) if data.get("id") not in (None, "") else "",
        updated_at=data.get("updated_at"),
        emails=_as_list(data.get("email")),
        phones=_as_list(data.get("phone")),
        traits={k: v for k, v in data.items() if k not in _RESERVED},
        consent=consent if isinstance(consent, dict) else {},
        orders=orders if isinstance(orders, list) else _as_list(orders),
        raw=data,
    )


def _json_kind(data: Any) -> str:
    if isinstance(data, list):
        return "an array"
    if isinstance(data, str):
        return "a string"
    if isinstance(data, bool):
        return "a boolean"
    return "null" if data is None else "a number"


def read_jsonl(path: Path | str, default_source: str = "jsonl") -> Iterator[RecordDraft | Quarantined]:
    """Yield a draft per line, or a ``Quarantined`` entry for a line that is not a JSON object.

    Raises ``InputError`` when the file cannot be read at all (missing, a directory, not UTF-8).
    Numbers are parsed as Decimal so money never passes through a float.
    """
    file = Path(path)
    if not file.exists():
        raise InputError(f"{file}: no such file; give the path of a JSON-lines file (one record per line)")
    if file.is_dir():
        raise InputError(f"{file} is a directory; give the path of a JSON-lines file")
    try:
        # utf-8-sig: files saved by Excel or Notepad start with a byte-order mark.
        handle = file.open(encoding="utf-8-sig")
    except OSError as error:
        raise InputError(f"{file}: cannot be read ({error.strerror})") from error
    number = 0
    with handle:
        try:
            for number, line in enumerate(handle, start=1):
                text = line.strip()
                if not text:
                    continue
                try:
                    # NaN and Infinity stay text, so the normaliser rejects them as amounts.
                    data = json.loads(text, parse_float=Decimal, parse_constant=str)
                except json.JSONDecodeError as error:
                    yield Quarantined(
                        source=default_source,
                        source_id=f"line {number}",
                        reason=f"not valid JSON (line {number}: {error.msg})",
                        raw={"line": text[:500]},
                    )
                    continue
                if not isinstance(data, dict):
                    yield Quarantined(
                        source=default_source,
                        source_id=f"line {number}",
                        reason=f"not a JSON object (line {number} is {_json_kind(data)})",
                        raw={"line": text[:500]},
                    )
                    continue
                if not data.get("source"):
                    data = {**data, "source": default_source}
                yield draft_from_flat(data)
        except UnicodeDecodeError as error:
            raise InputError(
                f"{file} is not UTF-8 text (byte {error.start}): save it as UTF-8 JSON lines"
            ) from error
