"""The DynamoDB store's ``LinkIndex`` (core.link_index): index keys and review items in the table.

| PK                   | SK      | attributes                                                       |
| -------------------- | ------- | ---------------------------------------------------------------- |
| BLOCK#<hash>         | BLOCK   | records (SS of source keys), overloaded (BOOL), children (SS),   |
|                      |         | ``o#<source key>`` (S) per member: its place in the block's order |
| REVIEW#<pair hash>   | REVIEW  | status, created_at, data (the item as JSON)                      |
| REVIEW#_pending      | PENDING | pairs (SS of the pair hashes still pending)                      |

Index updates go as ``TransactWriteItems`` of up to 100 ``Update`` actions (one request for the keys
of about a dozen records): ``ADD records`` under the condition that the key is not overloaded and
has room, ``DELETE records`` for removals (in a pass of their own: one expression cannot ADD to and
DELETE from one set). A member's place in its block's order (core.linkage.blocking.order_string) is
an attribute of its own, ``o#<source key>``, set with its ADD and removed with its DELETE, so that a
record finds its neighbours in a crowded block from the one item; an update names at most 100
places (an expression holds 4 KB): a change naming more goes in pieces, a round each. An ADD whose
condition fails is read back: an overloaded key is left alone, a full one becomes ``overloaded`` and
drops its members, then every place the item still holds (one filed between the read and the write
too). A transaction conflict (another writer on one of the keys) sends the lost updates again after
a pause; every update is idempotent.

Pending reviews are listed through one item that holds their ids, so listing never scans the table.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from typing import Any

from core.errors import RetryableError
from core.link_index import NO_ORDERS, BlockChange, BlockState, ReviewItem, block_item_key, review_pair_id

__all__ = ["DynamoDBLinkIndex"]

_BATCH_GET = 100
_TRANSACTION = 100
_LEGACY_TRANSACTION = 25
_PENDING_PK = "REVIEW#_pending"
_MAX_ATTEMPTS = 8
_ORDER = "o#"
"""Prefix of the attribute holding one member's place in the block's order."""
_PLACES_PER_UPDATE = 100
"""The most places one update sets or removes: ``#o99 = :o99, `` is 14 bytes, and DynamoDB takes an
expression of at most 4 KB (moto fails one of about 250)."""


class DynamoDBLinkIndex:
    """Mixed into ``DynamoDBProfileStore`` (which sets ``_client`` and ``table_name``)."""

    _client: Any
    table_name: str
    max_items_per_commit: int

    # -- reads ---------------------------------------------------------------------------------

    def _batch_get(self, keys: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), _BATCH_GET):
            request: dict[str, Any] = {
                self.table_name: {"Keys": list(keys[start : start + _BATCH_GET]), "ConsistentRead": True}
            }
            attempt = 0
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                items.extend(response.get("Responses", {}).get(self.table_name, []))
                request = response.get("UnprocessedKeys") or {}
                if request:
                    attempt += 1
                    time.sleep(min(1.0, 0.02 * 2**attempt) * random.random())
        return items

    def get_blocks(self, keys: Sequence[str]) -> dict[str, BlockState]:
        by_item = {block_item_key(k): k for k in dict.fromkeys(keys)}
        out: dict[str, BlockState] = {}
        for item in self._batch_get([{"PK": {"S": pk}, "SK": {"S": "BLOCK"}} for pk in by_item]):
            key = by_item[item["PK"]["S"]]
            members = frozenset(item["records"]["SS"]) if "records" in item else frozenset()
            orders = {name[2:]: value["S"] for name, value in item.items() if name.startswith(_ORDER)}
            out[key] = BlockState(
                key,
                members,
                bool(item.get("overloaded", {}).get("BOOL", False)),
                frozenset(item["children"]["SS"]) if "children" in item else frozenset(),
                {k: v for k, v in orders.items() if k in members} if orders else NO_ORDERS,
            )
        return out

    # -- index writes --------------------------------------------------------------------------

    def update_blocks(self, changes: Sequence[BlockChange]) -> None:
        # A change naming more places than one expression holds goes in pieces, a round each (one
        # transaction takes one action per item).
        for removes in _rounds([c for c in changes if c.remove], "remove"):
            self._send([(c, self._remove_action(c, "records", c.remove)) for c in removes], lambda c: None)
        for adds in _rounds([c for c in changes if c.add], "add"):
            self._send([(c, self._add_action(c)) for c in adds], on_condition=self._full_or_overloaded)
        # Child objects in a set of their own: past its limit, further ones are simply not filed.
        gone = [c for c in changes if c.remove_children]
        self._send([(c, self._remove_action(c, "children", c.remove_children)) for c in gone], lambda c: None)
        more = [c for c in changes if c.add_children]
        self._send([(c, self._add_children_action(c)) for c in more], on_condition=lambda c: None)
        self._delete_emptied([c for c in changes if (c.remove or c.remove_children) and not c.add])

    def _delete_emptied(self, changes: Sequence[BlockChange]) -> None:
        """Delete the items the removals left empty. DynamoDB drops a set whose last member is
        deleted but keeps the item, whose key is the unsalted hash of a blocking key (a birth date and
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

    def _key(self, change: BlockChange) -> dict[str, Any]:
        return {"PK": {"S": block_item_key(change.key)}, "SK": {"S": "BLOCK"}}

    def _remove_action(self, change: BlockChange, attribute: str, members: frozenset[str]) -> dict[str, Any]:
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self._key(change),
            "UpdateExpression": f"DELETE {attribute} :r",
            "ConditionExpression": f"attribute_exists({attribute})",
            "ExpressionAttributeValues": {":r": {"SS": sorted(members)}},
        }
        if attribute == "records" and not change.key.startswith(("id:", "rv:")):
            # Each member's place goes with it (an erasure leaves no folded name behind).
            names = {f"#o{i}": _ORDER + member for i, member in enumerate(sorted(members))}
            update["UpdateExpression"] += " REMOVE " + ", ".join(names)
            update["ExpressionAttributeNames"] = names
        return {"Update": update}

    def _add_children_action(self, change: BlockChange) -> dict[str, Any]:
        room = change.children_limit - len(change.add_children)
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": self._key(change),
                "UpdateExpression": "ADD children :c",
                "ConditionExpression": "attribute_not_exists(children) OR size(children) <= :room",
                "ExpressionAttributeValues": {
                    ":c": {"SS": sorted(change.add_children)},
                    ":room": {"N": str(room)},
                },
            }
        }

    def _add_action(self, change: BlockChange) -> dict[str, Any]:
        room = change.limit - len(change.add)
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self._key(change),
            "UpdateExpression": "ADD records :a",
            "ConditionExpression": "attribute_not_exists(overloaded) AND "
            "(attribute_not_exists(records) OR size(records) <= :room)",
            "ExpressionAttributeValues": {":a": {"SS": sorted(change.add)}, ":room": {"N": str(room)}},
        }
        _set_orders(update, change)
        return {"Update": update}

    def _full_or_overloaded(self, change: BlockChange) -> None:
        """An ADD whose condition failed: the key is overloaded (leave it), or too full to take all
        the new members without passing its limit (some may be there already: read and decide)."""
        key = self._key(change)
        response = self._client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True)
        item = response.get("Item") or {}
        if item.get("overloaded", {}).get("BOOL"):
            return
        members = set(item.get("records", {}).get("SS", ())) | change.add
        if len(members) > change.limit:
            # The members go, and every place the write leaves (those read, and any a smaller ADD
            # filed between the read and this write: no ADD passes ``overloaded`` after it).
            after = self._client.update_item(
                TableName=self.table_name,
                Key=key,
                UpdateExpression="SET overloaded = :t REMOVE records",
                ExpressionAttributeValues={":t": {"BOOL": True}},
                ReturnValues="ALL_NEW",
            )
            places = sorted(n for n in after.get("Attributes", {}) if n.startswith(_ORDER))
            for start in range(0, len(places), _PLACES_PER_UPDATE):
                names = {f"#o{i}": name for i, name in enumerate(places[start : start + _PLACES_PER_UPDATE])}
                self._client.update_item(
                    TableName=self.table_name,
                    Key=key,
                    UpdateExpression="REMOVE " + ", ".join(names),
                    ExpressionAttributeNames=names,
                )
        else:
            update = {
                "UpdateExpression": "ADD records :a",
                "ConditionExpression": "attribute_not_exists(overloaded)",
                "ExpressionAttributeValues": {":a": {"SS": sorted(change.add)}},
            }
            _set_orders(update, change)
            self._client.update_item(TableName=self.table_name, Key=self._key(change), **update)

    def _send(self, actions: list[tuple[BlockChange, dict[str, Any]]], on_condition: Any) -> None:
        exceptions = self._client.exceptions
        attempt = 0
        while actions:
            size = min(_TRANSACTION, getattr(self, "max_items_per_commit", _TRANSACTION))
            batch, actions = actions[:size], actions[size:]
            try:
                self._client.transact_write_items(TransactItems=[action for _, action in batch])
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
            for index, (change, action) in enumerate(batch):
                code = reasons[index].get("Code", "None") if index < len(reasons) else "TransactionConflict"
                if code == "ConditionalCheckFailed":
                    on_condition(change)
                elif code != "None" or not reasons:
                    retry.append((change, action))
                else:
                    retry.append((change, action))  # cancelled because another action failed
            attempt += 1
            if attempt > _MAX_ATTEMPTS and retry:
                raise RetryableError(
                    f"the identity index kept conflicting on {len(retry)} keys; ingest the batch again "
                    "(index updates are idempotent)"
                )
            time.sleep(min(1.0, 0.02 * 2**attempt) * random.random())
            actions = retry + actions

    # -- reviews -------------------------------------------------------------------------------

    def _review_key(self, a: str, b: str) -> dict[str, Any]:
        return {"PK": {"S": "REVIEW#" + review_pair_id(a, b)}, "SK": {"S": "REVIEW"}}

    def get_reviews(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ReviewItem]:
        by_pk = {"REVIEW#" + review_pair_id(a, b): (a, b) for a, b in pairs}
        out: dict[tuple[str, str], ReviewItem] = {}
        for item in self._batch_get([{"PK": {"S": pk}, "SK": {"S": "REVIEW"}} for pk in by_pk]):
            out[by_pk[item["PK"]["S"]]] = ReviewItem.from_dict(json.loads(item["data"]["S"]))
        return out

    def _review_item(self, item: ReviewItem) -> dict[str, Any]:
        return {
            **self._review_key(item.a, item.b),
            "status": {"S": item.status},
            "created_at": {"S": item.created_at.isoformat()},
            "data": {"S": json.dumps(item.as_dict(), ensure_ascii=False, sort_keys=True)},
        }

    def put_reviews(self, items: Sequence[ReviewItem]) -> None:
        # Listed before the items are written: a filing killed in between leaves an id without an
        # item (not listed: pending_reviews reads the items), never a pending item nobody lists (a
        # later filing of the pair finds its item and writes nothing).
        listed = sorted({item.pair_id for item in items if item.status == "pending"})
        self._pending("ADD", listed)
        decided: list[str] = []
        exceptions = self._client.exceptions
        for item in items:
            try:
                self._client.put_item(
                    TableName=self.table_name,
                    Item=self._review_item(item),
                    ConditionExpression="attribute_not_exists(PK)",
                )
            except exceptions.ConditionalCheckFailedException:
                # It exists: a pending item, or a person's decision, which stays and is not listed
                # (a race: a plan files only pairs without an item, so this read is rare).
                found = self.review_by_id(item.pair_id)
                if found is not None and found.status != "pending":
                    decided.append(item.pair_id)
        self._pending("DELETE", decided)

    def decide_review(self, item: ReviewItem) -> bool:
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=self._review_item(item),
                ConditionExpression="attribute_exists(PK)",  # an erasure dropped it: write nothing
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        self._pending("DELETE" if item.status != "pending" else "ADD", [item.pair_id])
        return True

    def requeue_review(self, decided: ReviewItem, pending: ReviewItem) -> bool:
        # The decision as read is the item's whole ``data`` (JSON written from ``as_dict``, keys
        # sorted): a decision taken again meanwhile has another time, and stays.
        read = json.dumps(decided.as_dict(), ensure_ascii=False, sort_keys=True)
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=self._review_item(pending),
                ConditionExpression="#d = :read",
                ExpressionAttributeNames={"#d": "data"},
                ExpressionAttributeValues={":read": {"S": read}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        # A refused decision puts the item back as read, which may be a decision (core.link_review).
        self._pending("ADD" if pending.status == "pending" else "DELETE", [pending.pair_id])
        return True

    def drop_reviews(self, pairs: Sequence[tuple[str, str]]) -> None:
        for a, b in pairs:
            self._client.delete_item(TableName=self.table_name, Key=self._review_key(a, b))
        self._pending("DELETE", [review_pair_id(a, b) for a, b in pairs])

    def _pending(self, verb: str, ids: list[str]) -> None:
        if not ids:
            return
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key={"PK": {"S": _PENDING_PK}, "SK": {"S": "PENDING"}},
                UpdateExpression=f"{verb} pairs :p",
                ExpressionAttributeValues={":p": {"SS": sorted(set(ids))}},
            )
        except self._client.exceptions.ClientError as error:
            # The list item holds about 12,000 ids (400 KB); beyond, new reviews are stored but not
            # listed until the queue is worked down. Nothing else fails for it.
            if error.response.get("Error", {}).get("Code") != "ValidationException":
                raise

    def pending_reviews(self, limit: int = 1000) -> list[ReviewItem]:
        response = self._client.get_item(
            TableName=self.table_name,
            Key={"PK": {"S": _PENDING_PK}, "SK": {"S": "PENDING"}},
            ConsistentRead=True,
        )
        ids = sorted(response.get("Item", {}).get("pairs", {}).get("SS", ()))
        items = [
            ReviewItem.from_dict(json.loads(found["data"]["S"]))
            for found in self._batch_get([{"PK": {"S": "REVIEW#" + i}, "SK": {"S": "REVIEW"}} for i in ids])
        ]
        pending = [i for i in items if i.status == "pending"]
        return sorted(pending, key=lambda i: (i.created_at, i.a, i.b))[:limit]

    def review_by_id(self, pair_id: str) -> ReviewItem | None:
        response = self._client.get_item(
            TableName=self.table_name,
            Key={"PK": {"S": "REVIEW#" + pair_id}, "SK": {"S": "REVIEW"}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return None if item is None else ReviewItem.from_dict(json.loads(item["data"]["S"]))


def _rounds(changes: Sequence[BlockChange], side: str) -> list[list[BlockChange]]:
    """``changes`` whose ``add`` (with its places) or ``remove`` (``side``) names more places than
    ``_PLACES_PER_UPDATE`` cut in pieces: round ``i`` holds each change's ``i``-th piece. A key whose
    pieces go in turn keeps its limit: each piece's ADD is conditioned on the room left for it."""
    rounds: list[list[BlockChange]] = [[]]
    for change in changes:
        members = sorted(change.add if side == "add" else change.remove)
        placed = bool(change.orders) if side == "add" else not change.key.startswith(("id:", "rv:"))
        if not placed or len(members) <= _PLACES_PER_UPDATE:
            rounds[0].append(change)
            continue
        for n, start in enumerate(range(0, len(members), _PLACES_PER_UPDATE)):
            piece = frozenset(members[start : start + _PLACES_PER_UPDATE])
            if side == "add":
                orders = {m: change.orders[m] for m in piece if m in change.orders}
                cut = change._replace(add=piece, orders=orders)
            else:
                cut = change._replace(remove=piece)
            if n == len(rounds):
                rounds.append([])
            rounds[n].append(cut)
    return [r for r in rounds if r]


def _set_orders(update: dict[str, Any], change: BlockChange) -> None:
    """Add ``SET o#<member> = <place>`` for the change's members' places to an ADD's update."""
    if not change.orders:
        return
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets: list[str] = []
    for i, (member, order) in enumerate(sorted(change.orders.items())):
        names[f"#o{i}"] = _ORDER + member
        values[f":o{i}"] = {"S": order}
        sets.append(f"#o{i} = :o{i}")
    update["UpdateExpression"] += " SET " + ", ".join(sets)
    update["ExpressionAttributeNames"] = {**update.get("ExpressionAttributeNames", {}), **names}
    update["ExpressionAttributeValues"] = {**update["ExpressionAttributeValues"], **values}
