"""Keyed tags of record ids, for pull cursors stored in the table.

A pull cursor remembers the records it delivered at its watermark (vendors stamp many records with
one second), and it is stored in the profile table (``SYNC#<connector>``), which an erasure does not
rewrite: an id kept there would outlive the person it names. So cursors keep a tag of each id instead:
64 bits of HMAC-SHA256 under a key derived from the connector's own credentials (which live in
Secrets Manager, not in the table). A tag names nobody to whoever reads the table, and 64 bits keep
thousands of records sharing one second apart. When a credential is rotated the tags stop matching
and the records of the watermark second are delivered once more, which ingest takes as unchanged.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable


def tag_key(connector: str, *secrets: str) -> bytes:
    """The key of one connector instance's cursor tags: derived from what identifies it and its
    credentials (``shop``, token), never stored."""
    material = f"profilesync {connector} cursor\0" + "\0".join(secrets)
    return hashlib.sha256(material.encode()).digest()


def id_tag(key: bytes, record_id: str) -> str:
    """What a cursor keeps of a record's id: 64 bits of HMAC-SHA256, hex."""
    return hmac.new(key, record_id.encode(), hashlib.sha256).hexdigest()[:16]


def tagged(key: bytes, ids: Iterable[str]) -> tuple[str, ...]:
    """The tags of ``ids``, in their order (re-keying a cursor an earlier version wrote in clear)."""
    return tuple(dict.fromkeys(id_tag(key, str(i)) for i in ids))


__all__ = ["id_tag", "tag_key", "tagged"]
