"""The DynamoDB ``HistoryStore``: a customer's history in the customer's own partition.

| PK             | SK                                  | attributes                              |
| -------------- | ----------------------------------- | --------------------------------------- |
| CUSTOMER#<cid> | HISTORY#<at, fixed width>#<event id> | data (the event as JSON), kind, at      |
| NAMED#<hash>   | <cid>                               | (none)                                  |

``NAMED#`` items index the names the events hold (core.governance.history_names): the history of
``<cid>`` may name the value or record whose hash is ``<hash>``. They are written before the events
(``DynamoDBProfileStore.commit`` puts those of a commit's ``PutHistory`` operations first, outside
its transactions, which keep their size), so an event is never without its item.

``HISTORY#`` sorts before ``PROFILE``, ``PUSHED#`` and ``SOURCE#``, so a read of the profile and
its sources (``SK >= "PROFILE"``, core.storage.dynamodb_reads) never reads the history, however long
it grows; ingest's own read of a customer (``DynamoDBProfileStore._read_customer``) starts there too.

Appending is a put of a deterministic key, so a replayed event overwrites itself with the same
content. For a change and its event to commit together, ingest puts ``history_item(event)`` in the
change's own transaction (the ``PutHistory`` operation); ``append_history`` is for events written on
their own (a review decision). Like core.storage.dynamodb, the client is injected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.governance.history import HistoryEvent, HistoryPage, check_page_size, inherit_in_pages
from core.governance.history_names import NAMED_PAGE, NamedPage, index_pairs, named_pk
from core.storage.dynamodb import customer_pk
from core.storage.dynamodb_batch import batch_delete, batch_put
from core.storage.dynamodb_reads import table_call

HISTORY_PREFIX = "HISTORY#"
Item = dict[str, dict[str, Any]]


def history_sk(sort_key: str) -> str:
    return HISTORY_PREFIX + sort_key


def history_item(event: HistoryEvent, partition: str | None = None) -> Item:
    """The item of ``event`` under ``partition`` (its own customer unless inherited by another)."""
    return {
        "PK": {"S": customer_pk(partition or event.customer_id)},
        "SK": {"S": history_sk(event.sort_key)},
        "kind": {"S": event.kind},
        "at": {"S": event.at.isoformat()},
        "data": {"S": event.model_dump_json()},
    }


def named_items(events: Sequence[tuple[str, HistoryEvent]]) -> list[Item]:
    """The index items of ``events`` stored under those customers (core.governance.history_names)."""
    return [{"PK": {"S": pk}, "SK": {"S": customer}} for pk, customer in sorted(index_pairs(events))]


class DynamoDBHistoryStore:
    """``HistoryStore`` over the profile table."""

    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self.table_name = table_name

    def append_history(self, events: Sequence[HistoryEvent]) -> None:
        self.put_named([(e.customer_id, e) for e in events])
        self._put([history_item(e) for e in events])

    def put_named(self, events: Sequence[tuple[str, HistoryEvent]]) -> None:
        """Write the index items of ``events`` (customer, event): before the events themselves."""
        self._put(named_items(events))

    def histories_naming(self, name: str, *, after: str | None = None, limit: int = NAMED_PAGE) -> NamedPage:
        limit = max(1, limit)
        values: dict[str, Any] = {":pk": {"S": named_pk(name)}}
        condition = "PK = :pk"
        if after is not None:
            condition += " AND SK > :after"
            values[":after"] = {"S": after}
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ProjectionExpression": "SK",
            "Limit": limit + 1,
            "ConsistentRead": True,  # an item written a moment ago (a commit just before an erasure)
        }
        customers: list[str] = []
        while len(customers) <= limit:
            page = self._call("query", **kwargs)
            customers.extend(i["SK"]["S"] for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            kwargs["Limit"] = limit + 1 - len(customers)
        more = len(customers) > limit
        found = tuple(customers[:limit])
        return NamedPage(found, found[-1] if more and found else None)

    def forget_named(self, pairs: Sequence[tuple[str, str]]) -> None:
        keys = [{"PK": {"S": named_pk(name)}, "SK": {"S": customer}} for name, customer in sorted(set(pairs))]
        batch_delete(self._client, self.table_name, keys, self._call)

    def list_history(
        self, customer_id: str, *, limit: int = 50, after: str | None = None, newest_first: bool = True
    ) -> HistoryPage:
        limit = check_page_size(limit)
        pk = customer_pk(customer_id)
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :h)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":h": {"S": HISTORY_PREFIX}},
            "ProjectionExpression": "#d",
            "ExpressionAttributeNames": {"#d": "data"},
            "ScanIndexForward": not newest_first,
            # One more than asked: whether a next page exists is then known without another read.
            "Limit": limit + 1,
            # What an erasure reads and redacts, and what a backfill reads again after its write:
            # an event written or redacted a moment ago is read as it is now.
            "ConsistentRead": True,
        }
        if after is not None:
            kwargs["ExclusiveStartKey"] = {"PK": {"S": pk}, "SK": {"S": history_sk(after)}}
        events: list[HistoryEvent] = []
        while len(events) <= limit:
            page = self._call("query", **kwargs)
            events.extend(HistoryEvent.model_validate_json(i["data"]["S"]) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            kwargs["Limit"] = limit + 1 - len(events)
        more = len(events) > limit
        events = events[:limit]
        return HistoryPage(tuple(events), events[-1].sort_key if more and events else None)

    def inherit_history(self, absorbed: str, survivor: str) -> int:
        def write(events: Sequence[HistoryEvent]) -> None:
            self.put_named([(survivor, e) for e in events])
            self._put([history_item(e, survivor) for e in events])

        return inherit_in_pages(self, absorbed, write, page=100)

    def _put(self, items: list[Item]) -> None:
        batch_put(self._client, self.table_name, items, self._call)

    def _call(self, method: str, **kwargs: Any) -> dict[str, Any]:
        return table_call(self._client, self.table_name, method, **kwargs)


__all__ = ["HISTORY_PREFIX", "DynamoDBHistoryStore", "history_item", "history_sk", "named_items"]
