"""Keyed tags of record ids, for pull cursors stored in the table.

A pull cursor remembers the records it delivered at its watermark (vendors stamp many records with
one second), and it is stored in the profile table (``SYNC#<connector>``), which an erasure does not
rewrite: an id kept there would outlive the person it names. So cursors keep a tag of each id instead:
64 bits of HMAC-SHA256 under a key derived from the connector's own credentials (which live in
Secrets Manager, not in the table). A tag names nobody to whoever reads the table, and 64 bits keep
thousands of records sharing one second apart. When a credential is rotated the tags stop matching
and the records of the watermark second are delivered once more, which ingest takes as unchanged.

Why the version, not only the id (``version_tag``): tools stamp whole seconds, so a record delivered
on the watermark second and changed again within it carries the same time; a cursor holding its id
dropped it for good (until a full refresh). A tag of the id with the record's content is skipped
only in the version the cursor delivered. A tag keeps 64 bits whatever the record's size, so the
cursor's size bound stays. An older cursor's tags of plain ids match no version: the records of its
watermark second are delivered once more, which ingest takes as unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Final


def tag_key(connector: str, *secrets: str) -> bytes:
    """The key of one connector instance's cursor tags: derived from what identifies it and its
    credentials (``shop``, token), never stored."""
    material = f"profilesync {connector} cursor\0" + "\0".join(secrets)
    return hashlib.sha256(material.encode()).digest()


def id_tag(key: bytes, record_id: str) -> str:
    """What a cursor keeps of a record's id: 64 bits of HMAC-SHA256, hex."""
    return hmac.new(key, _utf8(record_id), hashlib.sha256).hexdigest()[:16]


#: The hex characters of a ``version_tag`` that name its record (the rest name the version).
RECORD_PART: Final = 8


def version_tag(key: bytes, record_id: str, record: Any) -> str:
    """What a cursor keeps of one version of a record, 64 bits as ``id_tag``: 32 of its id (the same
    as ``id_tag``'s first half, ``another_version``), then 32 of its id with a digest of its content
    (canonical JSON: key order and spacing do not make a new version)."""
    return id_tag(key, record_id)[:RECORD_PART] + id_tag(key, f"{record_id}\0{content_digest(record)}")[:8]


def another_version(tag: str, tags: Iterable[str]) -> bool:
    """Whether ``tags`` hold a version of the record ``tag`` (a ``version_tag``) is a version of: a
    version pulled again on the watermark second is then dated after the ones delivered there
    (``connectors.cursor_seconds``). 32 bits, so among a thousand records one in about four thousand
    seconds has a false match, which only dates a version a few microseconds later.

    A record's ``id_tag`` (a cursor written before versions were tagged) counts: it says the record
    was delivered on the second but not in which version, and the one pulled again after upgrading
    may have been changed since within it. Marked, an unchanged one commits a touch on that one pull
    (``unchanged`` and ``touched`` in ingest's result); not marked, a changed one would be ordered
    against the version held by content hash, and lost half the time.

    Read from an index of ``tags`` made once per state (``last_versions``): every record a walk
    reads on the watermark asks, against up to a thousand tags."""
    return tag[:RECORD_PART] in last_versions(tags)


def content_digest(record: Any) -> str:
    """SHA-256 of a record's canonical JSON, hex (values JSON cannot spell are read as text)."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(_utf8(text)).hexdigest()


def _utf8(text: str) -> bytes:
    """``text`` as UTF-8, a lone surrogate too: a vendor's JSON may carry one (``"\\ud800"``, a
    string cut inside an emoji), and strict UTF-8 raised on it, stopping the pull at that page on
    every run (tests/integration/test_attack13_hostile_values_on_the_wire.py). The same bytes as
    ``str.encode()`` for every well-formed text, so the tags cursors hold are unchanged."""
    return text.encode("utf-8", "surrogatepass")


def latest_of(tag: str, tags: Iterable[str]) -> bool:
    """Whether ``tag`` is the last version of its record in ``tags`` (in the order delivered): a
    record changed A, B, then back to A on one second is delivered again in A, which an earlier
    place of A's tag does not hide. Read from the index ``another_version`` reads."""
    return last_versions(tags).get(tag[:RECORD_PART]) == tag


def last_versions(tags: Iterable[str]) -> dict[str, str]:
    """The last tag of each record in ``tags`` (in the order delivered), by its record part: made
    once for a state's tuple (a cursor's ``skip``, ``seen`` or ``ahead`` is one for a whole walk), and
    from a copy of anything else (a dict of tags, as Shopify keeps). A caller building a list of tags
    keeps its own index as it goes (HubSpot's ``_returned``): one made per call would cost more than
    the scan it saves. Never change the dict returned."""
    if type(tags) is not tuple:
        return _last_versions(tuple(tags))
    held = _BY_IDENTITY.get(id(tags))  # the state's own tuple, asked again: no hash of its tags
    if held is not None and held[0] is tags:
        return held[1]
    index = _last_versions(tags)
    with _LOCK:  # walks of several streams may run in threads
        if len(_BY_IDENTITY) >= _INDEXES:
            del _BY_IDENTITY[next(iter(_BY_IDENTITY))]
        _BY_IDENTITY[id(tags)] = (tags, index)  # holding the tuple: its id names no other while here
    return index


#: How many states' indexes are kept (a walk asks of two or three: ``skip``, ``ahead``).
_INDEXES: Final = 8
_BY_IDENTITY: dict[int, tuple[tuple[str, ...], dict[str, str]]] = {}
_LOCK = threading.Lock()


@lru_cache(maxsize=_INDEXES)
def _last_versions(tags: tuple[str, ...]) -> dict[str, str]:
    return {held[:RECORD_PART]: held for held in tags}


def tagged(key: bytes, ids: Iterable[str]) -> tuple[str, ...]:
    """The tags of ``ids``, in their order (re-keying a cursor an earlier version wrote in clear)."""
    return tuple(dict.fromkeys(id_tag(key, str(i)) for i in ids))


__all__ = [
    "RECORD_PART",
    "another_version",
    "content_digest",
    "id_tag",
    "last_versions",
    "latest_of",
    "tag_key",
    "tagged",
    "version_tag",
]
