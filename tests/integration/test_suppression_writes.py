"""DynamoDBSuppressionStore.suppress: the requests an erasure's entries cost, and what they leave.

A fuzzy entry used to be read with ``GetItem`` and written with a conditional ``PutItem``, one pair
per entry: an erasure of a person with many records cost two requests per look-up key. Now the
keys are read with ``BatchGetItem`` (100 a request, unprocessed keys sent again) and written in
conditional ``TransactWriteItems`` of at most 24 and the erasure epoch's bump; the exact entries go
in ``TransactWriteItems`` of 24 and the bump too (left31: before, by ``BatchWriteItem``, 25 a
request, between two bumps of their own). What is stored is what the in-memory fake, the port's
reference, holds for the same writes, including a namesake's fingerprints already under a shared
key and another erasure writing one between the read and the write.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from moto import mock_aws

from core.identity import IdentityPolicy
from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionEntry, keyed_hash
from core.suppression_fuzzy import fingerprint_entries
from core.testing.records import make_record
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)
SALT = "writes-salt"
FIRST = ["Hana", "Ola", "Ida", "Per", "Eva", "Nils", "Maja", "Lars", "Sara", "Jonas"]
LAST = ["Sato", "Berg", "Lund", "Ek", "Holm", "Dahl"]


def _records(erasure: str, n: int, shift: int = 0) -> list[SuppressionEntry]:
    records = [
        make_record(
            "crm",
            f"{erasure}-{i}",
            email=f"p{i}.{erasure}@example.com",
            traits={
                "first_name": FIRST[(i + shift) % len(FIRST)],
                "last_name": LAST[(i // len(FIRST)) % len(LAST)],
                "date_of_birth": f"19{60 + i % 40}-0{1 + i % 9}-1{i % 9}",
                "address": f"{i + 1} Mill Lane",
                "postcode": "M4 5JD",
            },
        )
        for i in range(n)
    ]
    fuzzy = fingerprint_entries(records, IdentityPolicy(), SALT, erasure, AT)
    exact = [
        SuppressionEntry(keyed_hash(SALT, f"email#{r.source_id}"), "email", erasure, AT) for r in records
    ]
    return [*exact, *fuzzy]


@pytest.fixture
def client() -> Iterator[Any]:
    model_aws_semantics()
    with mock_aws():
        made = dynamodb_client()
        create_table(made, "writes")
        yield made


def _counting(client: Any) -> Counter[str]:
    calls: Counter[str] = Counter()
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    return calls


def _same_as_the_fake(store: DynamoDBSuppressionStore, fake: InMemorySuppressionStore) -> None:
    hashes = fake.hashes()
    assert store.suppressed(sorted(hashes)) == hashes
    assert {h: store.entry(h) for h in hashes} == {h: fake.entry(h) for h in hashes}


def test_an_erasure_of_many_records_costs_a_few_batched_requests(client: Any) -> None:
    store, fake = DynamoDBSuppressionStore(client, "writes"), InMemorySuppressionStore()
    entries = _records("req-1", 60)
    fuzzy = {e.hash for e in entries if e.kind == "fuzzy"}
    assert len(fuzzy) > 100, "more look-up keys than one BatchGetItem reads"
    calls = _counting(client)
    store.suppress(entries)
    fake.suppress(entries)
    # before: a GetItem and a PutItem per fuzzy key (2 x 120 and more)
    exact = {e.hash for e in entries if e.kind != "fuzzy"}
    assert calls == {
        "UpdateItem": 1,  # the ENTRIES item
        "BatchGetItem": 2,  # the fuzzy keys, 100 a request
        # 24 entries and the epoch's bump a transaction, exact ones and fuzzy ones (left31: the exact
        # ones by BatchWriteItem, 25 a request, between two bumps of their own)
        "TransactWriteItems": -(-len(exact) // 24) + -(-len(fuzzy) // 24),
    }
    _same_as_the_fake(store, fake)


def test_a_namesake_already_filed_keeps_hers_beside_the_new_erasure(client: Any) -> None:
    store, fake = DynamoDBSuppressionStore(client, "writes"), InMemorySuppressionStore()
    earlier, later = _records("req-1", 12), _records("req-2", 12, shift=0)
    for entries in (earlier, later, later):  # the later erasure sent twice: idempotent
        store.suppress(entries)
        fake.suppress(entries)
    _same_as_the_fake(store, fake)


def test_another_erasure_writing_a_key_between_the_read_and_the_write(client: Any) -> None:
    store, fake = DynamoDBSuppressionStore(client, "writes"), InMemorySuppressionStore()
    other = DynamoDBSuppressionStore(dynamodb_client(), "writes")
    mine, theirs = _records("req-1", 8), _records("req-2", 8)
    raced: list[bool] = []

    def race(**_: Any) -> None:
        if not raced:  # the namesakes' erasure lands after our read, before our transaction
            raced.append(True)
            other.suppress(theirs)
            fake.suppress(theirs)

    client.meta.events.register("before-call.dynamodb.TransactWriteItems", race)
    store.suppress(mine)
    fake.suppress(mine)
    assert raced
    _same_as_the_fake(store, fake)


class _Unprocessing:
    """The client, answering each ``BatchGetItem`` of more than one key with its last key left
    unprocessed (as DynamoDB does under throttling)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.left = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:  # noqa: N803 (boto3's)
        (table, request), *_ = RequestItems.items()
        keys = request["Keys"]
        if len(keys) < 2:
            return self._client.batch_get_item(RequestItems=RequestItems)  # type: ignore[no-any-return]
        self.left += 1
        answer = self._client.batch_get_item(RequestItems={table: {**request, "Keys": keys[:-1]}})
        return {**answer, "UnprocessedKeys": {table: {**request, "Keys": keys[-1:]}}}


def test_unprocessed_keys_are_read_again(client: Any) -> None:
    fake = InMemorySuppressionStore()
    first = _records("req-1", 6)
    DynamoDBSuppressionStore(client, "writes").suppress(first)
    fake.suppress(first)
    unprocessing = _Unprocessing(client)
    store = DynamoDBSuppressionStore(unprocessing, "writes")
    again = _records("req-2", 6)
    store.suppress(again)
    fake.suppress(again)
    assert unprocessing.left >= 1
    _same_as_the_fake(DynamoDBSuppressionStore(client, "writes"), fake)
