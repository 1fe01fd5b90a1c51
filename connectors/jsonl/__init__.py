"""The ``jsonl`` connector: one flat record per line, the local entry point to profilesync.

    {"source": "crm", "id": "c1", "updated_at": "2026-01-05T10:00:00Z", "email": "Ann@Example.com",
     "phone": "+44 20 7946 0018", "first_name": "ann", "last_name": "Lee", "country": "GB",
     "consent": {"email": true}, "orders": [{"id": "o1", "total": "19.90", "currency": "GBP",
     "created_at": "2026-01-02T09:00:00Z"}]}

``email`` and ``phone`` may be lists. ``object_type`` (default ``contact``) is optional; an order
(``object_type`` ``order``, or another child type) may name its buyer's record with ``owner_id``
(and ``owner_type``, default ``contact``). Every other field becomes a trait. Lines that are not
JSON objects, or longer than ``MAX_LINE_CHARS``, are quarantined with their line number.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Callable, Generator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, TextIO

from connectors.jsonl.members import top_members
from core.errors import InputError
from core.schema import Quarantined, RecordDraft

__all__ = ["BEYOND", "MAX_LINE_CHARS", "draft_from_flat", "line_outcome", "read_jsonl"]

_RESERVED = {
    "source",
    "id",
    "object_type",
    "updated_at",
    "email",
    "phone",
    "consent",
    "orders",
    "owner_id",
    "owner_type",
}


#: The reserved names, for ``_traits_of`` to look up in a record (fewer than its keys, usually).
_RESERVED_NAMES: Final = tuple(_RESERVED)


def _traits_of(data: dict[str, Any]) -> dict[str, Any]:
    """``{k: v for k, v in data.items() if k not in _RESERVED}``: a copy of ``data`` without the
    reserved names, the rest in their order (half the time of the comprehension)."""
    traits = dict(data)
    for name in _RESERVED_NAMES:
        traits.pop(name, None)
    return traits


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def draft_from_flat(data: dict[str, Any]) -> RecordDraft:
    """Map one flat JSON object to a ``RecordDraft`` (values still raw; core.normalise cleans them).

    The id is passed as given: normalisation refuses one that is not a string or an integer, where
    ``str()`` used to turn a list into an id. ``owner_id`` (with ``owner_type``, default ``contact``)
    names the record an order belongs to."""
    fields = _draft_fields(data)
    del fields["deleted"]  # left to its default, as it always was: not in the draft's fields set
    del fields["undated"]  # and so is this one
    del fields["same_person_as_owner"]  # and this one (a flat file's child never says so)
    return RecordDraft(**fields)


def _draft_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The fields of ``data``'s draft, every one, in the model's order (``_draft_from_json`` fills no
    default)."""
    consent = data.get("consent")
    orders = data.get("orders")
    source, object_type = data.get("source") or "", data.get("object_type") or "contact"
    owner_id, owner_type = data.get("owner_id"), data.get("owner_type")
    problem = None
    if not isinstance(source, str) or not isinstance(object_type, str):
        problem = "source and object_type must be strings"
    elif owner_type is not None and not isinstance(owner_type, str):
        problem = "owner_type must be a string"
    return {
        "source": source if isinstance(source, str) else "",
        "object_type": object_type if isinstance(object_type, str) else "contact",
        "source_id": _id_text(data.get("id")),
        "updated_at": data.get("updated_at"),
        "emails": _as_list(data.get("email")),
        "phones": _as_list(data.get("phone")),
        "traits": _traits_of(data),
        "consent": consent if isinstance(consent, dict) else {},
        "orders": orders if isinstance(orders, list) else _as_list(orders),
        "owner_type": (owner_type or "contact") if owner_id not in (None, "") and problem is None else None,
        "owner_id": owner_id,
        "same_person_as_owner": False,
        "undated": False,
        "deleted": False,
        "problem": problem,
        "raw": data,
    }


_new_object = object.__new__
_set_attribute = object.__setattr__
#: The fields set of a draft ``draft_from_flat`` validates: every field but the three it leaves to
#: their defaults.
_GIVEN: Final = frozenset(RecordDraft.model_fields) - {"deleted", "undated", "same_person_as_owner"}


def _draft_from_json(data: dict[str, Any]) -> RecordDraft:
    """``draft_from_flat`` of an object ``json`` decoded, without validating what cannot be invalid.

    Every field of such a draft already has its type: the mapping above makes strings, lists and
    dicts, and a decoded object's keys are strings (what ``dict[str, Any]`` checks). Validation
    only copied the lists and dicts, a tenth of the normalising worker's time; the values are the
    same (tests/unit/test_normalise_fast_paths.py compares both drafts and their outcomes). Not
    for other callers: a dict built in Python may hold keys that are not strings, which
    ``draft_from_flat`` refuses."""
    fields = _draft_fields(data)
    draft = _new_object(RecordDraft)
    _set_attribute(draft, "__dict__", fields)
    _set_attribute(draft, "__pydantic_fields_set__", set(_GIVEN))
    _set_attribute(draft, "__pydantic_extra__", None)
    _set_attribute(draft, "__pydantic_private__", None)
    return draft


