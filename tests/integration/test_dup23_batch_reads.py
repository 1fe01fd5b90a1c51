"""The DynamoDB store's batch reads through core.storage.dynamodb_batch ``batch_get`` (one loop for
``get_owners``, ``get_profiles`` and ``get_snapshots``): the keys DynamoDB leaves unprocessed are read
again until none is left; each gives up after ten such answers in a row (a ``RetryableError``:
``get_owners`` kept asking until grow24, tests/integration/test_grow24_owners_bounded.py). On moto,
the client wrapped to leave a key unprocessed as DynamoDB does under throttling."""

from __future__ import annotations

from typing import Any

import pytest

import core.storage.dynamodb_batch
from core.errors import RetryableError
from core.pipeline import IngestSettings, ingest
from core.storage.dynamodb import DynamoDBProfileStore
from tests.conftest import make_record
from tests.integration.conftest import TABLE, RequestLog

Dynamo = tuple[DynamoDBProfileStore, RequestLog]


class _Unprocessing:
    """The client, answering its next ``times`` BatchGetItem requests with their last key left
    unprocessed (and the others read)."""

    def __init__(self, client: Any, times: int) -> None:
        self._client = client
        self.times = times

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's)
        if self.times == 0:
            return self._client.batch_get_item(RequestItems=RequestItems)  # type: ignore[no-any-return]
        self.times -= 1
        (table, request), *_ = RequestItems.items()
        keys = request["Keys"]
        answer: dict[str, Any] = {"Responses": {table: []}}
        if len(keys) > 1:
            answer = self._client.batch_get_item(RequestItems={table: {**request, "Keys": keys[:-1]}})
        return {**answer, "UnprocessedKeys": {table: {**request, "Keys": keys[-1:]}}}


def _store(client: Any) -> DynamoDBProfileStore:
    return DynamoDBProfileStore(client, TABLE, read_workers=1)


@pytest.fixture
def stored(dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[str], list[str]]:
    """Three customers stored; the client, their customers' ids and their email keys."""
    store, _ = dynamo
    monkeypatch.setattr(core.storage.dynamodb_batch.time, "sleep", lambda _: None)
    people = [make_record("crm", str(i), email=f"p{i}@example.com") for i in range(3)]
    ingest(people, store, IngestSettings(sleep=lambda _: None))
    ids = sorted(p.customer_id for p in store.iter_profiles())
    return store._client, ids, [f"email#p{i}@example.com" for i in range(3)]


def test_the_keys_left_unprocessed_are_read_again_by_every_batch_read(
    stored: tuple[Any, list[str], list[str]],
) -> None:
    client, ids, emails = stored
    plain = DynamoDBProfileStore(client, TABLE, read_workers=1)
    sources = list(plain.get_customers(ids[:1])[ids[0]].snapshots)
    assert len(plain.get_owners(emails)) == 3
    assert len(plain.get_profiles(ids)) == 3
    assert sources
    # WHEN each read meets three answers with a key unprocessed THEN it reads what the plain client does
    for read in (
        lambda s: s.get_owners(emails),
        lambda s: s.get_profiles(ids),
        lambda s: s.get_snapshots(ids[0], sources),
    ):
        throttled = _Unprocessing(client, times=3)
        assert read(DynamoDBProfileStore(throttled, TABLE, read_workers=1)) == read(plain)
        assert throttled.times == 0


def test_profiles_and_snapshots_give_up_after_ten_unprocessed_answers(
    stored: tuple[Any, list[str], list[str]],
) -> None:
    client, ids, _ = stored
    sources = list(
        DynamoDBProfileStore(client, TABLE, read_workers=1).get_customers(ids[:1])[ids[0]].snapshots
    )
    with pytest.raises(RetryableError, match="unprocessed"):
        DynamoDBProfileStore(_Unprocessing(client, times=11), TABLE, read_workers=1).get_profiles(ids)
    with pytest.raises(RetryableError, match="unprocessed"):
        DynamoDBProfileStore(_Unprocessing(client, times=11), TABLE, read_workers=1).get_snapshots(
            ids[0], sources
        )


def test_owners_give_up_after_ten_unprocessed_answers_too(stored: tuple[Any, list[str], list[str]]) -> None:
    client, _, emails = stored
    with pytest.raises(RetryableError, match="unprocessed"):
        DynamoDBProfileStore(_Unprocessing(client, times=11), TABLE, read_workers=1).get_owners(emails)
