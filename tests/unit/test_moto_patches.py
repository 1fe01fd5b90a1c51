"""The demo's two patches of moto's internals, tested against the moto that is installed.

``profilesync demo`` runs the Lambda handlers on moto, with ``model_aws_semantics`` (serialised
transactions that back up only the items they touch) and ``model_moto_costs`` (a Query that reads
its own partition, not the whole table). No production path uses them (``resolve`` and ``sync``
run on SQLite), and pyproject.toml pins moto to the versions they were written for. These tests
fail when moto changes what the patches rely on: the names, signatures and code paths they
replace, and what the patched calls must still answer.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.local import model_moto_costs

TABLE = "patched"


def _create_table(dynamo: Any, name: str, **options: Any) -> None:
    dynamo.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "PK", "AttributeType": "S"},
            {"AttributeName": "SK", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        **options,
    )


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        dynamo = dynamodb_client()
        _create_table(dynamo, TABLE)
        yield dynamo


def test_the_transaction_patch_replaces_what_moto_still_has(client: Any) -> None:
    import moto.dynamodb.models as models
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models.table import Table

    # The patch swaps the ``copy`` module moto's transaction uses to back up whole tables...
    assert "copy.deepcopy(" in inspect.getsource(_unpatched(models.DynamoDBBackend.transact_write_items))
    assert getattr(models, "copy") is copy  # noqa: B009
    # ...and backs up the items it touches itself, through these
    table = models.dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].tables[TABLE]
    assert (table.hash_key_attr, table.range_key_attr) == ("PK", "SK")
    assert isinstance(table.items, dict)
    assert list(inspect.signature(Table.get_item).parameters)[:3] == ["self", "hash_key", "range_key"]


def test_a_cancelled_transaction_is_rolled_back_item_by_item_without_copying_the_table(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.dynamodb.models.table import Table

    model_aws_semantics()
    client.put_item(TableName=TABLE, Item={"PK": {"S": "A"}, "SK": {"S": "1"}, "v": {"N": "1"}})
    tables_copied: list[Any] = []
    real_deepcopy = copy.deepcopy

    def spy(obj: Any, memo: Any = None) -> Any:
        if isinstance(obj, Table | dict) and any(
            isinstance(v, Table) for v in getattr(obj, "values", list)()
        ):
            tables_copied.append(obj)
        return real_deepcopy(obj, memo)

    monkeypatch.setattr(copy, "deepcopy", spy)
    # WHEN a transaction updates A and then fails its condition on B
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"PK": {"S": "A"}, "SK": {"S": "1"}, "v": {"N": "2"}}}},
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"PK": {"S": "B"}, "SK": {"S": "1"}},
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
            ]
        )
    # THEN A is as it was (rolled back from the item's own backup), and no table was deep-copied
    item = client.get_item(TableName=TABLE, Key={"PK": {"S": "A"}, "SK": {"S": "1"}})["Item"]
    assert item["v"] == {"N": "1"}
    assert tables_copied == []


def test_the_query_patch_replaces_what_moto_still_has() -> None:
    from moto.core.serialize import JSONSerializer
    from moto.dynamodb.models.table import Table

    # The patch reads ``index_name`` as the 7th positional argument after the hash key...
    params = list(inspect.signature(_unpatched(Table.query)).parameters)
    assert params[:2] == ["self", "hash_key"]
    assert params[2 + 6] == "index_name"
    # ...narrows the ``all_items`` that moto's Query sorts, and keeps the items' wire form
    assert "self.all_items()" in inspect.getsource(_unpatched(Table.query))
    assert hasattr(Table, "all_items")
    assert list(inspect.signature(_unpatched(JSONSerializer._serialize_type_structure)).parameters) == [
        "self",
        "serialized",
        "value",
        "shape",
        "key",
    ]


def _unpatched(function: Any) -> Any:
    for cell in getattr(function, "__closure__", None) or ():
        if inspect.isfunction(cell.cell_contents) and cell.cell_contents.__module__.startswith("moto."):
            return cell.cell_contents
    return function


def test_a_patched_query_reads_only_its_partition_and_answers_as_moto_does(client: Any) -> None:
    from moto.dynamodb.models.table import Table

    model_moto_costs()
    for pk in ("CUSTOMER#a", "CUSTOMER#b"):
        for n in range(30):
            client.put_item(
                TableName=TABLE,
                Item={
                    "PK": {"S": pk},
                    "SK": {"S": f"SOURCE#{n:02d}"},
                    "n": {"N": str(n)},
                    "tags": {"SS": ["x", "y"]},
                    "m": {"M": {"k": {"L": [{"BOOL": True}, {"NULL": True}, {"B": b"\x00\x01"}]}}},
                },
            )
    sizes: list[int] = []
    patched = Table.all_items

    def counting(self: Any) -> Any:
        items = patched(self)
        sizes.append(len(items))
        return items

    Table.all_items = counting  # type: ignore[method-assign]
    try:
        # WHEN one partition is queried
        page = client.query(
            TableName=TABLE,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": "CUSTOMER#b"}},
        )
    finally:
        Table.all_items = patched  # type: ignore[method-assign]
    # THEN only its 30 items were looked at, and they come back sorted with every value intact
    assert sizes == [30]
    assert [i["SK"]["S"] for i in page["Items"]] == [f"SOURCE#{n:02d}" for n in range(30)]
    first = page["Items"][0]
    assert first["n"] == {"N": "0"}
    assert sorted(first["tags"]["SS"]) == ["x", "y"]
    assert first["m"] == {"M": {"k": {"L": [{"BOOL": True}, {"NULL": True}, {"B": b"\x00\x01"}]}}}
    # AND a scan still sees both partitions
    assert client.scan(TableName=TABLE)["Count"] == 60


def test_the_scan_patch_replaces_what_moto_still_has() -> None:
    from moto.dynamodb.models.table import Table

    # The patch reads ``index_name`` as the 2nd positional argument after the start key...
    params = list(inspect.signature(_unpatched(Table.scan)).parameters)
    assert params[:4] == ["self", "filters", "limit", "exclusive_start_key"]
    assert params[4 + 1] == "index_name"
    # ...hands moto's loop the items from the start key's partition, which skips those up to the key
    source = inspect.getsource(_unpatched(Table.scan))
    assert "items = self.all_items()" in source
    assert "self._item_comes_before_dct(" in source
    assert "for item in items:" in source


def _scan_pages(client: Any, **kwargs: Any) -> list[tuple[list[dict[str, Any]], Any]]:
    pages: list[tuple[list[dict[str, Any]], Any]] = []
    request: dict[str, Any] = {"TableName": TABLE, **kwargs}
    while True:
        page = client.scan(**request)
        pages.append((page["Items"], page.get("LastEvaluatedKey")))
        if "LastEvaluatedKey" not in page:
            return pages
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_a_patched_scan_pages_as_moto_does_reading_only_from_the_start_key(client: Any) -> None:
    from moto.dynamodb.models.table import Table

    model_moto_costs()
    # GIVEN partitions of different sizes, keys out of insertion order, non-ASCII keys, one item deleted
    partitions = [f"{kind}#{n * 7 % 23}" for n in range(23) for kind in ("CUSTOMER", "IDENT")]
    partitions += ["IDENT#é", "CUSTOMER#ä"]
    sizes = {pk: 1 + n % 5 for n, pk in enumerate(partitions)}
    for pk in partitions:
        for m in range(sizes[pk]):
            client.put_item(
                TableName=TABLE,
                Item={"PK": {"S": pk}, "SK": {"S": f"SOURCE#{(7 * m) % 31:02d}"}, "n": {"N": str(m)}},
            )
    client.delete_item(TableName=TABLE, Key={"PK": {"S": "CUSTOMER#ä"}, "SK": {"S": "SOURCE#00"}})
    compared: list[int] = []
    before = Table._item_comes_before_dct

    def counting(self: Any, *args: Any) -> Any:
        compared.append(1)
        return before(self, *args)

    patched = Table.scan
    Table._item_comes_before_dct = counting  # type: ignore[method-assign,assignment]
    try:
        # WHEN the table is scanned in small pages, plainly and with a filter, patched and not
        plain = _scan_pages(client, Limit=4)
        filtered = _scan_pages(
            client, Limit=5, FilterExpression="n > :n", ExpressionAttributeValues={":n": {"N": "3"}}
        )
        patched_comparisons = len(compared)
        Table.scan = _unpatched(patched)  # type: ignore[method-assign]
        try:
            assert _scan_pages(client, Limit=4) == plain
            assert (
                _scan_pages(
                    client, Limit=5, FilterExpression="n > :n", ExpressionAttributeValues={":n": {"N": "3"}}
                )
                == filtered
            )
        finally:
            Table.scan = patched  # type: ignore[method-assign]
    finally:
        Table._item_comes_before_dct = before  # type: ignore[method-assign]
    # THEN both answer the same pages, every item once in key order, and the patched scan compared
    # only items of the start key's partition (moto's compares every item before the key on each page)
    keys = [(i["PK"]["S"], i["SK"]["S"]) for items, _ in plain for i in items]
    assert keys == sorted(keys)
    assert len(keys) == len(set(keys)) == sum(sizes.values()) - 1
    assert all(int(i["n"]["N"]) > 3 for items, _ in filtered for i in items)
    assert patched_comparisons <= (len(plain) + len(filtered)) * max(sizes.values())
    assert len(compared) - patched_comparisons > 10 * patched_comparisons


def _moto_original(function: Any) -> Any:
    """The moto function under however many patches wrap it (each keeps it in its closure)."""
    if getattr(function, "__module__", "").startswith("moto."):
        return function
    for cell in getattr(function, "__closure__", None) or ():
        inner = cell.cell_contents
        if inspect.isfunction(inner):
            found = _moto_original(inner)
            if found is not None:
                return found
    return None


def test_the_wire_patches_replace_what_moto_still_has() -> None:
    import moto.core.responses as responses
    from moto.core.serialize import JSONSerializer

    model_moto_costs()
    # moto still finds an action's method by the names of its handler class's functions...
    assert "method_names_from_class(self.__class__)" in inspect.getsource(responses.BaseResponse.call_action)
    # ...and serialises maps and structures through these, with these arguments
    for name in ("_serialize_type_map", "_serialize_type_structure"):
        original = _moto_original(getattr(JSONSerializer, name))
        assert list(inspect.signature(original).parameters) == ["self", "serialized", "value", "shape", "key"]
    assert hasattr(JSONSerializer, "_default_serialize")


def _wire_answers(dynamo: Any, streams: Any, table: str) -> list[Any]:
    arn = dynamo.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    (shard,) = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    query = dynamo.query(
        TableName=table,
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "CUSTOMER#a"}},
    )
    scan = dynamo.scan(TableName=table)
    return [records, query["Items"], scan["Items"], scan["Count"]]


def test_patched_answers_on_the_wire_equal_motos_own(monkeypatch: pytest.MonkeyPatch) -> None:
    import moto.core.responses as responses
    from moto.core.serialize import JSONSerializer

    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")  # moto 5's Streams otherwise answer 404
    model_moto_costs()
    with mock_aws():
        dynamo = dynamodb_client()
        streams = boto3.client("dynamodbstreams", region_name="us-east-1")
        _create_table(
            dynamo,
            "streamed",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        # GIVEN items of every kind of value: wire-form ones, binary ones, nested maps and lists
        plain = {
            "n": {"N": "1"},
            "s": {"S": "é"},
            "ss": {"SS": ["x", "y"]},
            "ok": {"BOOL": True},
            "z": {"NULL": True},
        }
        nested = {"b": {"B": b"\x00\xff"}, "m": {"M": {"l": {"L": [{"B": b"\x01"}, {"S": "v"}]}}}}
        dynamo.put_item(
            TableName="streamed", Item={"PK": {"S": "CUSTOMER#a"}, "SK": {"S": "PROFILE"}, **plain}
        )
        dynamo.put_item(
            TableName="streamed", Item={"PK": {"S": "CUSTOMER#a"}, "SK": {"S": "SOURCE#1"}, **nested}
        )
        dynamo.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": "streamed",
                        "Item": {"PK": {"S": "CUSTOMER#a"}, "SK": {"S": "PROFILE"}},
                    }
                },
                {
                    "Put": {
                        "TableName": "streamed",
                        "Item": {"PK": {"S": "CUSTOMER#b"}, "SK": {"S": "X"}, **plain},
                    }
                },
            ]
        )
        dynamo.delete_item(TableName="streamed", Key={"PK": {"S": "CUSTOMER#a"}, "SK": {"S": "SOURCE#1"}})
        dynamo.put_item(
            TableName="streamed", Item={"PK": {"S": "CUSTOMER#a"}, "SK": {"S": "SOURCE#2"}, **nested}
        )
        # WHEN the stream, a query and a scan are read with the patches and with moto's own code
        patched = _wire_answers(dynamo, streams, "streamed")
        saved = {
            name: JSONSerializer.__dict__[name]
            for name in ("_serialize_type_map", "_serialize_type_structure")
        }
        saved_lookup = responses.method_names_from_class
        try:
            for name, function in saved.items():
                setattr(JSONSerializer, name, _moto_original(function))
            responses.method_names_from_class = _moto_original(saved_lookup)
            unpatched = _wire_answers(dynamo, streams, "streamed")
        finally:
            for name, function in saved.items():
                setattr(JSONSerializer, name, function)
            responses.method_names_from_class = saved_lookup
    # THEN every answer is the same, value for value
    assert patched == unpatched
    assert [r["eventName"] for r in patched[0]] == [
        "INSERT",
        "INSERT",
        "MODIFY",
        "INSERT",
        "REMOVE",
        "INSERT",
    ]
    assert patched[0][1]["dynamodb"]["NewImage"]["m"] == {"M": {"l": {"L": [{"B": b"\x01"}, {"S": "v"}]}}}
    assert isinstance(patched[0][0]["dynamodb"]["ApproximateCreationDateTime"], datetime)
