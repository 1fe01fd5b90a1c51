"""The DynamoDB store's review items (core.link_index's ``LinkIndex``, with core.storage.dynamodb_links).

| PK                   | SK      | attributes                                                       |
| -------------------- | ------- | ---------------------------------------------------------------- |
| REVIEW#<pair hash>   | REVIEW  | status, created_at, data (the item as JSON)                      |
| REVIEW#_pending      | PENDING | pairs (SS of the pair hashes still pending)                      |

Pending reviews are listed through one item that holds their ids, so listing never scans the table.
An id is listed before its pending item is written; one leaving the list (its item decided or
dropped) is read again after, and listed again if a requeue made it pending meanwhile. An id left on
the list by a decided item costs a read: listing leaves out the decided.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Sequence
from typing import Any

from core.link_index import ReviewItem, review_pair_id

__all__ = ["DynamoDBReviews"]

_BATCH_GET = 100
_PENDING_PK = "REVIEW#_pending"


class DynamoDBReviews:
    """The base of ``DynamoDBLinkIndex``: reviews, and the batched reads both use (``_client`` and
    ``table_name`` are set by ``DynamoDBProfileStore``)."""

    _client: Any
    table_name: str

    def _batch_get(
        self, keys: Sequence[dict[str, Any]], projection: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The items of ``keys`` (consistent reads); ``projection``: a ProjectionExpression and its
        ExpressionAttributeNames, to read only those attributes."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(keys), _BATCH_GET):
            request: dict[str, Any] = {
                self.table_name: {
                    "Keys": list(keys[start : start + _BATCH_GET]),
                    "ConsistentRead": True,
                    **(projection or {}),
                }
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

    # -- reviews -------------------------------------------------------------------------------

    def _review_key(self, a: str, b: str) -> dict[str, Any]:
        return {"PK": {"S": "REVIEW#" + review_pair_id(a, b)}, "SK": {"S": "REVIEW"}}

    def get_reviews(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], ReviewItem]:
        by_pk = {"REVIEW#" + review_pair_id(a, b): (a, b) for a, b in pairs}
        out: dict[tuple[str, str], ReviewItem] = {}
        for item in self._batch_get([{"PK": {"S": pk}, "SK": {"S": "REVIEW"}} for pk in by_pk]):
            out[by_pk[item["PK"]["S"]]] = ReviewItem.from_json(item["data"]["S"])
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
        self._unlist(decided)

    def decide_review(self, item: ReviewItem, read: ReviewItem | None = None) -> bool:
        # An erasure dropped it: write nothing; with the item as read, nothing over another scoring.
        condition: dict[str, Any] = {"ConditionExpression": "attribute_exists(PK)"}
        if read is not None:
            condition = {
                "ConditionExpression": "#d = :read",
                "ExpressionAttributeNames": {"#d": "data"},
                "ExpressionAttributeValues": {":read": {"S": read.stored_json()}},
            }
        try:
            self._client.put_item(TableName=self.table_name, Item=self._review_item(item), **condition)
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        if item.status == "pending":
            self._pending("ADD", [item.pair_id])
        else:
            self._unlist([item.pair_id])
        return True

    def requeue_review(self, decided: ReviewItem, pending: ReviewItem) -> bool:
        # The decision as read is the item's whole ``data`` (its text as read, an earlier release's
        # shape too): a decision taken again meanwhile has another time, and stays.
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item=self._review_item(pending),
                ConditionExpression="#d = :read",
                ExpressionAttributeNames={"#d": "data"},
                ExpressionAttributeValues={":read": {"S": decided.stored_json()}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        # A refused decision puts the item back as read, which may be a decision (core.link_review):
        # its id, if still listed, is not taken off (a requeue may have listed it since: listing
        # reads the items and leaves out the decided).
        if pending.status == "pending":
            self._pending("ADD", [pending.pair_id])
        return True

    def drop_reviews(self, pairs: Sequence[tuple[str, str]]) -> None:
        for a, b in pairs:
            self._client.delete_item(TableName=self.table_name, Key=self._review_key(a, b))
        self._unlist([review_pair_id(a, b) for a, b in pairs])

    def drop_reviews_as_read(self, items: Sequence[ReviewItem]) -> list[tuple[str, str]]:
        dropped: list[tuple[str, str]] = []
        for item in items:
            try:
                self._client.delete_item(
                    TableName=self.table_name,
                    Key=self._review_key(item.a, item.b),
                    ConditionExpression="#d = :read",  # a decision taken meanwhile stays
                    ExpressionAttributeNames={"#d": "data"},
                    ExpressionAttributeValues={":read": {"S": item.stored_json()}},
                )
            except self._client.exceptions.ConditionalCheckFailedException:
                continue
            dropped.append((item.a, item.b))
        self._unlist([review_pair_id(a, b) for a, b in dropped])
        return dropped

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

    def _unlist(self, ids: list[str]) -> None:
        """Take ``ids`` off the pending list, then list again those whose item is pending: a requeue
        (or a filing) that wrote its item and listed it after this caller's write (core.link_review)
        stays listed."""
        if not ids:
            return
        self._pending("DELETE", ids)
        keys = [{"PK": {"S": "REVIEW#" + i}, "SK": {"S": "REVIEW"}} for i in sorted(set(ids))]
        found = [ReviewItem.from_json(item["data"]["S"]) for item in self._batch_get(keys)]
        self._pending("ADD", [item.pair_id for item in found if item.status == "pending"])

    def pending_reviews(self, limit: int = 1000) -> list[ReviewItem]:
        response = self._client.get_item(
            TableName=self.table_name,
            Key={"PK": {"S": _PENDING_PK}, "SK": {"S": "PENDING"}},
            ConsistentRead=True,
        )
        ids = sorted(response.get("Item", {}).get("pairs", {}).get("SS", ()))
        items = [
            ReviewItem.from_json(found["data"]["S"])
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
        return None if item is None else ReviewItem.from_json(item["data"]["S"])
