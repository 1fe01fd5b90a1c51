"""The keys of identifier items in the DynamoDB table: ``IDENT#<keyed hash>``, never the value.

An identifier key (``email#ann@example.com``, ``phone#+442079460018``, ``source#hubspot:contact:1``,
``mailbox#annsmith@gmail.com``) is a person's value. The table's stream (``KEYS_ONLY``) carries every
changed item's key for 24 hours and no erasure can delete a stream record, so the items that stand
for an identifier (its ``IDENT`` item and its ``HOLDER#<cid>`` markers) are keyed by the HMAC-SHA256
of the identifier key with the audit salt (the suppression entries' hash,
``core.suppression.keyed_hash``): ``IDENT#`` and 64 hex digits. The identifier key itself is the
non-key attribute ``ident`` (S) of those items, which a ``KEYS_ONLY`` stream never carries and an
erasure deletes with the item; scans that list identifiers read it from there.

The port keeps naming items by their identifier (``ItemKey("IDENT#email#ann@example.com", ...)``,
``Ownership.key``): ``physical_pk`` turns such a name into the table's key at the store's edge. A
name already physical (``IDENT#`` and no second ``#``) is left as it is.

Tables written before this layout hold ``IDENT#<kind>#<value>`` items (``legacy``).
``profilesync migrate rekey-identifiers`` moves them (core.storage.ident_rekey); until it has
written its marker (``REKEYED_KEY``) the store reads both keys and moves what it finds under the old
one before it plans on it (``DynamoDBProfileStore.get_owners``), so no join is lost meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from core.errors import SaltMismatchError
from core.key_hashing import keyed_hex, salt_check

IDENT_PREFIX = "IDENT#"
#: The marker ``profilesync migrate rekey-identifiers`` writes when no identifier item is left under
#: its value: from then on the stores read the keyed key alone. Under ``IDENT#`` (every role that
#: reads identifier items may read it) and no identifier's key: no second ``#``, not 64 hex digits.
REKEYED_KEY: Mapping[str, Any] = {"PK": {"S": "IDENT#layout"}, "SK": {"S": "REKEYED"}}
#: What a store built without the deployment's salt keys by (tests, benches, tools reading a table
#: with no secret configured). Public: it hides nothing from whoever reads this line. Every function
#: and the CLI against a deployed table pass the audit salt.
DEFAULT_IDENT_SALT = "profilesync-unsalted"

#: A salt, or what reads it on first use (the functions' wiring: a cold start that never reads an
#: identifier never loads the secrets reader).
Salt = str | Callable[[], str]


class LazySalt:
    """The salt of a store, read once on first use."""

    def __init__(self, salt: Salt) -> None:
        self._salt = salt

    def __call__(self) -> str:
        if not isinstance(self._salt, str):
            self._salt = self._salt()
        return self._salt


#: The marker's attribute saying the link and history indexes are keyed too (``BLOCK#`` and
#: ``NAMED#`` by keyed hash, core.key_hashing): a table marked by the previous release's migration
#: has identifier items keyed, index items not yet.
INDEX_KEYED: Mapping[str, Any] = {"S": "keyed"}


def marker_item(salt: str, *, index: bool) -> dict[str, Any]:
    """The layout marker: identifiers keyed, the indexes too when ``index``, and the salt's check
    value (``check``), which every store compares with its own salt's when it reads the marker."""
    item: dict[str, Any] = {**REKEYED_KEY, "check": {"S": salt_check(salt)}}
    if index:
        item["index"] = dict(INDEX_KEYED)
    return item


def verify_salt(marker: Mapping[str, Any], salt: str, table_name: str) -> None:
    """Refuse ``salt`` when the table's marker was written with another one (SaltMismatchError).
    A marker written before the check existed holds none: nothing to compare."""
    check = marker.get("check")
    if check is not None and check.get("S") != salt_check(salt):
        raise SaltMismatchError(
            f"the audit salt given is not the one table {table_name!r} was made with: set "
            "PROFILESYNC_AUDIT_SALT (or PROFILESYNC_SECRETS_PREFIX, to read the stack's audit-salt "
            "secret) to the salt of the stack that owns the table; keyed with another salt, no "
            "identifier or index item would be found and none was written"
        )


def mark_new_table(client: Any, table_name: str, salt: str = DEFAULT_IDENT_SALT) -> None:
    """Mark a table this version just created with ``salt`` (the one its stores key by): it holds no
    identifier or index item under an old key, so its stores never read the old keys (what
    ``profilesync migrate rekey-identifiers`` writes at its end), and a store given another salt is
    refused."""
    client.put_item(TableName=table_name, Item=marker_item(salt, index=True))


def ident_pk(key: str, salt: str) -> str:
    """The partition key of identifier ``key``'s items: ``IDENT#`` and its keyed hash, the one
    ``core.suppression.keyed_hash`` gives (not imported: it brings the normalisers, which the
    profile API's cold start never loads; tests/unit/test_priv29_ident_keys.py checks they agree)."""
    return IDENT_PREFIX + keyed_hex(salt, key)


def legacy_ident_pk(key: str) -> str:
    """The partition key the previous layout gave identifier ``key``: its value in clear."""
    return IDENT_PREFIX + key


#: DynamoDB's longest partition key: an identifier whose old key is longer was never written the old
#: way (refused, as every store refuses it), and a read naming such a key is refused by AWS.
KEY_MAX_BYTES = 2048


def legacy_fits(key: str) -> bool:
    """Whether identifier ``key``'s old partition key is one DynamoDB takes (so may hold items)."""
    return (
        len(key) * 4 + len(IDENT_PREFIX) <= KEY_MAX_BYTES
        or len(legacy_ident_pk(key).encode()) <= KEY_MAX_BYTES
    )


def is_legacy_pk(pk: str) -> bool:
    """Whether a table partition key is an identifier's in the previous layout (its value)."""
    return pk.startswith(IDENT_PREFIX) and "#" in pk[len(IDENT_PREFIX) :]


def physical_pk(pk: str, salt: str) -> str:
    """The table's key of a port's item name: ``IDENT#<identifier key>`` becomes ``IDENT#<hash>``;
    every other name (and one already keyed by hash) is the table's key as it is."""
    if is_legacy_pk(pk):
        return ident_pk(pk[len(IDENT_PREFIX) :], salt)
    return pk


def ident_of(item: Mapping[str, Any]) -> str:
    """The identifier key of an identifier item read from the table: its ``ident`` attribute, or,
    under the previous layout, its partition key."""
    if "ident" in item:
        return str(item["ident"]["S"])
    return str(item["PK"]["S"][len(IDENT_PREFIX) :])
