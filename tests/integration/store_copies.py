"""Stores brought to one state once, then put back in it for each case of a sweep (a kill point, the
call a racing writer runs after): the state the cases start from is the same items, read back from
the table, not the same calls made again.

``given_once(store, given)`` runs ``given`` once on the stores of ``STORES[store]`` and yields
``fresh``: each ``with fresh() as stores`` puts every item back as ``given`` left it and yields the
same stores. SQLite copies the database with its backup API; DynamoDB on moto in this process puts
moto's own items back (a deep copy of the table's items as they were: the same items a Scan read,
without a write through moto per item), any other DynamoDB drops and makes the table again and
writes the items back in batches of 25 (what AWS allows). The in-memory store keeps
no items to copy (and builds in milliseconds): each case runs ``given`` on new stores.

The stores themselves hold nothing between calls but their connection (SQLite) or client and
table name (DynamoDB), so the same objects over restored items are stores whose process restarted.
"""

from __future__ import annotations

import copy
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from typing import Any, Protocol

from profilesync.template import create_table
from tests.integration.test_erasure_attacks import STORES, Stores

#: BatchWriteItem's limit on AWS (moto takes 26).
_BATCH = 25

Fresh = Callable[[], AbstractContextManager[Stores]]


@contextmanager
def given_once(store: str, given: Callable[[Stores], None]) -> Iterator[Fresh]:
    """Run ``given`` once on ``store``'s stores; yield ``fresh``, which puts its items back (above)."""
    if store == "memory":
        yield _rebuilt(given)
        return
    with STORES[store]() as stores:
        given(stores)
        restore = store_copy(store, stores.profiles)

        @contextmanager
        def fresh() -> Iterator[Stores]:
            restore()
            yield stores

        yield fresh


def _rebuilt(given: Callable[[Stores], None]) -> Fresh:
    @contextmanager
    def fresh() -> Iterator[Stores]:
        with STORES["memory"]() as stores:
            given(stores)
            yield stores

    return fresh


class Restore(Protocol):
    """Puts the items a store held back: into that store, or ``into`` another profile store of the
    same kind (a new kit's: another database file, or the same table name in a new moto)."""

    def __call__(self, into: Any = None) -> None: ...


def store_copy(store: str, profiles: Any) -> Restore:
    """What puts the items of the SQLite or DynamoDB profile store ``profiles`` (and of every store
    sharing its database or table) back as they are now."""
    return _dynamodb_copy(profiles) if store == "dynamodb" else _sqlite_copy(profiles)


def _sqlite_copy(profiles: Any) -> Restore:
    saved = sqlite3.connect(":memory:")
    with closing(sqlite3.connect(profiles.database.path)) as source:
        source.backup(saved)

    def restore(into: Any = None) -> None:
        with closing(sqlite3.connect((into or profiles).database.path)) as target:
            saved.backup(target)

    return restore


def _dynamodb_copy(profiles: Any) -> Restore:
    client, table = profiles._client, profiles.table_name
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    held = _moto_table(client, table)
    whole = held is not None and sum(len(partition) for partition in held.items.values()) == len(items)
    saved = copy.deepcopy(held.items) if whole else None

    def restore(into: Any = None) -> None:
        target = into or profiles
        client, table = target._client, target.table_name
        now = _moto_table(client, table) if saved is not None else None
        if now is not None:
            now.items = copy.deepcopy(saved)
            return
        client.delete_table(TableName=table)
        create_table(client, table)
        for start in range(0, len(items), _BATCH):
            puts = [{"PutRequest": {"Item": item}} for item in items[start : start + _BATCH]]
            left = client.batch_write_item(RequestItems={table: puts})["UnprocessedItems"]
            assert not left, left  # moto processes every item; AWS would need them sent again

    return restore


def _moto_table(client: Any, table: str) -> Any:
    """moto's own table object of ``table`` when the client talks to moto in this process (mock_aws
    or its threaded server), else None."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    account = os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)
    return dynamodb_backends[account][client.meta.region_name].tables.get(table)
