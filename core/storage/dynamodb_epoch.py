"""The erasure epoch on DynamoDB (core.erasure_epoch): one item, ``SUPPRESS#epoch`` / ``EPOCH``.

| PK             | SK    | attributes                                                     |
| -------------- | ----- | -------------------------------------------------------------- |
| SUPPRESS#epoch | EPOCH | epoch (N): bumped before an erasure writes suppression entries |
|                |       | and before its audit record; absent on older tables: epoch 0   |

Apart from core.storage.dynamodb_suppression so that a function that only reads the epoch (the
profile API) imports nothing of suppression. Takes an injected boto3 client, imports no boto3.
"""

from __future__ import annotations

from typing import Any

EPOCH_KEY = {"PK": {"S": "SUPPRESS#epoch"}, "SK": {"S": "EPOCH"}}


def bump_epoch(client: Any, table_name: str) -> None:
    """Bump the erasure epoch of the table (core.erasure_epoch); made at 1 on a table without it."""
    client.update_item(
        TableName=table_name,
        Key=EPOCH_KEY,
        UpdateExpression="ADD epoch :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )


def read_epoch(client: Any, table_name: str) -> int:
    """The erasure epoch of the table (strongly consistent: one read unit), 0 where it has none."""
    item = client.get_item(
        TableName=table_name, Key=EPOCH_KEY, ConsistentRead=True, ProjectionExpression="epoch"
    ).get("Item")
    return int(item["epoch"]["N"]) if item and "epoch" in item else 0


def epoch_key(client: Any, table_name: str) -> str:
    """Which table this is, for core.erasure_epoch: its name at its endpoint."""
    return f"dynamodb:{getattr(client.meta, 'endpoint_url', '')}/{table_name}"


class DynamoDBErasureEpoch:
    """The table's erasure epoch, read (``core.erasure_epoch.ErasureEpochs``)."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    @property
    def epoch_key(self) -> str:
        return epoch_key(self._client, self.table_name)

    def erasure_epoch(self) -> int:
        return read_epoch(self._client, self.table_name)


__all__ = ["EPOCH_KEY", "DynamoDBErasureEpoch", "bump_epoch", "epoch_key", "read_epoch"]
