"""bench.demo_requests counts what the demo's phases send to DynamoDB, per phase and item kind.

The counts are how two commits' demos are compared on a loaded machine (seconds move with the load,
requests do not): a request missed, filed under another phase or still counted after the bench is
done would make two commits look alike or different when they are not. Real botocore clients
against moto, as the demo's handlers send them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bench.demo_requests import RequestCount, item_kind
from profilesync.template import create_table


@pytest.fixture
def table() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "t")  # the template's table, as the demo makes it
        yield client


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def test_each_phase_counts_its_requests_and_the_items_they_name(table: Any) -> None:
    # GIVEN a commit's transaction in one phase, reads and a batch write in the next
    count = RequestCount()
    with count.counting():
        count.phase = "merge"
        table.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": _key("CUSTOMER#cus_1", "PROFILE")}},
                {"Put": {"TableName": "t", "Item": _key("IDENT#a1", "IDENT")}},
                {
                    "ConditionCheck": {
                        "TableName": "t",
                        "Key": _key("SUPPRESS#h1", "SUPPRESS"),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
        count.phase = "push"
        table.batch_get_item(
            RequestItems={"t": {"Keys": [_key("SUPPRESS#h1", "SUPPRESS"), _key("SUPPRESS#h2", "SUPPRESS")]}}
        )
        table.batch_write_item(
            RequestItems={"t": [{"PutRequest": {"Item": _key("CUSTOMER#cus_1", "PUSHED#hubspot")}}]}
        )
        table.get_item(TableName="t", Key=_key("CUSTOMER#cus_1", "PROFILE"))
        table.query(
            TableName="t",
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": "CUSTOMER#cus_1"}},
        )
    # WHEN the block is over, a request is no longer counted
    table.get_item(TableName="t", Key=_key("CUSTOMER#cus_1", "PROFILE"))
    # THEN each phase holds what it sent, and nothing after
    assert count.requests == {
        "merge": {"dynamodb.TransactWriteItems": 1},
        "push": {
            "dynamodb.BatchGetItem": 1,
            "dynamodb.BatchWriteItem": 1,
            "dynamodb.GetItem": 1,
            "dynamodb.Query": 1,
        },
    }
    assert count.items["merge"] == {
        "Put CUSTOMER/PROFILE": 1,
        "Put IDENT/IDENT": 1,
        "ConditionCheck SUPPRESS/SUPPRESS": 1,
    }
    assert count.items["push"] == {
        "Get SUPPRESS/SUPPRESS": 2,
        "Put CUSTOMER/PUSHED": 1,
        "Get CUSTOMER/PROFILE": 1,
    }
    assert count.lines("push")[0] == "push: 4 requests, 4 items"


def test_a_failed_request_is_counted_and_the_client_restored(table: Any) -> None:
    # GIVEN a request moto refuses inside the block
    count = RequestCount()
    original = type(table)._make_api_call
    with pytest.raises(table.exceptions.ClientError), count.counting():
        table.get_item(TableName="missing", Key=_key("CUSTOMER#cus_1", "PROFILE"))
    # THEN it was sent (counted), and the clients are as they were
    assert count.requests == {"setup": {"dynamodb.GetItem": 1}}
    assert type(table)._make_api_call is original


def test_an_item_kind_is_each_key_up_to_its_hash() -> None:
    assert item_kind(_key("CUSTOMER#cus_1", "HISTORY#2026-12-06#e1")) == "CUSTOMER/HISTORY"
    assert item_kind(_key("BLOCK#ab12", "BLOCK")) == "BLOCK/BLOCK"
    assert item_kind({}) == "?/?"
    # A sort key that is a value, not a kind (a quarantine's time, a customer id), is one kind.
    assert item_kind(_key("QUARANTINE#hubspot", "2026-12-06T10:15:54.900398+00:00")) == "QUARANTINE/*"
    assert item_kind(_key("NAMED#ab12", "cus_hwkpxgfbdyzoyhmwyzua")) == "NAMED/*"
