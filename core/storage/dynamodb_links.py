"""The DynamoDB store's ``LinkIndex`` (core.link_index): index keys in the table; review items are
its base's, ``DynamoDBReviews`` (core.storage.dynamodb_reviews).

| PK                   | SK      | attributes                                                       |
| -------------------- | ------- | ---------------------------------------------------------------- |
| BLOCK#<keyed hash>   | BLOCK   | records (SS of source keys), overloaded (BOOL), children (SS),   |
|                      |         | ``o#<source key>`` (S) per member: its place in the block's order |
| REVIEW#<pair hash>   | REVIEW  | status, created_at, data (the item as JSON)                      |
| REVIEW#_pending      | PENDING | pairs (SS of the pair hashes still pending)                      |

``<keyed hash>``: core.link_blocks.block_item_key with the table's audit salt (the stream carries the
keys an erasure changes); a table the previous release wrote holds items under the unkeyed hash,
moved as they are met until the table is marked (core.storage.dynamodb_block_upgrade).

Index updates go as ``TransactWriteItems`` of up to 100 ``Update`` actions (one request for the keys
of about a dozen records): ``ADD records`` under the condition that the key is not overloaded and
has room, ``DELETE records`` for removals (in a pass of their own: one expression cannot ADD to and
DELETE from one set). A member's place in its block's order (core.linkage.blocking.order_string) is
an attribute of its own, ``o#<source key>``, set with its ADD and removed with its DELETE, so that a
record finds its neighbours in a crowded block from the one item; an update names at most 100
places (an expression holds 4 KB): a change naming more goes in pieces, a round each. An ADD whose
condition fails is read back: a full key becomes ``overloaded`` and drops its members and the first
99 places read in one write, then every place the item still holds (one filed between the read and
the write too). A writer killed in between leaves places on an overloaded item: an ADD meeting an
overloaded key removes any it holds (the killed write, sent again, finishes), and a removal finding
no members removes its members' places from an overloaded item (an erasure leaves none behind). A
transaction conflict (another writer on one of the keys) sends the lost updates again after
a pause; every update is idempotent. The update actions of one key and its members' places are
core.storage.dynamodb_block_places (split from this module by concern: left31).
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from functools import cache
from typing import Any

from core.errors import RetryableError
from core.link_filed import FILED_PREFIX
from core.link_index import NO_ORDERS, BlockChange, BlockState, block_item_key
from core.storage.dynamodb_block_places import _ORDER, DynamoDBBlockPlaces, _rounds
from core.storage.dynamodb_block_upgrade import DynamoDBBlockUpgrade
from core.storage.dynamodb_reviews import DynamoDBReviews
from core.storage.ident_rekey import IdentLayout

__all__ = ["DynamoDBLinkIndex"]

_TRANSACTION = 100
_LEGACY_TRANSACTION = 25
_MAX_ATTEMPTS = 8
_BACKOFF_BUDGET = 10.0
"""Seconds one call may sleep in back-offs, summed over its transactions: then it gives up
(RetryableError: the batch is sent again; index writes are idempotent). A transaction's own
attempts sleep at most 4.24 s; the merge function runs 120 s at most and makes a few such calls a
batch (removals, additions, child objects), so a call under sustained contention returns its batch
to the queue rather than sleeping toward the timeout (which loses the whole invocation)."""
_MEMBERS_ONLY = {
    "ProjectionExpression": "PK, #records, #overloaded",
    "ExpressionAttributeNames": {"#records": "records", "#overloaded": "overloaded"},
}


class DynamoDBLinkIndex(DynamoDBReviews, DynamoDBBlockUpgrade, DynamoDBBlockPlaces):
    """Mixed into ``DynamoDBProfileStore`` (which sets ``_client``, ``table_name`` and
    ``ident_layout``, whose salt keys the items)."""

    _client: Any
    table_name: str
    max_items_per_commit: int
    ident_layout: IdentLayout

    # -- reads ---------------------------------------------------------------------------------

    def get_blocks(self, keys: Sequence[str], *, members_only: bool = False) -> dict[str, BlockState]:
        salt = self.ident_layout.salt
        by_item = {block_item_key(k, salt): k for k in dict.fromkeys(keys)}
        out: dict[str, BlockState] = {}
        # Members only: the item's key, members and flag, not its children and every member's place
        # (less to send and parse; DynamoDB counts the read's capacity by the whole item all the same).
        projection = _MEMBERS_ONLY if members_only else None
        if self.ident_layout.known_index_keyed or self.ident_layout.index_keyed():
            keys_read = [{"PK": {"S": pk}, "SK": {"S": "BLOCK"}} for pk in by_item]
            items = self._batch_get(keys_read, projection)
        else:
            items = self._blocks_upgrading(by_item)  # both keys, whole (core.storage.dynamodb_block_upgrade)
        for item in items:
            key = by_item[item["PK"]["S"]]
            members = frozenset(item["records"]["SS"]) if "records" in item else frozenset()
            if members_only:
                out[key] = BlockState(key, members, bool(item.get("overloaded", {}).get("BOOL", False)))
                continue
            orders = {name[2:]: value["S"] for name, value in item.items() if name.startswith(_ORDER)}
            out[key] = BlockState(
                key,
                members,
                bool(item.get("overloaded", {}).get("BOOL", False)),
                frozenset(item["children"]["SS"]) if "children" in item else frozenset(),
                {k: v for k, v in orders.items() if k in members} if orders else NO_ORDERS,
            )
        # In the order first asked, as the port says (the rows and BatchGetItem come in any order).
        return {k: out[k] for k in by_item.values() if k in out}

    # -- index writes --------------------------------------------------------------------------

    def update_blocks(self, changes: Sequence[BlockChange]) -> None:
        # One call goes in pieces here (the other stores apply it whole). A process killed between
        # them must leave no membership that the record's write-ahead entry (core.link_filed, an
        # ``fl:`` key) does not list: the entries listed before the first other key (a filing's
        # write-ahead) go first, and those listed after the last (a settling's retagging, which
        # drops what it settled) go last. An entry listing more than is filed is harmless: settling
        # and erasure read the index at every key it lists.
        if changes and not (self.ident_layout.known_index_keyed or self.ident_layout.index_keyed()):
            # A table the previous release wrote: its items under the unkeyed hash move first.
            self._move_old_blocks(c.key for c in changes)
        first = next((n for n, c in enumerate(changes) if not c.key.startswith(FILED_PREFIX)), len(changes))
        last = len(changes)
        while last > first and changes[last - 1].key.startswith(FILED_PREFIX):
            last -= 1
        for piece in (changes[:first], changes[first:last], changes[last:]):
            if piece:
                self._update_in_rounds(piece)

    def _update_in_rounds(self, changes: Sequence[BlockChange]) -> None:
        # A change naming more places than one expression holds goes in pieces, a round each (one
        # transaction takes one action per item). The removals from retired rules' keys go in a pass
        # of their own: on a table filed since the rules retired they hold nothing, and a removal
        # whose condition fails cancels every other write of its transaction (sent again without it).
        retired = _retired_prefixes()
        removals = [c for c in changes if c.remove]
        for side in (
            [c for c in removals if not c.key.startswith(retired)],
            [c for c in removals if c.key.startswith(retired)],
        ):
            for removes in _rounds(side, "remove"):
                self._send(
                    [(c, self._remove_action(c, "records", c.remove)) for c in removes], self._no_records
                )
        for adds in _rounds([c for c in changes if c.add], "add"):
            self._send([(c, self._add_action(c)) for c in adds], on_condition=self._full_or_overloaded)
        # Child objects in a set of their own: past its limit, further ones are simply not filed.
        gone = [c for c in changes if c.remove_children]
        self._send([(c, self._remove_action(c, "children", c.remove_children)) for c in gone], lambda c: None)
        more = [c for c in changes if c.add_children]
        self._send([(c, self._add_children_action(c)) for c in more], on_condition=lambda c: None)
        self._delete_emptied([c for c in changes if (c.remove or c.remove_children) and not c.add])

    def drop_blocks_as_read(self, states: Sequence[BlockState]) -> list[str]:
        # A request each (an erasure or a filing drops one entry a record, rarely), conditioned on
        # the item holding what was read: a key dropped and written afresh meanwhile stays.
        dropped: list[str] = []
        if states and not (self.ident_layout.known_index_keyed or self.ident_layout.index_keyed()):
            self._move_old_blocks(s.key for s in states)  # read from both keys: one item now
        for read in {s.key: s for s in states}.values():
            conditions = [
                f"attribute_{'' if read.overloaded else 'not_'}exists(overloaded)",
                "records = :r" if read.members else "attribute_not_exists(records)",
                "children = :c" if read.children else "attribute_not_exists(children)",
            ]
            values = {":r": {"SS": sorted(read.members)}} if read.members else {}
            if read.children:
                values[":c"] = {"SS": sorted(read.children)}
            try:
                self._client.delete_item(
                    TableName=self.table_name,
                    Key=self._key(BlockChange(read.key)),
                    ConditionExpression="attribute_exists(PK) AND " + " AND ".join(conditions),
                    **({"ExpressionAttributeValues": values} if values else {}),
                )
            except self._client.exceptions.ConditionalCheckFailedException:
                continue  # gone, or changed since it was read: it stays
            dropped.append(read.key)
        return dropped

    def _delete_emptied(self, changes: Sequence[BlockChange]) -> None:
        """Delete the items the removals left empty. DynamoDB drops a set whose last member is
        deleted but keeps the item, whose key is the keyed hash of a blocking key (a birth date and
        an initial, an email user name): after an erasure it would still say such a person was filed.
        The SQLite and in-memory stores delete an emptied key the same way. The condition keeps an
        item a concurrent writer has filed a record under again, and an overloaded one."""
        exceptions = self._client.exceptions
        for change in changes:
            try:
                self._client.delete_item(
                    TableName=self.table_name,
                    Key=self._key(change),
                    ConditionExpression="attribute_not_exists(records) AND attribute_not_exists(children) "
                    "AND attribute_not_exists(overloaded)",
                )
            except exceptions.ConditionalCheckFailedException:
                continue  # others are still filed under it (or it is overloaded): it stays

    def _send(self, actions: list[tuple[BlockChange, dict[str, Any]]], on_condition: Any) -> None:
        """Send ``actions`` in transactions of up to 100. The conflicts are counted per transaction:
        one that goes through starts the next afresh, so a long call that met a few conflicts early
        neither gives up at a later transaction's first conflict nor sleeps the longest back-off."""
        exceptions = self._client.exceptions
        attempt, slept = 0, 0.0
        while actions:
            size = min(_TRANSACTION, getattr(self, "max_items_per_commit", _TRANSACTION))
            batch, actions = actions[:size], actions[size:]
            try:
                self._client.transact_write_items(TransactItems=[action for _, action in batch])
                attempt = 0
                continue
            except exceptions.TransactionCanceledException as error:
                reasons = error.response.get("CancellationReasons") or []
            except exceptions.ClientError as error:
                message = str(error.response.get("Error", {}).get("Message", ""))
                if size > _LEGACY_TRANSACTION and f"less than or equal to {_LEGACY_TRANSACTION}" in message:
                    # An emulator with the old 25-item limit: the profile store learns it the same way.
                    self.max_items_per_commit = _LEGACY_TRANSACTION
                    actions = batch + actions
                    continue
                raise
            retry: list[tuple[BlockChange, dict[str, Any]]] = []
            contended = not reasons
            for index, (change, action) in enumerate(batch):
                code = reasons[index].get("Code", "None") if index < len(reasons) else "TransactionConflict"
                if code == "ConditionalCheckFailed":
                    on_condition(change)
                    continue
                retry.append((change, action))  # "None": cancelled because another action failed
                contended = contended or code != "None"
            if len(retry) < len(batch) and not contended:
                # Only conditions failed (a key holding none of the members removed): no write
                # conflicted, so the others go again at once, with no back-off.
                actions = retry + actions
                continue
            attempt += 1
            pause = min(1.0, 0.02 * 2**attempt) * random.random()
            if (attempt > _MAX_ATTEMPTS or slept + pause > _BACKOFF_BUDGET) and retry:
                raise RetryableError(
                    f"the identity index kept conflicting on {len(retry)} keys ({slept:.1f} s of back-off "
                    "in this call); ingest the batch again (index updates are idempotent)"
                )
            time.sleep(pause)
            slept += pause
            actions = retry + actions


@cache
def _retired_prefixes() -> tuple[str, ...]:
    """``bp:``...: the keys of rules an earlier release filed records under (core.linkage.blocking,
    imported here when the index is first written: the store's import stays light)."""
    from core.linkage.blocking import RETIRED_RULES

    return tuple(f"{rule.prefix}:" for rule in RETIRED_RULES)
