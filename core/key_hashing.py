"""The hash a table key holds in place of a person's value: HMAC-SHA256 with the audit salt.

DynamoDB writes every changed item's key to the table's stream (kept 24 hours, never deleted by an
erasure). A key that holds a hash of a personal value without a key (``BLAKE2b("bf:19921130:h")``)
can be confirmed by whoever guesses the value ("Hana, born 1992-11-30"); a keyed hash cannot, without
the salt. ``keyed_hex`` is the one place that computes it: identifier items (core.storage.ident_keys:
the identifier key itself, as suppression entries hash it), the link index's ``BLOCK#`` items
(core.link_blocks) and the history index's ``NAMED#`` items (core.governance.history_names), the
latter two over their prefix and the value, so that an index item's hash never equals an
identifier item's for the same value.

``unkeyed_hex`` is the previous layout's hash of index keys, which the embedded SQLite store and the
in-memory store still use (no stream; the SQLite file is its owner's only), and which a DynamoDB
table written by the previous release holds until ``profilesync migrate rekey-identifiers`` moves it.

``salt_check`` is what a table's layout marker holds to tell a store given another salt (a mistyped
parameter, another stage's secret) before it writes a single item keyed with it. Pure.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Final

__all__ = ["CHECK_MESSAGE", "keyed_hex", "salt_check", "unkeyed_hex"]

#: What a table's salt check value is the keyed hash of (no person's value).
CHECK_MESSAGE: Final = "profilesync layout"


def keyed_hex(salt: str, value: str) -> str:
    """HMAC-SHA256 of ``value`` keyed with ``salt``: 64 hex digits."""
    # A copy of the salt's keyed state, not ``hmac.digest``: the key's two SHA-256 blocks are
    # hashed once per salt, not once per value (2.3-3.2 us a value against 3.4-4.3, 200,000 values).
    keyed = _keyed_state(salt).copy()
    keyed.update(value.encode())
    return keyed.hexdigest()


@lru_cache(maxsize=16)
def _keyed_state(salt: str) -> hmac.HMAC:
    return hmac.new(salt.encode(), digestmod=hashlib.sha256)


def unkeyed_hex(value: str) -> str:
    """128 bits of BLAKE2b of ``value`` (32 hex digits): index keys before they were keyed."""
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()


def salt_check(salt: str) -> str:
    """The check value of ``salt``, stored on a table's layout marker."""
    return keyed_hex(salt, CHECK_MESSAGE)
