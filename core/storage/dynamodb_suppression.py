"""The DynamoDB ``SuppressionStore``: one item per suppressed identifier, one per erasure.

| PK                    | SK        | attributes                                              |
| --------------------- | --------- | ------------------------------------------------------- |
| SUPPRESS#<hash>       | SUPPRESS  | kind (email, phone, source, fuzzy), erasure (request    |
|                       |           | id), at; a fuzzy entry's fingerprint (S, JSON of hashes:|
|                       |           | core.suppression_prints) and version (N)                |
| SUPPRESSION#<request> | ENTRIES   | hashes (SS): every entry the erasure left, at           |
| SUPPRESS#epoch        | EPOCH     | epoch (N), bump (S): the erasure epoch (erasure_epoch)  |

``<hash>`` is the keyed hash of the identifier key (core.suppression.keyed_hash), never the value.
Neither item has ``expires_at``: suppression never expires. Checking is one ``BatchGetItem`` per 100
hashes, projected to the key (the answer is only whether the item exists). ``lift`` reads the entry,
then its erasure's item, and deletes the entries that still belong to that erasure (a later erasure
of the same identifier took its entry over, and keeps it) before the erasure's item.

The erasure epoch is bumped (``ADD epoch 1``, a new token) in the very transactions that write an
erasure's entries, after each erasure step's deletes and before an erasure's audit record is written
(core.storage.dynamodb_privacy). Exact entries go in ``TransactWriteItems`` of 24 puts and the bump,
fuzzy ones in their conditional transactions with it: an entry is never readable at an epoch read
before it was written. So a commit that read the epoch, then found none of its hashes suppressed,
and holds the epoch unchanged (core.ports.NoErasureSince) cannot commit after an entry of them
landed; and an answer a push read at an epoch it finds unchanged is still whole (core.push_suppression).
A fuzzy entry written alone (its transaction lost a race) bumps nothing: one bump follows those
writes, as one bump marks a ``suppress`` with nothing to write. *Changed in this version*: the
exact entries went by ``BatchWriteItem`` between a bump before and one after, so an entry landed
at an epoch already read. A transaction holding the epoch item meets the other writers of that
item (a commit's or a push's check, another bump): cancelled, it is backed off and sent again. A
table without the item reads as epoch 0.
Its key is under ``SUPPRESS#`` (``epoch`` is no keyed hash: those are 64 hex digits), which every
function that checks suppression may read already.

A ``fuzzy`` entry holds every erasure's fingerprints under its look-up key (namesakes share one): an
erasure adds its own and a lift removes its own by reading the item and writing it back conditioned
on its ``version`` (an item written before versions: on having none, and its ``erasure``), read and
tried again when another erasure or lift wrote it in between. An item made anew starts its version
at a random 62-bit number, not at 1: one deleted (its last erasure lifted) and made again (another
namesake erased) between a writer's read and its write must not pass for the item it read.

``suppress`` writes an erasure's exact entries in ``TransactWriteItems`` with the bump (above); its
fuzzy entries it reads all at once (``BatchGetItem``, 100 keys a request, unprocessed keys sent
again with backoff) and writes in ``TransactWriteItems`` of 24 and the bump, at most 3.5 MB (an
entry holds up to 384 KB; a transaction 4 MB), each write conditioned as above: a transaction another writer
cancelled is done again key by key, read and tried again. A single write meeting another writer's
transaction in flight on its item (``TransactionConflictException``, which botocore does not retry)
is backed off and tried again like one that lost its condition, in ``lift`` too. (Before: a
``GetItem`` and a ``PutItem`` per fuzzy entry.)

Like core.storage.dynamodb, it takes an injected boto3 client and imports neither boto3 nor botocore.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import Any, cast

from core.errors import ConflictError
from core.storage.dynamodb import LEGACY_TRANSACTION_MAX_ITEMS
from core.storage.dynamodb_batch import batch_get
from core.storage.dynamodb_epoch import DynamoDBErasureEpoch, bump_epoch, epoch_bump_action
from core.storage.dynamodb_transactions import entry_bytes
from core.suppression import SuppressedKind, SuppressionEntry
from core.suppression_prints import merged, without

#: Tries of a fuzzy entry's conditional update before a conflict is an error (another erasure or
#: lift of the same look-up key each time).
_FUZZY_ATTEMPTS = 8

#: Entries written per ``TransactWriteItems``, beside the epoch's bump: AWS takes 100 items since
#: 2022, moto and older DynamoDB Local 25 (core.storage.dynamodb.LEGACY_TRANSACTION_MAX_ITEMS).
_ENTRIES_PER_TRANSACTION = LEGACY_TRANSACTION_MAX_ITEMS - 1
_FUZZY_TRANSACTION_ITEMS = _ENTRIES_PER_TRANSACTION
#: And at most this many bytes of them (as core.storage.dynamodb_transactions weighs an entry, over
#: what DynamoDB counts): a transaction holds 4 MB, and a fuzzy entry up to 384 KB of fingerprints.
_FUZZY_TRANSACTION_BYTES = 3_500_000


def suppress_pk(hash_: str) -> str:
    return f"SUPPRESS#{hash_}"


def erasure_pk(request_id: str) -> str:
    return f"SUPPRESSION#{request_id}"


class DynamoDBSuppressionStore(DynamoDBErasureEpoch):
    """``SuppressionStore`` over the profile table. ``consistent`` makes the checks strongly
    consistent reads (twice the read units): merge uses them, so that a record merged just after an
    erasure cannot slip past, and push (core.push_suppression); pull, which merge backs up, reads
    eventually consistently.
    The erasure epoch it bumps it reads as its base class does (core.storage.dynamodb_epoch)."""

    def __init__(self, client: Any, table_name: str, *, consistent: bool = True) -> None:
        self._client = client
        self.table_name = table_name
        self.consistent = consistent

    def suppressed(self, hashes: Sequence[str]) -> set[str]:
        keys = [{"PK": {"S": suppress_pk(h)}, "SK": {"S": "SUPPRESS"}} for h in dict.fromkeys(hashes)]
        # the shared batch read (100 keys a request, unprocessed keys sent again with its backoff)
        options = {"ConsistentRead": self.consistent, "ProjectionExpression": "PK"}
        return {
            item["PK"]["S"][len("SUPPRESS#") :]
            for item in batch_get(self._call, self.table_name, keys, options)
        }

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        """``method`` of the client (core.storage.dynamodb_batch's ``call``)."""
        result: dict[str, Any] = getattr(self._client, method)(**kwargs)
        return result

    def suppress(self, entries: Sequence[SuppressionEntry]) -> None:
        by_erasure: dict[str, list[SuppressionEntry]] = {}
        for entry in entries:
            by_erasure.setdefault(entry.erasure, []).append(entry)
        for erasure, group in sorted(by_erasure.items()):
            # The erasure's item lists its entries so that ``lift`` finds them all from any one.
            self._client.update_item(
                TableName=self.table_name,
                Key={"PK": {"S": erasure_pk(erasure)}, "SK": {"S": "ENTRIES"}},
                UpdateExpression="ADD hashes :h SET #at = if_not_exists(#at, :at)",
                ExpressionAttributeNames={"#at": "at"},
                ExpressionAttributeValues={
                    ":h": {"SS": sorted({e.hash for e in group})},
                    ":at": {"S": group[0].at.isoformat()},
                },
            )
        # Each transaction of entries bumps the epoch with them: no entry is ever readable at an
        # epoch read before it (a commit's NoErasureSince, a push reusing a look: module docstring).
        # (one action per item in a transaction: the last entry of a hash wins, as in a batch write)
        last = {e.hash: e for e in entries if e.kind != "fuzzy"}
        exact = [{"Put": {"TableName": self.table_name, "Item": _item(e)}} for e in last.values()]
        for start in range(0, len(exact), _ENTRIES_PER_TRANSACTION):
            self._transact_bumping(exact[start : start + _ENTRIES_PER_TRANSACTION])
        fuzzy: dict[str, list[SuppressionEntry]] = {}
        for e in entries:
            if e.kind == "fuzzy":
                fuzzy.setdefault(e.hash, []).append(e)
        if self._suppress_fuzzy(fuzzy) or not exact:
            # fuzzy entries written one by one (a transaction of them lost a race), or nothing to
            # write: the epoch still moves once with every ``suppress``
            bump_epoch(self._client, self.table_name)

    def _transact_bumping(self, actions: list[dict[str, Any]]) -> None:
        """``actions`` (unconditional puts) and a bump of the epoch in one ``TransactWriteItems``. A
        transaction in flight on the epoch item (a commit's or a push's check, another bump) cancels
        it (``TransactionConflict``): backed off and sent again, as ``bump_epoch`` does."""
        exceptions = self._client.exceptions
        for attempt in range(_FUZZY_ATTEMPTS):
            try:
                self._client.transact_write_items(
                    TransactItems=[*actions, epoch_bump_action(self.table_name)]
                )
                return
            except exceptions.TransactionCanceledException:
                if attempt + 1 == _FUZZY_ATTEMPTS:
                    raise
                _back_off(attempt)

    def _suppress_fuzzy(self, fuzzy: dict[str, list[SuppressionEntry]]) -> bool:
        """Add fuzzy entries to what their keys hold: every key read with ``BatchGetItem`` (100 a
        request), and written back conditioned on the version read, in ``TransactWriteItems`` of at
        most 24 and the epoch's bump (no ``BatchWriteItem``: it takes no condition, and a namesake's
        erasure or a lift in between must not be overwritten). A transaction another writer
        cancelled is done again key by key (``_update_fuzzy``: read, change, write, tried again);
        whether one was (its writes bumped nothing: the caller bumps after them)."""
        held = self._read_items(sorted(fuzzy))
        writes: list[tuple[str, dict[str, Any]]] = []
        for hash_, new in sorted(fuzzy.items()):
            item = held.get(hash_)
            entry = None if item is None else _entry(item)
            left = entry
            for e in new:
                left = merged(left, e)
            if left is None or left == entry:
                continue  # already held: nothing to write
            writes.append((hash_, {"Put": self._fuzzy_put(item, left)}))
        exceptions = self._client.exceptions
        one_by_one = False
        for chunk in fuzzy_chunks(writes):
            try:
                self._client.transact_write_items(
                    TransactItems=[*(w for _, w in chunk), epoch_bump_action(self.table_name)]
                )
            except exceptions.TransactionCanceledException:
                one_by_one = True
                for hash_, _ in chunk:
                    for e in fuzzy[hash_]:
                        self._update_fuzzy(hash_, partial(_merged, new=e))
        return one_by_one

    def _fuzzy_put(self, item: dict[str, Any] | None, left: SuppressionEntry) -> dict[str, Any]:
        """The conditional put of ``left`` over the ``item`` read (None: none was there)."""
        version = int(item["version"]["N"]) if item is not None and "version" in item else None
        after = secrets.randbits(62) if version is None else version + 1  # a new item's: random
        put: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": _item(left) | {"version": {"N": str(after)}},
        }
        return put | _version_condition(item, version)

    def _read_items(self, hashes: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The entries of ``hashes`` that are stored, whole, by hash: ``BatchGetItem`` (strongly
        consistent), 100 keys a request, the unprocessed ones sent again with backoff."""
        keys = [{"PK": {"S": suppress_pk(h)}, "SK": {"S": "SUPPRESS"}} for h in hashes]
        return {
            item["PK"]["S"][len("SUPPRESS#") :]: item for item in batch_get(self._call, self.table_name, keys)
        }

    def _update_fuzzy(
        self,
        hash_: str,
        change: Callable[[SuppressionEntry | None], tuple[SuppressionEntry | None, SuppressionEntry | None]],
    ) -> SuppressionEntry | None:
        """Read a fuzzy entry, apply ``change`` (the entry left, or None to delete it; and what it
        returns), and write it back conditioned on the ``version`` read: another erasure or lift
        writing the entry in between makes the write fail, and it is read and changed again."""
        key = {"PK": {"S": suppress_pk(hash_)}, "SK": {"S": "SUPPRESS"}}
        exceptions = self._client.exceptions
        for attempt in range(_FUZZY_ATTEMPTS):
            item = self._client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")
            held = None if item is None else _entry(item)
            version = int(item["version"]["N"]) if item is not None and "version" in item else None
            left, result = change(held)
            condition = _version_condition(item, version)
            try:
                if left is None:
                    if item is not None:
                        self._client.delete_item(TableName=self.table_name, Key=key, **condition)
                elif held is None or left != held:
                    # A new item's version is random (see the module docstring).
                    after = secrets.randbits(62) if version is None else version + 1
                    written = _item(left) | {"version": {"N": str(after)}}
                    self._client.put_item(TableName=self.table_name, Item=written, **condition)
            except _lost_races(exceptions):  # written meanwhile, or a transaction on it in flight
                _back_off(attempt)
                continue
            return result
        raise ConflictError(f"suppression entry {hash_[:12]}: written concurrently {_FUZZY_ATTEMPTS} times")

    def entry(self, hash_: str) -> SuppressionEntry | None:
        item = self._client.get_item(
            TableName=self.table_name,
            Key={"PK": {"S": suppress_pk(hash_)}, "SK": {"S": "SUPPRESS"}},
            ConsistentRead=True,
        ).get("Item")
        return None if item is None else _entry(item)

    def lift(self, hash_: str) -> list[SuppressionEntry]:
        first = self.entry(hash_)
        if first is None:
            return []
        erasure = first.erasure
        group = self._client.get_item(
            TableName=self.table_name,
            Key={"PK": {"S": erasure_pk(erasure)}, "SK": {"S": "ENTRIES"}},
            ConsistentRead=True,
        ).get("Item")
        hashes = set(group["hashes"]["SS"]) if group and "hashes" in group else {hash_}
        lifted: list[SuppressionEntry] = []
        exceptions = self._client.exceptions
        for h in sorted(hashes | {hash_}):
            try:
                old = self._lift_exact(h, erasure)
            except exceptions.ConditionalCheckFailedException:
                held = self.entry(h)
                if held is not None and held.kind == "fuzzy":
                    # Every erasure's fingerprints under one key: this erasure's own are lifted.
                    mine = self._update_fuzzy(h, lambda held: _without(held, erasure))
                    lifted.extend([mine] if mine is not None else [])
                continue
            if "Attributes" in old:
                lifted.append(_entry(old["Attributes"]))
        self._client.delete_item(
            TableName=self.table_name, Key={"PK": {"S": erasure_pk(erasure)}, "SK": {"S": "ENTRIES"}}
        )
        return lifted

    def _lift_exact(self, hash_: str, erasure: str) -> dict[str, Any]:
        """Delete the entry of ``hash_`` while it is still ``erasure``'s and not fuzzy (a later
        erasure keeps its own entry: ConditionalCheckFailed); a transaction in flight on it (an
        erasure's fuzzy writes: TransactionConflict, which botocore does not retry) is waited out."""
        exceptions = self._client.exceptions
        for attempt in range(_FUZZY_ATTEMPTS):
            try:
                return cast(
                    dict[str, Any],
                    self._client.delete_item(
                        TableName=self.table_name,
                        Key={"PK": {"S": suppress_pk(hash_)}, "SK": {"S": "SUPPRESS"}},
                        ConditionExpression="erasure = :e AND kind <> :f",
                        ExpressionAttributeValues={":e": {"S": erasure}, ":f": {"S": "fuzzy"}},
                        ReturnValues="ALL_OLD",
                    ),
                )
            except exceptions.TransactionConflictException:
                _back_off(attempt)
        raise ConflictError(f"suppression entry {hash_[:12]}: in a transaction {_FUZZY_ATTEMPTS} times")


def fuzzy_chunks(writes: Sequence[tuple[str, dict[str, Any]]]) -> list[list[tuple[str, dict[str, Any]]]]:
    """``writes`` cut into transactions of at most ``_FUZZY_TRANSACTION_ITEMS`` entries and
    ``_FUZZY_TRANSACTION_BYTES`` bytes, in order (one entry alone is under 400 KB: an item's limit)."""
    chunks: list[list[tuple[str, dict[str, Any]]]] = []
    size = 0
    for write in writes:
        weight = entry_bytes(write[1])
        full = len(chunks[-1]) >= _FUZZY_TRANSACTION_ITEMS if chunks else True
        if full or size + weight > _FUZZY_TRANSACTION_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(write)
        size += weight
    return chunks


def _lost_races(exceptions: Any) -> tuple[type[Exception], ...]:
    """A conditional write's lost races: the condition failed (written meanwhile), or another
    writer's transaction on the item is in flight (``TransactionConflictException``)."""
    return (exceptions.ConditionalCheckFailedException, exceptions.TransactionConflictException)


def _back_off(attempt: int) -> None:
    time.sleep(min(0.5, 0.01 * 2**attempt) * random.random())


def _version_condition(item: dict[str, Any] | None, version: int | None) -> dict[str, Any]:
    """The condition of a write over the fuzzy ``item`` read at ``version``: it is still so."""
    if item is None:
        return {"ConditionExpression": "attribute_not_exists(PK)"}
    if version is None:  # written by the previous version: no version yet
        return {
            "ConditionExpression": "attribute_not_exists(version) AND erasure = :e",
            "ExpressionAttributeValues": {":e": item["erasure"]},
        }
    return {"ConditionExpression": "version = :v", "ExpressionAttributeValues": {":v": {"N": str(version)}}}


def _merged(
    held: SuppressionEntry | None, new: SuppressionEntry
) -> tuple[SuppressionEntry | None, SuppressionEntry | None]:
    return merged(held, new), None


def _without(
    held: SuppressionEntry | None, erasure: str
) -> tuple[SuppressionEntry | None, SuppressionEntry | None]:
    return (None, None) if held is None else without(held, erasure)


def _item(e: SuppressionEntry) -> dict[str, Any]:
    return {
        "PK": {"S": suppress_pk(e.hash)},
        "SK": {"S": "SUPPRESS"},
        "kind": {"S": e.kind},
        "erasure": {"S": e.erasure},
        "at": {"S": e.at.isoformat()},
    } | ({"fingerprint": {"S": e.fingerprint}} if e.fingerprint else {})


def _entry(item: dict[str, Any]) -> SuppressionEntry:
    return SuppressionEntry(
        hash=item["PK"]["S"][len("SUPPRESS#") :],
        kind=cast(SuppressedKind, item["kind"]["S"]),
        erasure=item["erasure"]["S"],
        at=datetime.fromisoformat(item["at"]["S"]),
        fingerprint=item.get("fingerprint", {}).get("S", ""),
    )


__all__ = ["DynamoDBSuppressionStore", "erasure_pk", "suppress_pk"]
