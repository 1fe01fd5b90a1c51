"""attack5: an erasure running while another process ingests the person's new records, for real (two
threads; on SQLite two connections to one file, as two processes have; on DynamoDB (moto) one
table). Ann's records keep arriving, each holding her address and phone, with Bob's beside them;
Ann is erased by her address at a random moment of the run. Whatever the interleaving, when both
are done nothing of Ann is left (no owner for her records or values, no item naming her outside the
erasure's bookkeeping) and Bob is one customer holding every one of his records."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType

import pytest

from core.identity import IdentityPolicy
from core.pipeline import IngestSettings, ingest
from core.privacy import identifier_for
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_privacy import SQLiteErasureStore, SQLiteSuppressionStore
from core.storage.sqlite_sync import SQLiteSyncStateStore
from core.suppression import SuppressionCheck
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import BOOKKEEPING, SALT, Stores, dynamodb_stores, sqlite_stores

POLICY = IdentityPolicy(max_records_per_identifier=MappingProxyType({"email": 50, "phone": 50}))
ROUNDS = 12
SEEDS = int(os.environ.get("ATTACK5_SEEDS", "3"))


@contextmanager
def two_processes(store: str) -> Iterator[tuple[Stores, Stores]]:
    """The stores as the ingesting process and the erasing one see them."""
    if store == "dynamodb":
        with dynamodb_stores() as stores:
            yield stores, stores
        return
    with sqlite_stores() as first:
        path = Path(first.profiles.database.path)
        with SQLiteDatabase(path) as database:
            second = Stores(
                SQLiteProfileStore(database),
                SQLiteSyncStateStore(database),
                SQLiteErasureStore(database),
                SQLiteSuppressionStore(database),
                first.rows,
            )
            yield first, second


@pytest.mark.parametrize("seed", range(SEEDS))
@pytest.mark.parametrize("store", ["sqlite", "dynamodb"])
def test_an_erasure_racing_the_ingest_of_new_records_leaves_nothing_of_her(store: str, seed: int) -> None:
    rng = random.Random(seed)
    errors: list[BaseException] = []
    with two_processes(store) as (ingesting, erasing):
        settings = IngestSettings(
            policy=POLICY, sleep=lambda _: None, suppression=SuppressionCheck(ingesting.suppression, SALT)
        )
        ingest([make_record("hubspot", "ann-0", email="ann@example.com")], ingesting.profiles, settings)
        pauses = [rng.uniform(0, 0.01) for _ in range(ROUNDS)]

        def pull() -> None:
            try:
                for n in range(1, ROUNDS + 1):
                    batch = [
                        make_record("shop", f"ann-{n}", email="ann@example.com", phone="+14155550111", day=n),
                        make_record("hubspot", "ann-0", email="ann@example.com", day=n),
                        make_record("shop", f"bob-{n}", email="bob@example.com", day=n),
                    ]
                    ingest(rng.sample(batch, len(batch)), ingesting.profiles, settings)
                    time.sleep(pauses[n - 1])
            except BaseException as error:  # reported below
                errors.append(error)

        def erase() -> None:
            try:
                time.sleep(rng.uniform(0, 0.05))
                erasing.erase(identifier_for(email="ann@example.com"), "req-ann", POLICY)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=pull), threading.Thread(target=erase)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        anns = [
            "source#hubspot:contact:ann-0",
            *(f"source#shop:contact:ann-{n}" for n in range(1, ROUNDS + 1)),
        ]
        assert ingesting.profiles.get_owners([*anns, "email#ann@example.com", "phone#+14155550111"]) == {}
        left = [
            r
            for r in ingesting.rows()
            if not r[0].startswith(BOOKKEEPING) and "ann" in f"{r[0]} {r[1]} {r[2]}"
        ]
        assert left == []
        bobs = ingesting.profiles.get_owners([f"source#shop:contact:bob-{n}" for n in range(1, ROUNDS + 1)])
        assert len(bobs) == ROUNDS
        assert len({o.customer_id for o in bobs.values()}) == 1
