"""grow24: ``DynamoDBProfileStore.get_owners`` under throttling that does not end. DynamoDB answers a
throttled ``BatchGetItem`` with the keys it did not read in ``UnprocessedKeys``; the store re-sends
them with backoff, and gives up after ten such answers in a row with a ``RetryableError`` that says
what happened and what to do, as every other batch read of the store does (it used to ask forever).

On moto, with botocore's own event hooks: every answer to a BatchGetItem is rewritten after the call
to read nothing and leave every key of the request unprocessed."""

from __future__ import annotations

from typing import Any

import pytest

import core.storage.dynamodb_batch
from core.errors import RetryableError
from core.pipeline import IngestSettings, ingest
from core.storage.dynamodb import DynamoDBProfileStore
from tests.conftest import make_record
from tests.integration.conftest import RequestLog

Dynamo = tuple[DynamoDBProfileStore, RequestLog]


class _Throttled:
    """Hooks on a client that leave every key of each BatchGetItem unprocessed, read nothing."""

    def __init__(self, client: Any) -> None:
        self.requests: list[dict[str, Any]] = []
        client.meta.events.register("before-parameter-build.dynamodb.BatchGetItem", self._before)
        client.meta.events.register("after-call.dynamodb.BatchGetItem", self._after)

    def _before(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(params["RequestItems"])

    def _after(self, parsed: dict[str, Any], **_: Any) -> None:
        request = self.requests[-1]
        parsed["Responses"] = {table: [] for table in request}
        parsed["UnprocessedKeys"] = request


def test_owners_give_up_after_ten_unprocessed_answers(
    dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = dynamo
    pauses: list[float] = []
    monkeypatch.setattr(core.storage.dynamodb_batch.time, "sleep", pauses.append)
    ingest([make_record("crm", "1", email="p1@example.com")], store, IngestSettings(sleep=lambda _: None))
    assert set(store.get_owners(["email#p1@example.com"])) == {"email#p1@example.com"}
    # GIVEN a table that leaves every key of every BatchGetItem unprocessed
    throttled = _Throttled(store._client)
    # WHEN the owners of two keys are read
    # THEN the read gives up with a clear RetryableError (it asked forever before)
    with pytest.raises(RetryableError, match=r"left 2 batch item\(s\) unprocessed 11 times.*retry"):
        store.get_owners(["email#p1@example.com", "email#nobody@example.com"])
    # AND it asked eleven times, backing off before each of the ten times it asked again
    assert len(throttled.requests) == 11
    assert len(pauses) == 10
    # AND the tombstone read (the same loop) is bounded the same way
    with pytest.raises(RetryableError, match="unprocessed"):
        store.get_owners_and_tombstones(["email#p1@example.com"])
    assert len(throttled.requests) == 22