def _id_text(value: Any) -> Any:
    """An integer id as its text (``42`` -> ``"42"``); anything else as given, for normalisation to
    accept (a string) or refuse with the reason (a list, an object, a number with a fraction)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() <= 128:
        return str(value)
    return value


#: One decoder for every line: ``json.loads`` with these arguments built a new one per line.
#: NaN and Infinity stay text, so the normaliser rejects them as amounts.
_DECODER: Final = json.JSONDecoder(parse_float=Decimal, parse_constant=str)


#: Its scanner (the C one): one value from an index, as ``(value, end)``; StopIteration for none.
_SCAN: Final[Callable[[str, int], tuple[Any, int]]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _decode(text: str) -> Any:
    """``json.loads(text, parse_float=Decimal, parse_constant=str)``, with its one check first.

    A value from the first character to the last (a stripped line) is one scan; anything else
    (whitespace around it, more after it, no value) goes through the decoder's own ``decode``, two
    whitespace matches around the same scan, which returns or raises what ``loads`` would."""
    if text.startswith("\ufeff"):  # a byte-order mark inside the file (loads refuses it so)
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    try:
        data, end = _SCAN(text, 0)
    except StopIteration:
        return _DECODER.decode(text)
    return data if end == len(text) else _DECODER.decode(text)


def _json_kind(data: Any) -> str:
    if isinstance(data, list):
        return "an array"
    if isinstance(data, str):
        return "a string"
    if isinstance(data, bool):
        return "a boolean"
    return "null" if data is None else "a number"


#: The longest line read as a record. A longer one is quarantined as too large without being held
#: whole (or parsed) in memory: a 50 MB line used to cost 785 MB and end the run with a traceback.
#: 4 MiB holds a record with 10,000 orders (whose older orders normalisation sums up).
MAX_LINE_CHARS: Final = 4 * 1024 * 1024
_CHUNK: Final = 1024 * 1024


def _lines(handle: TextIO) -> Iterator[tuple[int, str, int]]:
    """``(line number, text, length)`` of each line; a line over ``MAX_LINE_CHARS`` comes back with
    only its start as text, the rest read and dropped a chunk at a time."""
    number = 0
    while True:
        line = handle.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        length = len(line)
        if length > MAX_LINE_CHARS and not line.endswith("\n"):
            head = line[:500]
            while True:
                chunk = handle.readline(_CHUNK)
                length += len(chunk)
                if not chunk or chunk.endswith("\n"):
                    break
            line = head
        yield number, line, length


#: Bytes that are not UTF-8, as ``errors="surrogateescape"`` decodes them (U+DC80..U+DCFF). A JSON
#: escape such as ``"\udc80"`` stays six ASCII characters in the line, so only raw bytes show up here.
_UNDECODABLE: Final = re.compile("[\udc80-\udcff]")
#: Byte-order marks of encodings that are not UTF-8 at all: such a file is refused, not read line by line.
_FOREIGN_BOMS: Final = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


#: What a broken line's quarantine entry keeps of it: its first characters, enough to find and mend it.
_HEAD: Final = 500
#: The key of a cut line's entry that holds the addresses and phone-like tokens written past its head,
#: so that an erased person's line whose head names her is still found by her identifiers
#: (profilesync.erased_quarantine); at most ``_MOST_BEYOND`` of each.
BEYOND: Final = "beyond_head"
_MOST_BEYOND: Final = 64
_BEYOND_PHONE: Final = re.compile(r"\+?\d[\d \-().]{5,30}\d")
#: How far before the cut the part past the head is read from (an address's length, with room).
_OVERLAP: Final = 320
#: What an address never holds unquoted: a split address is read from the last of these before the cut.
_SEPARATOR: Final = re.compile(r'[\s"<>,;:\[\]()]')


def _bad_line(source: str, number: int, reason: str, text: str) -> Quarantined:
    """The quarantine entry of a line that is no record, kept by its line number and first 500
    characters; a longer line's addresses and phone-like numbers past them are kept beside (``BEYOND``)."""
    raw: dict[str, object] = {"line": text[:_HEAD]}
    if len(text) > _HEAD:
        from core.quarantine_addresses import ADDRESS, json_unescaped

        # A value the cut splits is read whole: from the separator before it, up to an address's
        # length back (RFC 5321: 254), never from inside a token (a tail of someone else's address).
        back = text[_HEAD - _OVERLAP : _HEAD]
        first = _SEPARATOR.search(back)
        after = _SEPARATOR.search(text, _HEAD) if first is None else None  # a token of 320+: skip it
        start = _HEAD - _OVERLAP + first.end() if first else (after.end() if after else len(text))
        rest = text[start:]
        decoded = json_unescaped(rest)  # json.dumps' \\u00fc, \\u0040, a vCard's \\r\\n after an address
        emails = list(dict.fromkeys(ADDRESS.findall(rest) + ADDRESS.findall(decoded)))[:_MOST_BEYOND]
        phones = list(dict.fromkeys(m[0] for m in _BEYOND_PHONE.finditer(decoded)))[:_MOST_BEYOND]
        # its record's id, owner and country wherever written (sorted keys put them past the head)
        members = top_members(text)
        if emails or phones or members:
            raw[BEYOND] = {"email": emails, "phone": phones, "members": members}
    return Quarantined(source=source, source_id=f"line {number}", reason=reason, raw=raw)


