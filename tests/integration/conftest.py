"""A moto DynamoDB with the table built from template.yaml, and a request counter on the client."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto import mock_aws

from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.ident_keys import mark_new_table
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.local import model_moto_costs
from profilesync.template import create_table

TABLE = "profilesync-test-profiles"


@dataclass
class RequestLog:
    """Counts DynamoDB requests and the size of every transaction, through botocore's event hooks."""

    calls: Counter[str] = field(default_factory=Counter)
    transaction_sizes: list[int] = field(default_factory=list)

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-parameter-build.dynamodb.*", self._before)

    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        if model.name == "TransactWriteItems":
            self.transaction_sizes.append(len(params["TransactItems"]))

    def writes(self) -> int:
        return sum(
            n
            for name, n in self.calls.items()
            if name in ("TransactWriteItems", "BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem")
        )

    def total(self) -> int:
        return sum(self.calls.values())


@pytest.fixture
def dynamo() -> Iterator[tuple[DynamoDBProfileStore, RequestLog]]:
    model_aws_semantics()
    model_moto_costs()  # a Query reads its partition, not a sort of the whole table (moto's results)
    with mock_aws():
        client = dynamodb_client()
        create_table(client, TABLE)
        mark_new_table(client, TABLE)  # made by this version: its stores read keyed identifiers only
        log = RequestLog()
        log.attach(client)
        yield DynamoDBProfileStore(client, TABLE, read_workers=1), log
