"""The DynamoDB ``HistoryStore``: a customer's history in the customer's own partition.

| PK             | SK                                  | attributes                              |
| -------------- | ----------------------------------- | --------------------------------------- |
| CUSTOMER#<cid> | HISTORY#<at, fixed width>#<event id> | data (the event as JSON), kind, at      |
| NAMED#<hash>   | <cid>                               | (none)                                  |

``NAMED#`` items index the names the events hold (core.governance.history_names): the history of
``<cid>`` may name the value or record whose hash is ``<hash>``, the keyed hash of the name with the
table's audit salt (core.key_hashing: the stream carries the keys an erasure deletes). A table the
previous release wrote holds them under the unkeyed hash until ``profilesync migrate
rekey-identifiers`` marks it (core.storage.index_rekey): until then a read of a name's customers
reads both keys and a forgetting deletes both; new items go under the keyed hash only. They are
written before the events (``DynamoDBProfileStore.commit`` puts those of a commit's ``PutHistory``
operations first, outside its transactions, which keep their size), so an event is never without
its item.

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
from core.storage.ident_keys import DEFAULT_IDENT_SALT, Salt
from core.storage.ident_rekey import IdentLayout

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


def named_items(events: Sequence[tuple[str, HistoryEvent]], salt: str = DEFAULT_IDENT_SALT) -> list[Item]:
    """The index items of ``events`` stored under those customers (core.governance.history_names),
    keyed with ``salt``."""
    return [{"PK": {"S": pk}, "SK": {"S": customer}} for pk, customer in sorted(index_pairs(events, salt))]


class DynamoDBHistoryStore:
    """``HistoryStore`` over the profile table. ``salt``: the deployment's audit salt, which keys the
    ``NAMED#`` items (or ``layout``, the table's profile store's, which holds it and knows whether
    the table still holds items under the unkeyed hash)."""

    def __init__(
        self,
        client: Any,
        table_name: str,
        *,
        salt: Salt = DEFAULT_IDENT_SALT,
        layout: IdentLayout | None = None,
    ) -> None:
        self._client = client
        self.table_name = table_name
        self._layout = layout or IdentLayout(self._call, table_name, salt)

    def named_pks(self, name: str) -> list[str]:
        """The partition keys of ``name``'s index items: its keyed hash, and, until the table is
        marked, its unkeyed hash (an item the previous release wrote)."""
        keyed = named_pk(name, self._layout.salt)
        return [keyed] if self._layout.index_keyed() else [keyed, named_pk(name)]

    def append_history(self, events: Sequence[HistoryEvent]) -> None:
        self.put_named([(e.customer_id, e) for e in events])
        self._put([history_item(e) for e in events])

    def put_named(self, events: Sequence[tuple[str, HistoryEvent]]) -> None:
        """Write the index items of ``events`` (customer, event): before the events themselves."""
        self._put(named_items(events, self._layout.salt))

    def histories_naming(self, name: str, *, after: str | None = None, limit: int = NAMED_PAGE) -> NamedPage:
        pks = self.named_pks(name)
        if len(pks) == 1:
            return self._naming(pks[0], after, limit)
        # Both keys while the table is upgraded: the customers of either, in order, a page at most.
        pages = [self._naming(pk, after, limit) for pk in pks]
        merged = sorted({c for page in pages for c in page.customers})
        # A customer past a page that was cut is not known to be the next: cut the merge there.
        cut = min((page.customers[-1] for page in pages if page.next is not None), default=None)
        if cut is not None:
            merged = [c for c in merged if c <= cut]
        found = tuple(merged[: max(1, limit)])
        more = cut is not None or len(merged) > len(found)
        return NamedPage(found, found[-1] if more and found else None)

    def _naming(self, pk: str, after: str | None, limit: int) -> NamedPage:
        limit = max(1, limit)
        values: dict[str, Any] = {":pk": {"S": pk}}
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
        keys = [
            {"PK": {"S": pk}, "SK": {"S": customer}}
            for name, customer in sorted(set(pairs))
            for pk in self.named_pks(name)
        ]
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
