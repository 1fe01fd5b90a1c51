"""Moving a DynamoDB table's index items from the unkeyed hash of what they index (the previous
release's ``BLOCK#<BLAKE2b>`` and ``NAMED#<BLAKE2b>``) to its keyed hash (core.key_hashing): the
second part of ``profilesync migrate rekey-identifiers``.

Neither item holds the value its key hashes, so the migration finds the values where the stores
themselves do:

* ``BLOCK#``: every stored record's index keys, the ones its erasure reads (its blocking keys, the
  retired rules' too, and its identifier values: core.link_nodes.index_keys; its write-ahead entry
  ``fl:`` and review partners ``rv:``; and the keys the entry lists). The old item of each is moved
  as the store moves one it meets (core.storage.dynamodb_block_upgrade).
* ``NAMED#``: every live customer's history's names (core.governance.history_names.index_histories
  writes their keyed items, and takes back those of names an erasure took meanwhile).

Then every old item left is deleted: a ``NAMED#`` one is now keyed, or is of a customer merged away
(whose history its survivor holds, as the index's own backfill reasons) or an item no history
backs; a ``BLOCK#`` one is reached from no stored record (a key only a record erased or changed
long ago was filed under and left behind): nothing reads it any more, and it still holds the
unkeyed hash of a value. Every step is idempotent, so a run that stops is
resumed by running again; the table is marked only when a Scan finds no old item left.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TextIO

from core.governance.history_names import index_histories
from core.identity import IdentityPolicy
from core.link_blocks import BLOCK_PREFIX
from core.link_filed import filed_key, listed_keys
from core.link_nodes import graph_node, index_keys
from core.link_review_index import partners_key
from core.linkage import default_model
from core.schema import SourceRecord
from core.storage.dynamodb_batch import batch_delete

__all__ = ["is_unkeyed_index_pk", "move_index_items", "unkeyed_index_items"]

#: Records whose keys one round moves (about a dozen keys each: one BatchGetItem of their old items).
_RECORDS_PER_ROUND = 8
#: The hex digits of the previous release's index hash (BLAKE2b, 128 bits); the keyed one has 64.
_UNKEYED_DIGITS = 32
_NAMED_PREFIX = "NAMED#"


def is_unkeyed_index_pk(pk: str) -> bool:
    """Whether a partition key is an index item's of the previous release (its unkeyed hash)."""
    return pk.startswith((BLOCK_PREFIX, _NAMED_PREFIX)) and len(pk) == len(BLOCK_PREFIX) + _UNKEYED_DIGITS


def unkeyed_index_items(store: Any) -> Iterator[dict[str, Any]]:
    """The key of every index item still under its unkeyed hash (a Scan of keys)."""
    request: dict[str, Any] = {
        "TableName": store.table_name,
        "FilterExpression": "begins_with(PK, :b) OR begins_with(PK, :n)",
        "ProjectionExpression": "PK, SK",
        "ExpressionAttributeValues": {":b": {"S": BLOCK_PREFIX}, ":n": {"S": _NAMED_PREFIX}},
    }
    while True:
        page = store._call("scan", **request)
        yield from (i for i in page.get("Items", []) if is_unkeyed_index_pk(i["PK"]["S"]))
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def move_index_items(store: Any, *, progress: int, out: TextIO) -> dict[str, int]:
    """Move the link and history index items of ``store`` (a ``DynamoDBProfileStore``) to their
    keyed hash; the counts: ``blocks`` (old ``BLOCK#`` items moved), ``histories`` (live customers
    whose histories' names were keyed) and ``unkeyed_deleted`` (old items deleted after: the
    ``NAMED#`` items now keyed, and stale ones). A pass finding no old item of its kind is skipped,
    so a run over a moved table costs one Scan."""
    kinds = {i["PK"]["S"][: len(BLOCK_PREFIX)] for i in unkeyed_index_items(store)}
    blocks = _move_blocks(store, progress, out) if BLOCK_PREFIX in kinds else 0
    histories = _key_histories(store, progress, out) if _NAMED_PREFIX in kinds else 0
    left = [{"PK": i["PK"], "SK": i["SK"]} for i in unkeyed_index_items(store)] if kinds else []
    batch_delete(store._client, store.table_name, left, store._call)
    return {"blocks": blocks, "histories": histories, "unkeyed_deleted": len(left)}


def _move_blocks(store: Any, progress: int, out: TextIO) -> int:
    policy = IdentityPolicy(blocked_values=frozenset(), blocked_patterns=())
    model = default_model()
    moved = 0
    batch: list[SourceRecord] = []

    def send() -> int:
        keys = [k for r in batch for k in index_keys(graph_node(r, policy), model, retired=True)]
        entries = [filed_key(r.key) for r in batch]
        done = store._move_old_blocks([*keys, *entries, *(partners_key(r.key) for r in batch)])
        # Where a filing killed before its commit put a version never stored: the keys its entry lists.
        listed = {k for s in store.get_blocks(entries).values() for k in listed_keys(s.members)}
        return int(done) + int(store._move_old_blocks(sorted(listed - set(keys))))

    for records, record in enumerate(_stored_records(store), 1):
        batch.append(record)
        if len(batch) == _RECORDS_PER_ROUND:
            moved += send()
            batch = []
        if records % progress == 0:
            print(
                f"profilesync migrate: {records} records' index keys read ({moved} moved)",
                file=out,
                flush=True,
            )
    if batch:
        moved += send()
    return moved


def _key_histories(store: Any, progress: int, out: TextIO) -> int:
    """Write the keyed items of every live customer's history's names (their old items are deleted
    with the stale ones after)."""
    history = store.history
    customers = 0
    for customers, profile in enumerate(store.iter_profiles(), 1):
        index_histories(history, [profile.customer_id])
        if customers % progress == 0:
            print(f"profilesync migrate: {customers} histories' names keyed", file=out, flush=True)
    return customers


def _stored_records(store: Any) -> Iterator[SourceRecord]:
    """Every stored record (a Scan of the ``SOURCE#`` items)."""
    request: dict[str, Any] = {
        "TableName": store.table_name,
        "FilterExpression": "begins_with(SK, :s)",
        "ProjectionExpression": "#d",
        "ExpressionAttributeNames": {"#d": "data"},
        "ExpressionAttributeValues": {":s": {"S": "SOURCE#"}},
    }
    while True:
        page = store._call("scan", **request)
        for item in page.get("Items", []):
            yield SourceRecord.model_validate_json(item["data"]["S"])
        if "LastEvaluatedKey" not in page:
            return
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
