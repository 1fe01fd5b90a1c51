"""The three stores behind one fixture, so that one suite of port tests runs against each of them.

``kit`` is parametrised over ``memory`` (core.storage.memory), ``sqlite`` (core.storage.sqlite, on a
file in the test's folder) and ``dynamodb`` (core.storage.dynamodb on moto, the table built from
template.yaml). A test that takes ``kit`` runs three times; one that takes ``durable_kit`` runs on
the two stores with items (SQLite and DynamoDB), for the ports the in-memory fake does not have.

To add a store port (a ``SuppressionStore``, say): add a field to ``StoreKit``, build it in each of
the three ``_*_kit`` functions below, and write its tests against ``kit.<field>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from core.ports import QuarantineEntry
from core.privacy import ErasureStore
from core.storage.dynamodb import DynamoDBProfileStore, DynamoDBSyncStateStore
from core.storage.dynamodb_privacy import DynamoDBErasureStore
from core.storage.dynamodb_suppression import DynamoDBSuppressionStore
from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.storage.memory_privacy import InMemorySuppressionStore
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_privacy import SQLiteErasureStore, SQLiteSuppressionStore
from core.storage.sqlite_sync import SQLiteSyncStateStore
from core.suppression import SuppressionStore
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.local import model_moto_costs
from profilesync.template import create_table

TABLE = "profilesync-port-test"


@dataclass
class StoreKit:
    """One backend's stores, and what the tests need to look inside them."""

    name: str
    profiles: Any  # ProfileStore + ReadsProfiles + iter_profiles + ident_owners
    sync_state: Any  # SyncStateStore
    erasure: ErasureStore | None
    quarantined: Callable[[str], list[QuarantineEntry]]
    with_limit: Callable[[int], Any]
    """The same backend's profile store with another ``max_items_per_commit`` (same data)."""
    suppression: SuppressionStore | None = None
    """The backend's suppression entries, kept where the profile store's commits check them."""


def _memory_kit(_: Path) -> Iterator[StoreKit]:
    profiles = InMemoryProfileStore()
    state = InMemorySyncStateStore()

    def with_limit(limit: int) -> InMemoryProfileStore:
        profiles.max_items_per_commit = limit
        return profiles

    def quarantined(connector: str) -> list[QuarantineEntry]:
        return sorted((q for q in state.quarantined if q.connector == connector), key=lambda q: q.at)

    suppression = InMemorySuppressionStore(profiles)
    yield StoreKit("memory", profiles, state, None, quarantined, with_limit, suppression)


def _sqlite_kit(folder: Path) -> Iterator[StoreKit]:
    database = SQLiteDatabase(folder / "port.sqlite3")
    state = SQLiteSyncStateStore(database)
    try:
        yield StoreKit(
            "sqlite",
            SQLiteProfileStore(database),
            state,
            SQLiteErasureStore(database),
            state.quarantined,
            lambda limit: SQLiteProfileStore(database, max_items_per_commit=limit),
            SQLiteSuppressionStore(database),
        )
    finally:
        database.close()


def _dynamodb_kit(_: Path) -> Iterator[StoreKit]:
    model_aws_semantics()
    # moto answers a Query of one customer by sorting the whole table through DynamoType
    # comparisons; this reads only the partition it names, with moto's own results
    # (profilesync.local_moto, tests/unit/test_moto_patches.py).
    model_moto_costs()
    with mock_aws():
        client = dynamodb_client()
        create_table(client, TABLE)
        state = DynamoDBSyncStateStore(client, TABLE)
        yield StoreKit(
            "dynamodb",
            DynamoDBProfileStore(client, TABLE, read_workers=1),
            state,
            DynamoDBErasureStore(client, TABLE),
            state.quarantined,
            lambda limit: DynamoDBProfileStore(client, TABLE, read_workers=1, max_items_per_commit=limit),
            DynamoDBSuppressionStore(client, TABLE),
        )


KITS: dict[str, Callable[[Path], Iterator[StoreKit]]] = {
    "memory": _memory_kit,
    "sqlite": _sqlite_kit,
    "dynamodb": _dynamodb_kit,
}


@pytest.fixture(params=sorted(KITS))
def kit(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreKit]:
    yield from KITS[request.param](tmp_path)


@pytest.fixture(params=["dynamodb", "sqlite"])
def durable_kit(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreKit]:
    yield from KITS[request.param](tmp_path)
