"""The PROFILE item's large attributes packed into one compressed value past a threshold.

Every record a customer owns adds a source reference and a ``source#`` identifier to her profile
JSON (``data``) and its key to the item's ``owned`` set: about 160 bytes an order with short ids,
236 with Stripe's random ones. DynamoDB refuses an item over 400 KB, and the SQLite and in-memory
stores hold the same limit, so past about 2,559 orders every further order was quarantined. Here,
when ``data`` and ``owned`` together pass ``PACK_THRESHOLD_BYTES``, both are written as one binary
value in place of ``data`` (DynamoDB: ``data`` of type B and no ``owned`` attribute; SQLite: a BLOB
in the ``data`` column and ``attrs`` without ``owned``). An item under the threshold is written
byte for byte as before, and every reader takes either form (``read_document``).

The packing compresses what grows with the records and stores each record's key once: of the
profile's ``identifiers`` and ``sources`` lists, a ``source`` identifier whose value is the key of
one of the sources (``<source>:<object_type>:<id>``, as every record's own identifier is) becomes
the distance to that source's index from the previous one (1, nearly always: both lists are sorted
by key), and ``owned`` becomes what it holds beyond the profile's identifier keys and what it lacks
of them (nearly always nothing); the JSON of those is compressed with zlib. The rest of the profile
(traits, computed traits, consent: bounded per record, not per order) is written as it is, so an
item of large traits weighs what it did and is refused where it was. Measured on synthetic profiles
(``python -m bench.packed_customer --packing``): 2.8 bytes an order with short ids, 28.6 with
random 24-character ids and times (zlib of the plain JSON: 7.9 and 67.6), so the item holds about
147,000 orders with short ids and 14,300 with random ones.

A packed value is ``MAGIC``, the compressed part's length (4 bytes, big-endian), the compressed
part, and the rest of the profile's JSON (UTF-8, its lists ``null``). A release before this one
cannot read it (it reads ``data`` as text): the upgrade note is in docs/architecture.md ("The
profile item past 64 KB").
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable
from typing import Any, Final

from core.errors import StoreLayoutError

__all__ = [
    "ITEM_MAX_BYTES",
    "MAGIC",
    "PACK_THRESHOLD_BYTES",
    "pack_profile",
    "read_document",
    "unpack_profile",
]

#: DynamoDB's limit on one item (UTF-8 bytes of names and values), held by all three stores.
#: Read as ``profile_packing.ITEM_MAX_BYTES`` at each use, so a test can lower it for every store.
ITEM_MAX_BYTES: Final = 400 * 1024
#: ``data`` and ``owned`` together past this many bytes are packed: a profile of about 400 orders.
#: Under it the item is written as before (almost every customer). Read at each use, as above.
PACK_THRESHOLD_BYTES: Final = 64 * 1024
#: The first bytes of a packed value: the format's name and version.
MAGIC: Final = b"psz1"
_LEVEL: Final = 6  # zlib 9 saves 4% of the bytes for three times the CPU (the bench above)
#: The profile's lists that grow with its records: compressed. The rest is written as it is.
_GROWN: Final = frozenset({"identifiers", "sources"})


def unpacked_bytes(document: str, owned: Iterable[str]) -> int:
    """What ``data`` and ``owned`` weigh unpacked, about (characters; exact for ASCII)."""
    return len(document) + sum(len(key) + 4 for key in owned)


def pack_profile(document: str, owned: Iterable[str]) -> bytes | None:
    """``document`` (the profile's JSON) and the ``owned`` keys as one packed value, or None when
    they weigh less than ``PACK_THRESHOLD_BYTES`` (the item is written as before)."""
    keys = sorted(owned)
    if unpacked_bytes(document, keys) <= PACK_THRESHOLD_BYTES:
        return None
    profile: dict[str, Any] = json.loads(document)
    sources = profile.get("sources") or []
    index = {_source_key(ref): at for at, ref in enumerate(sources) if _source_key(ref) is not None}
    listed = profile.get("identifiers") or []
    identifiers: list[Any] = []
    previous = -1
    for identifier in listed:
        at = index.get(identifier.get("value")) if identifier.keys() == {"kind", "value"} else None
        if at is not None and identifier["kind"] == "source":
            identifiers.append(at - previous)  # an int: the distance to the source it names
            previous = at
        else:
            identifiers.append(identifier)
    held, named = set(keys), {f"{i['kind']}#{i['value']}" for i in listed}
    more, less = sorted(held - named), sorted(named - held)
    grown = {"identifiers": identifiers, "sources": sources, "more": more, "less": less}
    # What grows with the records is compressed; the rest (traits, computed traits, consent) stays
    # as written, each in its place (None), so the JSON read back has the profile's own key order.
    rest = {name: (None if name in _GROWN else value) for name, value in profile.items()}
    packed = zlib.compress(_json(grown), _LEVEL)
    return MAGIC + len(packed).to_bytes(4, "big") + packed + _json(rest)


def unpack_profile(value: bytes) -> tuple[str, frozenset[str]]:
    """The profile's JSON and the ``owned`` keys of a packed value (``pack_profile``)."""
    if not value.startswith(MAGIC):
        raise StoreLayoutError(
            f"a PROFILE item's data is packed in a format this release does not know ({bytes(value[:4])!r}): "
            "it was written by a newer release of profilesync; upgrade to read it"
        )
    try:
        return _unpacked(value)
    except (
        zlib.error,
        ValueError,
        LookupError,
        TypeError,
        AttributeError,
    ) as error:  # ValueError: JSON, UTF-8
        raise StoreLayoutError(
            f"a PROFILE item's packed data is damaged ({type(error).__name__}: {error}); nothing reads it "
            "as it is: restore the item from a backup, or write the customer again from her records"
        ) from None


def _unpacked(value: bytes) -> tuple[str, frozenset[str]]:
    start = len(MAGIC) + 4
    end = start + int.from_bytes(value[len(MAGIC) : start], "big")
    if len(value) < end:
        raise ValueError(f"its compressed part of {end - start:,} bytes runs past its end")
    grown = json.loads(zlib.decompress(value[start:end]).decode("utf-8", "surrogatepass"))
    profile = json.loads(value[end:].decode("utf-8", "surrogatepass"))
    sources = grown["sources"]
    identifiers: list[Any] = []
    at = -1
    for identifier in grown["identifiers"]:
        if isinstance(identifier, int):
            at += identifier
            if not 0 <= at < len(sources):  # a negative index would name another source, silently
                raise IndexError(f"an identifier names source {at} of {len(sources)}")
            identifiers.append({"kind": "source", "value": _source_key(sources[at])})
        else:
            identifiers.append(identifier)
    for name, grew in (("identifiers", identifiers), ("sources", sources)):
        if name in profile:
            profile[name] = grew
    named = {f"{i['kind']}#{i['value']}" for i in identifiers}
    owned = (named - set(grown["less"])) | set(grown["more"])
    return json.dumps(profile, ensure_ascii=False, separators=(",", ":")), frozenset(owned)


def read_document(data: str | bytes | bytearray | memoryview) -> tuple[str, frozenset[str] | None]:
    """The profile JSON of a stored ``data`` value of either form, and the ``owned`` keys when it
    was packed (None: ``owned`` is where it always was, the item's set or ``attrs``)."""
    if isinstance(data, str):
        return data, None
    return unpack_profile(bytes(data))


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _source_key(ref: Any) -> str | None:
    if not isinstance(ref, dict):
        return None
    parts = (ref.get("source"), ref.get("object_type"), ref.get("id"))
    return ":".join(parts) if all(isinstance(p, str) for p in parts) else None  # type: ignore[arg-type]
