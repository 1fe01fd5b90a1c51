"""The DynamoDB ``ErasureStore``: the deletes and the audit items of privacy requests.

| PK              | SK                        | attributes                                           |
| --------------- | ------------------------- | ---------------------------------------------------- |
| AUDIT#<action>  | <at ISO>#<request id>     | subject_hash, outcome, counts (M), tools (M)         |

Each erasure step is one ``TransactWriteItems`` of ``Delete`` requests: a PROFILE item is deleted
only at the version that was read (``version = :v``), an IDENT item only while the customer still
owns it (``customer_id = :o``). A failed guard cancels the whole step and surfaces as ConflictError,
so core.privacy re-reads the customer and plans again. Like core.storage.dynamodb, this module takes
an injected boto3 client and imports neither boto3 nor botocore.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.errors import ConflictError
from core.privacy import AuditRecord, DeleteItem, ItemKey
from core.storage.dynamodb import LEGACY_TRANSACTION_MAX_ITEMS, TRANSACTION_MAX_ITEMS


class DynamoDBErasureStore:
    """``ErasureStore`` over the profile table."""

    def __init__(self, client: Any, table_name: str, *, max_items_per_step: int = TRANSACTION_MAX_ITEMS):
        self._client = client
        self.table_name = table_name
        self.max_items_per_step = max_items_per_step

    def customer_items(self, customer_id: str) -> list[ItemKey]:
        keys: list[ItemKey] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"CUSTOMER#{customer_id}"}},
            "ProjectionExpression": "PK, SK",
            "ConsistentRead": True,
        }
        while True:
            page = self._client.query(**kwargs)
            keys.extend(ItemKey(i["PK"]["S"], i["SK"]["S"]) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return keys
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def apply(self, step: Sequence[DeleteItem]) -> None:
        if not step:
            return
        if len(step) > self.max_items_per_step:
            # Only after a fall back to the legacy limit: the pieces stay in order and every delete
            # keeps its own guard, so splitting loses atomicity between deletes, never safety.
            for start in range(0, len(step), self.max_items_per_step):
                self.apply(step[start : start + self.max_items_per_step])
            return
        exceptions = self._client.exceptions
        try:
            self._client.transact_write_items(TransactItems=[self._delete(d) for d in step])
        except exceptions.TransactionCanceledException as error:
            reasons = error.response.get("CancellationReasons") or []
            codes = sorted({r.get("Code", "") for r in reasons} - {"None", ""})
            raise ConflictError(
                f"an erasure step lost a race ({', '.join(codes) or 'cancelled'}); re-read and plan again"
            ) from error
        except exceptions.ClientError as error:
            message = str(error.response.get("Error", {}).get("Message", ""))
            if f"less than or equal to {LEGACY_TRANSACTION_MAX_ITEMS}" in message:
                self.max_items_per_step = LEGACY_TRANSACTION_MAX_ITEMS
                self.apply(step)
                return
            raise

    def _delete(self, delete: DeleteItem) -> dict[str, Any]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"PK": {"S": delete.key.pk}, "SK": {"S": delete.key.sk}},
        }
        if delete.expected_owner is not None:
            request["ConditionExpression"] = "customer_id = :o"
            request["ExpressionAttributeValues"] = {":o": {"S": delete.expected_owner}}
        elif delete.expected_version is not None:
            # A PROFILE item written by the pipeline always has a version; 0 means "none was read".
            request["ConditionExpression"] = (
                "attribute_not_exists(version) OR version = :v"
                if delete.expected_version == 0
                else "version = :v"
            )
            request["ExpressionAttributeValues"] = {":v": {"N": str(delete.expected_version)}}
        return {"Delete": request}

    def put_audit(self, record: AuditRecord) -> None:
        self._client.put_item(
            TableName=self.table_name,
            Item={
                "PK": {"S": f"AUDIT#{record.action}"},
                "SK": {"S": f"{record.at.isoformat()}#{record.request_id}"},
                "request_id": {"S": record.request_id},
                "subject_hash": {"S": record.subject_hash},
                "outcome": {"S": record.outcome},
                "counts": {"M": {k: {"N": str(v)} for k, v in sorted(record.counts.items())}},
                "tools": {"M": {k: {"S": v} for k, v in sorted(record.tools.items())}},
            },
        )

    def quarantined_items(self, connector: str) -> list[tuple[ItemKey, str]]:
        found: list[tuple[ItemKey, str]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"QUARANTINE#{connector}"}},
            "ProjectionExpression": "PK, SK, #r, reason",
            "ExpressionAttributeNames": {"#r": "raw"},  # RAW is a reserved word
        }
        while True:
            page = self._client.query(**kwargs)
            for item in page.get("Items", []):
                text = item.get("raw", {}).get("S", "") + "\n" + item.get("reason", {}).get("S", "")
                found.append((ItemKey(item["PK"]["S"], item["SK"]["S"]), text))
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def audit_records(self, action: str) -> list[dict[str, Any]]:
        """The raw audit items of one action, oldest first (for operators and tests)."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"AUDIT#{action}"}},
        }
        while True:
            page = self._client.query(**kwargs)
            items.extend(page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


__all__ = ["DynamoDBErasureStore"]