def _undecodable(line: str, number: int, source: str) -> Quarantined | None:
    """The quarantine entry of a line holding bytes that are not UTF-8 (one line of a spreadsheet saved
    in Latin-1 inside a UTF-8 export), or None. The rest of the file is still read."""
    if line.isascii():  # no undecodable byte (they are read as U+DC80..U+DCFF): most lines
        return None
    found = _UNDECODABLE.search(line)
    if found is None:
        return None
    byte = ord(found.group()) - 0xDC00
    shown = line.encode("utf-8", "surrogateescape").decode("utf-8", "replace").strip()
    reason = (
        f"line {number} is not UTF-8 text (byte 0x{byte:02X} at character {found.start() + 1}); "
        "save the file as UTF-8, or fix that line"
    )
    return _bad_line(source, number, reason, shown)


def read_jsonl(
    path: Path | str, default_source: str = "jsonl"
) -> Generator[RecordDraft | Quarantined, None, None]:
    """Yield a draft per line, or a ``Quarantined`` entry for a line that is not a JSON object.

    A line that is not UTF-8, or nested deeper than Python can parse, is quarantined like any other
    bad line. Raises ``InputError`` when the file cannot be read at all (missing, a directory, UTF-16
    or UTF-32). Numbers are parsed as Decimal so money never passes through a float.
    """
    file = Path(path)
    if not file.exists():
        raise InputError(f"{file}: no such file; give the path of a JSON-lines file (one record per line)")
    if file.is_dir():
        raise InputError(f"{file} is a directory; give the path of a JSON-lines file")
    try:
        # One opening, its first bytes peeked (a pipe gives each opening other lines: attack31r).
        raw = file.open("rb")
        head = raw.peek(4)[:4]
        # utf-8-sig: files saved by Excel or Notepad start with a byte-order mark. surrogateescape: a
        # line with bytes that are not UTF-8 is quarantined alone (_undecodable), not the whole file.
        handle = io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape")
    except OSError as error:
        raise InputError(f"{file}: cannot be read ({error.strerror})") from error
    if head.startswith(_FOREIGN_BOMS):
        handle.close()
        raise InputError(
            f"{file} is not UTF-8 text (it starts with a UTF-16 or UTF-32 byte-order mark): "
            "save it as UTF-8 JSON lines"
        )
    with handle:
        for number, line, length in _lines(handle):
            outcome = line_outcome(number, line, length, default_source)
            if outcome is not None:
                yield outcome


def line_outcome(
    number: int, line: str, length: int, default_source: str, *, utf8: bool = False
) -> RecordDraft | Quarantined | None:
    """What ``read_jsonl`` yields for line ``number`` (``length`` characters, of which ``line`` holds
    the start when it is over ``MAX_LINE_CHARS``): a draft, a quarantine entry, or None (blank).
    ``utf8``: the line was decoded strictly, so it holds no byte that is not UTF-8 to look for
    (``errors="surrogateescape"`` makes those U+DC80..U+DCFF, which no valid UTF-8 decodes to)."""
    if not utf8 and (bad := _undecodable(line, number, default_source)) is not None:
        return bad
    if length > MAX_LINE_CHARS:
        reason = (
            f"line {number} is {length:,} characters, over the {MAX_LINE_CHARS:,} a record "
            "may have (a record this large cannot be stored); split it or leave out "
            "what it does not need"
        )
        return _bad_line(default_source, number, reason, line)
    text = line.strip()
    if not text:
        return None
    try:
        data = _decode(text)
    except json.JSONDecodeError as error:
        return _bad_line(default_source, number, f"not valid JSON (line {number}: {error.msg})", text)
    except RecursionError:
        # "[[[[...]]]]" a hundred thousand deep fits in one line and ended the whole run.
        reason = (
            f"line {number} is JSON nested too deeply to read (arrays or objects inside "
            "each other about a thousand levels or more); a record is one flat object"
        )
        return _bad_line(default_source, number, reason, text)
    if not isinstance(data, dict):
        reason = f"not a JSON object (line {number} is {_json_kind(data)})"
        return _bad_line(default_source, number, reason, text)
    if not data.get("source"):
        data = {**data, "source": default_source}
    return _draft_from_json(data)
