"""The PROFILE item's large attributes packed into one compressed value past a threshold.

Every record a customer owns adds a source reference and a ``source#`` identifier to her profile
JSON (``data``) and its key to the item's ``owned`` set: about 160 bytes an order with short ids,
236 with Stripe's random ones. DynamoDB refuses an item over 400 KB, and the SQLite and in-memory
stores hold the same limit, so past about 2,559 orders every further order was quarantined. Here,
when ``data`` and ``owned`` together pass ``PACK_THRESHOLD_BYTES``, both are written as one binary
value in place of ``data`` (DynamoDB: ``data`` of type B and no ``owned`` attribute; SQLite: a BLOB
in the ``data`` column and ``attrs`` without ``owned``). An item under the threshold is written
byte for byte as before, and every reader takes either form (``read_document``).

The packing stores each record's key once: a ``source`` identifier whose value is the key of one of
the profile's sources (``<source>:<object_type>:<id>``, as every record's own identifier is) becomes
the distance to that source's index from the previous one (1, nearly always: both lists are sorted
by key), and ``owned`` becomes what it holds beyond the profile's identifier keys and what it lacks of
them (nearly always nothing). The JSON of that is compressed with zlib. Measured on synthetic
profiles (``python -m bench.growing_customer --packing``): 2.8 bytes an order with short ids, 28.6
with random 24-character ids and times (zlib of the plain JSON: 8.0 and 67.7), so the item holds
about 146,000 orders with short ids and 14,300 with random ones.

A packed value starts with ``MAGIC``; a release before this one cannot read it (it reads ``data``
as text): the upgrade note is in docs/architecture.md ("The profile item past 64 KB").
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
    identifiers: list[Any] = []
    previous = -1
    for identifier in profile.get("identifiers") or []:
        at = index.get(identifier.get("value")) if identifier.keys() == {"kind", "value"} else None
        if at is not None and identifier["kind"] == "source":
            identifiers.append(at - previous)  # an int: the distance to the source it names
            previous = at
        else:
            identifiers.append(identifier)
    listed = {f"{i['kind']}#{i['value']}" for i in profile.get("identifiers") or []}
    held = set(keys)
    profile["identifiers"] = identifiers
    body = {"p": profile, "more": sorted(held - listed), "less": sorted(listed - held)}
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return MAGIC + zlib.compress(text.encode("utf-8", "surrogatepass"), _LEVEL)


def unpack_profile(value: bytes) -> tuple[str, frozenset[str]]:
    """The profile's JSON and the ``owned`` keys of a packed value (``pack_profile``)."""
    if not value.startswith(MAGIC):
        raise StoreLayoutError(
            f"a PROFILE item's data is packed in a format this release does not know ({bytes(value[:4])!r}): "
            "it was written by a newer release of profilesync; upgrade to read it"
        )
    body = json.loads(zlib.decompress(value[len(MAGIC) :]).decode("utf-8", "surrogatepass"))
    profile = body["p"]
    sources = profile.get("sources") or []
    identifiers: list[Any] = []
    at = -1
    for identifier in profile.get("identifiers") or []:
        if isinstance(identifier, int):
            at += identifier
            identifiers.append({"kind": "source", "value": _source_key(sources[at])})
        else:
            identifiers.append(identifier)
    profile["identifiers"] = identifiers
    listed = {f"{i['kind']}#{i['value']}" for i in identifiers}
    owned = (listed - set(body["less"])) | set(body["more"])
    return json.dumps(profile, ensure_ascii=False, separators=(",", ":")), frozenset(owned)


def read_document(data: str | bytes | bytearray | memoryview) -> tuple[str, frozenset[str] | None]:
    """The profile JSON of a stored ``data`` value of either form, and the ``owned`` keys when it
    was packed (None: ``owned`` is where it always was, the item's set or ``attrs``)."""
    if isinstance(data, str):
        return data, None
    return unpack_profile(bytes(data))


def _source_key(ref: Any) -> str | None:
    if not isinstance(ref, dict):
        return None
    parts = (ref.get("source"), ref.get("object_type"), ref.get("id"))
    return ":".join(parts) if all(isinstance(p, str) for p in parts) else None  # type: ignore[arg-type]
