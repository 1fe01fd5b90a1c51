"""The erasure epoch on DynamoDB (core.erasure_epoch): one item, ``SUPPRESS#epoch`` / ``EPOCH``.

| PK             | SK    | attributes                                                     |
| -------------- | ----- | -------------------------------------------------------------- |
| SUPPRESS#epoch | EPOCH | epoch (N): bumped as an erasure writes suppression entries,    |
|                |       | in each step of deletes, before its audit record; bump         |
|                |       | (S): a random token written with each bump. Absent: epoch "0"  |

Apart from core.storage.dynamodb_suppression so that a function that only reads the epoch (the
profile API) imports nothing of suppression. Takes an injected boto3 client, imports no boto3.
"""

from __future__ import annotations

import random
import secrets
import time
from typing import Any

from core.erasure_epoch import epoch_text

EPOCH_KEY = {"PK": {"S": "SUPPRESS#epoch"}, "SK": {"S": "EPOCH"}}


def bump_epoch(client: Any, table_name: str) -> None:
    """Bump the erasure epoch of the table (core.erasure_epoch); made at 1 on a table without it.
    A random token goes with the count: a table restored from a backup and bumped back to a count a
    process saw does not pass for the epoch it saw. A transaction in flight on the item (an
    erasure's step bumps it in its own, a push's conditional write checks it) makes DynamoDB refuse
    the update (``TransactionConflictException``, which botocore does not retry): tried again."""
    update = epoch_bump_action(table_name)["Update"]
    for attempt in range(_BUMP_ATTEMPTS):
        try:
            client.update_item(**update)
            return
        except client.exceptions.TransactionConflictException:
            if attempt + 1 == _BUMP_ATTEMPTS:
                raise
            time.sleep(random.uniform(0, 0.05 * 2**attempt))


def epoch_bump_action(table_name: str) -> dict[str, Any]:
    """The bump as one ``TransactWriteItems`` action (an erasure step's, with its deletes)."""
    return {
        "Update": {
            "TableName": table_name,
            "Key": EPOCH_KEY,
            "UpdateExpression": "ADD epoch :one SET bump = :t",
            "ExpressionAttributeValues": {":one": {"N": "1"}, ":t": {"S": secrets.token_hex(8)}},
        }
    }


_BUMP_ATTEMPTS = 6


def epoch_check(table_name: str, epoch: str) -> dict[str, Any]:
    """A ``TransactWriteItems`` ``ConditionCheck`` that the epoch item still holds ``epoch`` (as
    ``read_epoch`` gives it): a push's pushed-state write, a commit's ``NoErasureSince``. A bump in
    between (a new token) or in flight cancels the transaction."""
    check: dict[str, Any] = {"TableName": table_name, "Key": EPOCH_KEY}
    count, _, token = epoch.partition(":")
    if epoch == "0":
        check["ConditionExpression"] = "attribute_not_exists(epoch)"
    elif token:
        check["ConditionExpression"] = "bump = :t"
        check["ExpressionAttributeValues"] = {":t": {"S": token}}
    else:  # an item bumped before tokens: its count alone
        check["ConditionExpression"] = "epoch = :n AND attribute_not_exists(bump)"
        check["ExpressionAttributeValues"] = {":n": {"N": count}}
    return {"ConditionCheck": check}


def read_epoch(client: Any, table_name: str) -> str:
    """The erasure epoch of the table (strongly consistent: one read unit), "0" where it has none."""
    item = client.get_item(
        TableName=table_name, Key=EPOCH_KEY, ConsistentRead=True, ProjectionExpression="epoch, bump"
    ).get("Item")
    if not item or "epoch" not in item:
        return "0"
    return epoch_text(int(item["epoch"]["N"]), item.get("bump", {}).get("S"))


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

    def erasure_epoch(self) -> str:
        return read_epoch(self._client, self.table_name)


__all__ = [
    "EPOCH_KEY",
    "DynamoDBErasureEpoch",
    "bump_epoch",
    "epoch_bump_action",
    "epoch_check",
    "epoch_key",
    "epoch_text",
    "read_epoch",
]
