"""The governance ports, once per store: in-memory, the embedded SQLite one, and DynamoDB on moto.
Every test that takes ``stores`` runs against each of them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from core.governance.history import HistoryStore
from core.governance.reading import ProfileReader, ReadAudit, StoreProfileReader
from core.ports import ProfileStore
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.dynamodb_history import DynamoDBHistoryStore
from core.storage.dynamodb_reads import DynamoDBProfileReader, DynamoDBReadAudit
from core.storage.ident_keys import mark_new_table
from core.storage.memory import InMemoryProfileStore
from core.storage.memory_reads import InMemoryReadAudit
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import IN_MEMORY, SQLiteDatabase
from core.storage.sqlite_history import SQLiteHistoryStore, SQLiteReadAudit
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table
from tests.integration.conftest import TABLE, RequestLog

STORES = ["memory", "sqlite", "dynamodb"]


@dataclass
class Stores:
    """One store of each port, over the same data."""

    kind: str
    profiles: ProfileStore
    reader: ProfileReader
    history: HistoryStore
    audit: ReadAudit
    log: RequestLog | None = None
    client: Any = None


@contextmanager
def _dynamodb_stores() -> Iterator[Stores]:
    model_aws_semantics()
    with mock_aws():
        client = dynamodb_client()
        create_table(client, TABLE)
        mark_new_table(client, TABLE)  # made by this version: the reads below are the steady state's
        log = RequestLog()
        log.attach(client)
        yield Stores(
            "dynamodb",
            DynamoDBProfileStore(client, TABLE, read_workers=1),
            DynamoDBProfileReader(client, TABLE),
            DynamoDBHistoryStore(client, TABLE),
            DynamoDBReadAudit(client, TABLE),
            log,
            client,
        )


@pytest.fixture(params=STORES)
def stores(request: pytest.FixtureRequest) -> Iterator[Stores]:
    """Each store in turn."""
    if request.param == "memory":
        memory = InMemoryProfileStore()
        reader = StoreProfileReader(memory)
        # The history ingest writes (PutHistory) is the store's own, as in the two with items.
        yield Stores("memory", memory, reader, memory.history, InMemoryReadAudit())
        return
    if request.param == "sqlite":
        with SQLiteDatabase(IN_MEMORY) as database:
            embedded = SQLiteProfileStore(database)
            reader = StoreProfileReader(embedded)
            yield Stores("sqlite", embedded, reader, SQLiteHistoryStore(database), SQLiteReadAudit(database))
        return
    with _dynamodb_stores() as built:
        yield built


@pytest.fixture
def dynamodb_stores() -> Iterator[Stores]:
    """DynamoDB only, with its request log: for what requests cost."""
    with _dynamodb_stores() as built:
        yield built
