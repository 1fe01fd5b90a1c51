"""conc19: a transaction that fails writes nothing anybody can read, on the moto the DynamoDB tests and
the demo run on (profilesync.embedded.model_aws_semantics), as on DynamoDB.

moto applies a transaction's items one by one, checking each one's condition as it comes to it, and
rolls them all back when one failed: a read made meanwhile (a Query or BatchGetItem is not
serialised with writes) saw the items of a transaction that never happened. A writer that read a
customer so could plan on a version number that was then rolled back and given again by another
writer's commit to other contents: its commit's ``version = :v`` passed, and wrote a profile and
moves of source items built on what was never stored (tests/integration/test_concurrency.py
failed so, rarely: a source in two profiles, an identifier owned by a profile that does not list
it). The patch checks every condition before it writes anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table

TABLE = "failing"


@pytest.fixture
def client() -> Iterator[Any]:
    model_aws_semantics()
    with mock_aws():
        dynamo = dynamodb_client()
        create_table(dynamo, TABLE)
        yield dynamo


def _item(pk: str, version: int) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": "PROFILE"}, "version": {"N": str(version)}}


def _put(pk: str, version: int, expected: int) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": TABLE,
            "Item": _item(pk, version),
            "ConditionExpression": "version = :v",
            "ExpressionAttributeValues": {":v": {"N": str(expected)}},
        }
    }


def _version(client: Any, pk: str) -> int:
    item = client.get_item(
        TableName=TABLE, Key={"PK": {"S": pk}, "SK": {"S": "PROFILE"}}, ConsistentRead=True
    )
    return int(item["Item"]["version"]["N"])


def test_a_read_while_a_failing_transaction_runs_sees_none_of_its_writes(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import moto.dynamodb.models as models

    for pk in ("CUSTOMER#a", "CUSTOMER#b"):
        client.put_item(TableName=TABLE, Item=_item(pk, 1))
    seen: list[int] = []
    real_put = models.DynamoDBBackend.put_item

    def put_item(self: Any, table_name: str, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        out = real_put(self, table_name, item_attrs, *args, **kwargs)
        if item_attrs["PK"]["S"] == "CUSTOMER#a" and not seen:
            seen.append(_version(client, "CUSTOMER#a"))  # another writer's read, while it runs
        return out

    monkeypatch.setattr(models.DynamoDBBackend, "put_item", put_item)
    # a's condition holds, b's does not (b is at version 1): the transaction fails whole
    with pytest.raises(client.exceptions.TransactionCanceledException) as failed:
        client.transact_write_items(TransactItems=[_put("CUSTOMER#a", 2, 1), _put("CUSTOMER#b", 2, 5)])
    reasons = [r["Code"] for r in failed.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    # nobody ever read a at version 2: a version number a failed transaction wrote is never seen, so
    # a writer can never take a later commit's version 2 for the one it read
    assert seen in ([], [1])
    assert _version(client, "CUSTOMER#a") == 1
    # and a transaction whose conditions all hold is written as before
    client.transact_write_items(TransactItems=[_put("CUSTOMER#a", 2, 1), _put("CUSTOMER#b", 2, 1)])
    assert (_version(client, "CUSTOMER#a"), _version(client, "CUSTOMER#b")) == (2, 2)
