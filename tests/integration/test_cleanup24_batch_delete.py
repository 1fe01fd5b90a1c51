"""core.storage.dynamodb_batch ``batch_delete``, the one BatchWriteItem delete loop of the DynamoDB
stores (the refused-value index's ``forget`` and the history name index's ``forget_named`` each had
their own until cleanup24): 25 keys a request, each key once, the entries DynamoDB leaves
unprocessed sent again until none is left, and a ``RetryableError`` after ten such answers in a row
that leaves the undeleted items in the table. On moto, botocore's event hooks hold back the last
entry of each BatchWriteItem and answer it unprocessed, as DynamoDB does under throttling."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

import core.storage.dynamodb_batch
from core.errors import RetryableError
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.dynamodb_batch import BATCH_MAX_ATTEMPTS, batch_delete, batch_put
from core.storage.dynamodb_history import DynamoDBHistoryStore
from core.storage.refused_index import PREFIX, DynamoDBRefusedIndex
from tests.integration.conftest import TABLE, RequestLog

Dynamo = tuple[DynamoDBProfileStore, RequestLog]


class _Throttle:
    """Through the client's event hooks: its next ``times`` BatchWriteItem deletes have their last
    entry held back (not sent) and answered in ``UnprocessedItems``; every delete's entries kept
    (puts pass untouched)."""

    def __init__(self, client: Any, times: int) -> None:
        self.times = times
        self.requests: list[list[dict[str, Any]]] = []
        events = client.meta.events
        events.register("provide-client-params.dynamodb.BatchWriteItem", self._params)
        events.register("before-call.dynamodb.BatchWriteItem", self._before_call)
        events.register("after-call.dynamodb.BatchWriteItem", self._after_call)

    def _params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> dict[str, Any] | None:
        ((table, entries),) = params["RequestItems"].items()
        if "DeleteRequest" not in entries[0]:
            return None
        self.requests.append(list(entries))
        if self.times == 0:
            return None
        self.times -= 1
        context["held"] = {table: entries[-1:]}
        if len(entries) == 1:
            context["nothing_sent"] = True  # DynamoDB processed none of them
            return params
        return {**params, "RequestItems": {table: entries[:-1]}}

    def _before_call(self, context: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]] | None:
        if context.get("nothing_sent"):
            return SimpleNamespace(status_code=200, headers={}), {"ResponseMetadata": {}}
        return None

    def _after_call(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if "held" in context:
            parsed["UnprocessedItems"] = context["held"]


def _key(pk: str, sk: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def _held(client: Any, keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [k for k in keys if "Item" in client.get_item(TableName=TABLE, Key=k, ConsistentRead=True)]


@pytest.fixture
def client(dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(core.storage.dynamodb_batch.time, "sleep", lambda _: None)
    return dynamo[0]._client


def test_every_key_is_deleted_through_unprocessed_answers_25_a_request_each_once(client: Any) -> None:
    # GIVEN 60 items, and every one of the next 5 BatchWriteItem requests leaving an entry unprocessed
    keys = [_key(f"P#{i % 7}", f"S#{i}") for i in range(60)]
    batch_put(client, TABLE, [{**k, "v": {"S": "x"}} for k in keys])
    throttle = _Throttle(client, times=5)
    # WHEN they are deleted, a key named twice among them
    batch_delete(client, TABLE, [*keys, keys[3]])
    # THEN none is left, no request held more than 25 entries or named a key twice
    assert _held(client, keys) == []
    assert throttle.times == 0
    assert max(len(r) for r in throttle.requests) == 25
    for request in throttle.requests:
        named = [
            (e["DeleteRequest"]["Key"]["PK"]["S"], e["DeleteRequest"]["Key"]["SK"]["S"]) for e in request
        ]
        assert len(named) == len(set(named))
    sent = sum(len(r) for r in throttle.requests)
    assert sent == 60 + 5  # each held entry sent once more


def test_a_table_throttled_for_good_stops_after_ten_answers_with_the_items_kept(client: Any) -> None:
    # GIVEN 3 items and a table that leaves an entry unprocessed on every answer
    keys = [_key("P#1", f"S#{i}") for i in range(3)]
    batch_put(client, TABLE, [{**k, "v": {"S": "x"}} for k in keys])
    throttle = _Throttle(client, times=1000)
    # WHEN they are deleted THEN the loop gives up, saying so, after its bound
    with pytest.raises(RetryableError, match="unprocessed 11 times in a row"):
        batch_delete(client, TABLE, keys)
    assert len(throttle.requests) == BATCH_MAX_ATTEMPTS + 1
    # AND the item never deleted is still there for the next run, which deletes it
    assert _held(client, keys) == keys[-1:]
    throttle.times = 0
    batch_delete(client, TABLE, keys)
    assert _held(client, keys) == []


StoreDelete = Callable[[Any, list[tuple[str, str]]], list[dict[str, Any]]]


def _forget_refused(client: Any, pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    index = DynamoDBRefusedIndex(client, TABLE)
    index.put(pairs)
    index.forget(pairs)
    return [_key(f"{PREFIX}{h}", f"source#{r}") for h, r in pairs]


def _forget_named(client: Any, pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    history = DynamoDBHistoryStore(client, TABLE)
    keys = [_key(pk, c) for n, c in pairs for pk in history.named_pks(n)]  # keyed, and unkeyed until marked
    batch_put(client, TABLE, [{**key, "v": {"S": "x"}} for key in keys])
    history.forget_named(pairs)
    return keys


@pytest.mark.parametrize("forget", [_forget_refused, _forget_named], ids=["refused_index", "history_names"])
def test_each_store_deletes_through_batch_delete(client: Any, forget: StoreDelete) -> None:
    # GIVEN 30 entries of a store's index, its deletes throttled three times
    pairs = [(f"h{i % 4}", f"crm#{i}") for i in range(30)]
    throttle = _Throttle(client, times=3)
    # WHEN the store forgets them (after its own put) THEN every item is gone, none lost on the way
    keys = forget(client, pairs)
    assert _held(client, keys) == []
    assert throttle.times == 0
    assert max(len(r) for r in throttle.requests) == 25
    # AND a store throttled for good gives up after the bound, the undeleted item kept
    throttle.times = 1000
    with pytest.raises(RetryableError):
        forget(client, pairs[:2])
    assert len(_held(client, keys[:2])) == 1
