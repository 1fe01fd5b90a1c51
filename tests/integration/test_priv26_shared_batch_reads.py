"""priv26: the sync-state and suppression adapters read through core's shared batch read.

``DynamoDBSyncStateStore.get_pushed``, ``DynamoDBSuppressionStore.suppressed`` and the suppression
store's read of whole entries each ran a ``BatchGetItem`` loop of their own over the private backoff
``_pause_if``; they use ``core.storage.dynamodb_batch.batch_get`` now (100 keys a request, the
unprocessed keys sent again after its backoff). moto never answers ``UnprocessedKeys``: a client that
leaves every request's keys but the first unprocessed, as throttled DynamoDB does, stands in front of
it. Every item is still read, through the shared backoff.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from core.storage import dynamodb_batch
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.storage.dynamodb_sync_state import DynamoDBSyncStateStore
from core.suppression import SuppressionEntry
from core.sync_state import PushedState
from tests.integration.conftest import TABLE, RequestLog

AT = datetime(2026, 3, 1, tzinfo=UTC)


class Unprocessing:
    """A DynamoDB client whose ``BatchGetItem`` processes only the first key of a request and answers
    the others as ``UnprocessedKeys``; every other call goes to the client behind it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.unprocessed = 0
        """How many answers left keys unprocessed."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's name)
        ((table, entry),) = RequestItems.items()
        keys = entry["Keys"]
        if len(keys) == 1:
            answer: dict[str, Any] = self._client.batch_get_item(RequestItems=RequestItems)
            return answer
        answer = self._client.batch_get_item(RequestItems={table: {**entry, "Keys": keys[:1]}})
        answer["UnprocessedKeys"] = {table: {**entry, "Keys": keys[1:]}}
        self.unprocessed += 1
        return answer


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The shared backoff's calls with something left unprocessed (no sleep)."""
    seen: list[int] = []

    def pause_if(unprocessed: Any, attempt: int) -> int:
        if not unprocessed:
            return attempt
        seen.append(attempt)
        return attempt + 1

    monkeypatch.setattr(dynamodb_batch, "_pause_if", pause_if)
    return seen


def test_suppressed_reads_every_entry_through_the_shared_backoff(
    dynamo: tuple[DynamoDBProfileStore, RequestLog], pauses: list[int]
) -> None:
    # GIVEN 120 suppressed hashes of 150 asked (two requests' worth of keys)
    store, _ = dynamo
    client = store._client
    DynamoDBSuppressionStore(client, TABLE).suppress(
        [SuppressionEntry(f"h{n:03}", "email", "req-1", AT) for n in range(120)]
    )
    throttled = Unprocessing(client)
    # WHEN they are checked through a DynamoDB that leaves keys unprocessed
    found = DynamoDBSuppressionStore(throttled, TABLE).suppressed([f"h{n:03}" for n in range(150)])
    # THEN every suppressed one is found, the unprocessed keys sent again after the shared backoff
    assert found == {f"h{n:03}" for n in range(120)}
    assert throttled.unprocessed > 0
    assert len(pauses) == throttled.unprocessed


def test_the_whole_entries_are_read_through_the_shared_backoff(
    dynamo: tuple[DynamoDBProfileStore, RequestLog], pauses: list[int]
) -> None:
    store, _ = dynamo
    client = store._client
    DynamoDBSuppressionStore(client, TABLE).suppress(
        [SuppressionEntry(f"h{n:03}", "phone", "req-2", AT) for n in range(5)]
    )
    throttled = Unprocessing(client)
    items = DynamoDBSuppressionStore(throttled, TABLE)._read_items([f"h{n:03}" for n in range(8)])
    assert sorted(items) == [f"h{n:03}" for n in range(5)]
    assert all(item["erasure"]["S"] == "req-2" for item in items.values())
    assert len(pauses) == throttled.unprocessed == 7


def test_get_pushed_reads_every_state_through_the_shared_backoff(
    dynamo: tuple[DynamoDBProfileStore, RequestLog], pauses: list[int]
) -> None:
    # GIVEN 130 customers pushed to HubSpot, 10 of them asked twice, and 5 never pushed
    store, _ = dynamo
    client = store._client
    states = [PushedState(f"c{n:03}", "hubspot", f"hash{n}", f"r{n}", AT) for n in range(130)]
    DynamoDBSyncStateStore(client, TABLE).put_pushed(states)
    throttled = Unprocessing(client)
    asked = [f"c{n:03}" for n in range(135)] + [f"c{n:03}" for n in range(10)]
    # WHEN they are read through a DynamoDB that leaves keys unprocessed
    found = DynamoDBSyncStateStore(throttled, TABLE).get_pushed("hubspot", asked)
    # THEN each pushed one is read whole, once
    assert found == {s.customer_id: s for s in states}
    assert len(pauses) == throttled.unprocessed > 0
