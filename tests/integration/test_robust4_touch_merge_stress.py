"""robust4: echoes and merges from writers running at once never move a record's time backwards.

Three writers on one embedded file (each its own connection, as processes have), and on moto's
threaded server (each its own client): one brings every record back unchanged with a newer date,
round after round (the echoes of pushes: touches); two ingest records that join the people two by
two, then four by four (merges, which hand the source identifiers over with the times they read).
At the end every source identifier holds its newest echo's time, and a version dated before it is
stale. Not timed, not interleaved by hand (tests/integration/store_port/test_touch_races_merge.py
does that): the writers race as they will, on a population large enough for races to happen.
"""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from core.pipeline import IngestSettings, ingest
from core.schema import SourceRecord
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.testing.records import make_record
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table
from tests.threads import at_once

pytestmark = pytest.mark.slow

PEOPLE = 48
ROUNDS = 6


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(params=["sqlite", "dynamodb"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Any]]:
    """Opens a store of its own on one shared table, for each writer."""
    if request.param == "sqlite":
        path = tmp_path / "stress.sqlite3"
        opened: list[SQLiteDatabase] = [SQLiteDatabase(path)]
        lock = threading.Lock()

        def sqlite() -> SQLiteProfileStore:
            with lock:
                opened.append(SQLiteDatabase(path))
                return SQLiteProfileStore(opened[-1])

        yield sqlite
        for database in opened:
            database.close()
        return
    model_aws_semantics()
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        create_table(dynamodb_client(url), "stress")
        yield lambda: DynamoDBProfileStore(dynamodb_client(url), "stress", read_workers=1)
    finally:
        server.stop()


def _person(n: int, day: int = 1) -> list[SourceRecord]:
    return [
        make_record("crm", f"c{n}", email=f"c{n}@example.com", day=day, traits={"first_name": "Cy"}),
        make_record("shop", f"s{n}", email=f"s{n}@example.com", day=day, traits={"first_name": "Sy"}),
    ]


def test_echoes_racing_merges_leave_every_record_at_its_newest_echo(opener: Callable[[], Any]) -> None:
    # GIVEN 48 people of two customers each (a CRM contact and a shop customer, apart)
    records = [r for n in range(PEOPLE) for r in _person(n)]
    ingest(records, opener())
    settings = IngestSettings(max_attempts=40)

    def echoes() -> None:
        store = opener()
        rng = random.Random(1)
        for round_ in range(1, ROUNDS + 1):
            batch = [
                r.model_copy(update={"updated_at": r.updated_at + timedelta(days=round_)}) for r in records
            ]
            rng.shuffle(batch)
            for start in range(0, len(batch), 8):
                ingest(batch[start : start + 8], store, settings)

    def joins(seed: int, width: int) -> None:
        store = opener()
        rng = random.Random(seed)
        people = list(range(0, PEOPLE, width))
        rng.shuffle(people)
        for n in people:
            emails = [f"{kind}{m}@example.com" for m in range(n, n + width) for kind in "cs"]
            ingest([make_record("pos", f"j{width}-{n}", email=emails, day=1)], store, settings)

    # WHEN one writer echoes every record six times while two others merge the people two by two,
    # then four by four
    errors = at_once(echoes, lambda: joins(2, 2), lambda: joins(3, 4), timeout=600, together=False)
    assert errors == []
    # THEN every source identifier holds its newest echo's time
    store = opener()
    keys = [f"source#{r.key}" for r in records]
    owners = store.get_owners(keys)
    newest = records[0].updated_at + timedelta(days=ROUNDS)
    behind = sorted(k for k in keys if owners[k].updated_at != newest)
    assert behind == []
    # AND a version dated between the first and the last echo, with other content, is stale
    late = [
        r.model_copy(update={"updated_at": r.updated_at + timedelta(days=2), "traits": {"first_name": "Old"}})
        for r in records
    ]
    result = ingest(late, store, settings)
    assert (result.stale, result.written) == (len(records), 0)
