"""DynamoDBSuppressionStore's writes against DynamoDB's answers moto does not give (revA22 findings 4, 5).

* A single-item write on an item another writer's ``TransactWriteItems`` holds in flight is refused
  with ``TransactionConflictException``, which botocore does not retry
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html,
  "Transaction conflict handling"): the per-key fuzzy write and lift's delete back off and try again.
* A transaction holds at most 4 MB (the aggregate size of its items, as DynamoDB sizes an item:
  attribute names and values, UTF-8), and a fuzzy entry up to 384 KB of fingerprints: the fuzzy puts
  are cut by summed size as well as by count. moto enforces neither; the transactions' sizes are
  measured as DynamoDB counts them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionEntry
from core.suppression_prints import MAX_PRINTS_CHARS
from tests.integration.test_suppression_writes import AT, _records, _same_as_the_fake, client  # noqa: F401

TRANSACTION_MAX_BYTES = 4 * 1024 * 1024


def _conflict(dynamodb: Any, operation: str) -> Exception:
    error: Exception = dynamodb.exceptions.TransactionConflictException(
        {"Error": {"Code": "TransactionConflictException", "Message": "Transaction is ongoing for the item"}},
        operation,
    )
    return error


class _InFlight:
    """Another erasure's transaction on the same keys is in flight: ours on fuzzy keys is cancelled
    (TransactionConflict), and the first single-item write (``operation``) on one of its keys is
    refused with TransactionConflictException."""

    def __init__(self, dynamodb: Any, operation: str) -> None:
        self._client = dynamodb
        self._operation = operation
        self.conflicts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        if not any("ConditionExpression" in a.get("Put", {}) for a in kwargs["TransactItems"]):
            # the exact entries' transaction (left31: with the epoch's bump) holds no fuzzy key
            return self._client.transact_write_items(**kwargs)
        raise self._client.exceptions.TransactionCanceledException(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "[TransactionConflict]"},
                "CancellationReasons": [{"Code": "TransactionConflict"}],
            },
            "TransactWriteItems",
        )

    def _once(self, name: str, **kwargs: Any) -> Any:
        if name == self._operation and self.conflicts == 0:
            self.conflicts += 1
            raise _conflict(self._client, name)
        return getattr(self._client, name)(**kwargs)

    def put_item(self, **kwargs: Any) -> Any:
        return self._once("put_item", **kwargs)

    def delete_item(self, **kwargs: Any) -> Any:
        return self._once("delete_item", **kwargs)


def test_a_fuzzy_write_meeting_a_transaction_in_flight_is_tried_again(client: Any) -> None:  # noqa: F811
    fake = InMemorySuppressionStore()
    in_flight = _InFlight(client, "put_item")
    entries = _records("req-1", 4)
    DynamoDBSuppressionStore(in_flight, "writes").suppress(entries)
    fake.suppress(entries)
    assert in_flight.conflicts == 1
    _same_as_the_fake(DynamoDBSuppressionStore(client, "writes"), fake)


def test_a_lift_meeting_a_transaction_in_flight_is_tried_again(client: Any) -> None:  # noqa: F811
    fake = InMemorySuppressionStore()
    entries = _records("req-1", 4)
    DynamoDBSuppressionStore(client, "writes").suppress(entries)
    fake.suppress(entries)
    in_flight = _InFlight(client, "delete_item")
    exact = next(e.hash for e in entries if e.kind == "email")
    lifted = DynamoDBSuppressionStore(in_flight, "writes").lift(exact)
    assert in_flight.conflicts == 1
    assert sorted(lifted, key=lambda e: e.hash) == sorted(fake.lift(exact), key=lambda e: e.hash)
    assert DynamoDBSuppressionStore(client, "writes").suppressed(sorted(e.hash for e in entries)) == set()


def _value_bytes(value: dict[str, Any]) -> int:
    """An attribute value's size as DynamoDB counts it (the developer guide's "Item sizes")."""
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        digits = Decimal(inner).normalize().as_tuple().digits
        return (len(digits) + 1) // 2 + 1
    if kind == "SS":
        return sum(len(v.encode("utf-8")) for v in inner)
    if kind == "M":
        return 3 + sum(len(k.encode("utf-8")) + _value_bytes(v) + 1 for k, v in inner.items())
    if kind == "L":
        return 3 + sum(_value_bytes(v) + 1 for v in inner)
    return 1  # BOOL, NULL


def _item_bytes(item: dict[str, Any]) -> int:
    return sum(len(name.encode("utf-8")) + _value_bytes(value) for name, value in item.items())


def _full_entry(i: int) -> SuppressionEntry:
    """A fuzzy entry whose fingerprints fill what one entry holds (a person with hundreds of records
    under one name and birth date)."""
    one = {"first_name": f"{i:032x}", "last_name": "b" * 32, "date_of_birth": "c" * 32, "street": "d" * 32}
    prints = [one] * (MAX_PRINTS_CHARS // (len(json.dumps(one, sort_keys=True)) + 2))
    return SuppressionEntry(f"{i:064x}", "fuzzy", "req-big", AT, json.dumps(prints, sort_keys=True))


def test_the_fuzzy_puts_are_cut_by_size_under_the_4_mb_a_transaction_holds(client: Any) -> None:  # noqa: F811
    fake = InMemorySuppressionStore()
    entries = [_full_entry(i) for i in range(20)]  # 20 x ~384 KB: under 25, over 4 MB together
    assert sum(len(e.fingerprint) for e in entries) > TRANSACTION_MAX_BYTES
    sizes: list[int] = []

    def weigh(params: dict[str, Any], **_: Any) -> None:
        # the puts of the entries (each transaction also bumps the erasure epoch: left31)
        puts = [entry["Put"]["Item"] for entry in params["TransactItems"] if "Put" in entry]
        sizes.append(sum(_item_bytes(item) for item in puts))

    client.meta.events.register("provide-client-params.dynamodb.TransactWriteItems", weigh)
    DynamoDBSuppressionStore(client, "writes").suppress(entries)
    fake.suppress(entries)
    assert len(sizes) >= 3, sizes
    assert max(sizes) <= TRANSACTION_MAX_BYTES, sizes
    _same_as_the_fake(DynamoDBSuppressionStore(client, "writes"), fake)
    # and the entries stored whole: one is the full one written
    assert DynamoDBSuppressionStore(client, "writes").entry(entries[0].hash) == entries[0]
