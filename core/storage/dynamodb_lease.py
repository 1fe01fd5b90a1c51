"""The DynamoDB ``LeaseStore``: one item per lease in the profile table.

| PK            | SK    | attributes                                                    |
| ------------- | ----- | ------------------------------------------------------------- |
| LEASE#<name>  | LEASE | owner (run id), expires_at (epoch seconds, also the TTL), at |

Taking a lease is one conditional ``PutItem``: it succeeds when no item exists, when the stored
lease has expired, or when the caller already owns it (a continuation of the same run). Two
callers racing for a free lease cannot both win: DynamoDB evaluates the condition and writes
atomically per item. ``expires_at`` is the table's TTL attribute too, so DynamoDB deletes stale
leases eventually; the condition does not rely on that (TTL deletion may lag by days).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from core.lease import Lease


def lease_key(name: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": f"LEASE#{name}"}, "SK": {"S": "LEASE"}}


class DynamoDBLeaseStore:
    """``LeaseStore`` over the profile table; the client is injected (a boto3 DynamoDB client)."""

    def __init__(self, client: Any, table_name: str, *, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self.table_name = table_name
        self._clock = clock

    def acquire(self, name: str, owner: str, seconds: float) -> Lease | None:
        now = self._clock()
        lease = Lease(name, owner, now + seconds)
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item={
                    **lease_key(name),
                    "owner": {"S": owner},
                    "expires_at": {"N": str(int(lease.expires_at))},
                    "at": {"S": datetime.fromtimestamp(now, UTC).isoformat()},
                },
                # "owner" is a DynamoDB reserved word, hence the name placeholder.
                ConditionExpression="attribute_not_exists(PK) OR expires_at < :now OR #o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": {"N": str(int(now))}, ":me": {"S": owner}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return lease

    def renew(self, name: str, owner: str, seconds: float) -> bool:
        try:
            self._client.update_item(
                TableName=self.table_name,
                Key=lease_key(name),
                UpdateExpression="SET expires_at = :exp",
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={
                    ":exp": {"N": str(int(self._clock() + seconds))},
                    ":me": {"S": owner},
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release(self, name: str, owner: str) -> None:
        # A failed condition means it expired and somebody else took it: theirs to release.
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.delete_item(
                TableName=self.table_name,
                Key=lease_key(name),
                ConditionExpression="#o = :me",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":me": {"S": owner}},
            )

    def current(self, name: str) -> Lease | None:
        item = self._client.get_item(TableName=self.table_name, Key=lease_key(name), ConsistentRead=True).get(
            "Item"
        )
        if item is None:
            return None
        return Lease(name, item["owner"]["S"], float(item["expires_at"]["N"]))


__all__ = ["DynamoDBLeaseStore", "lease_key"]
