"""``resolve`` writes the same bytes on the in-memory, SQLite and DynamoDB stores, for generated
populations in any order and batch size.

The SQLite store is run as ``profilesync resolve`` runs it (a file of its own, not durable, its
commits grouped, its output written straight from the stored JSON); the other two through
``write_profiles``. Malformed records are in the populations, so the quarantine is compared too.
"""

from __future__ import annotations

import io
import json
import random
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.jsonl import draft_from_flat
from core.schema import Quarantined, RecordDraft
from core.storage.memory import InMemoryProfileStore
from core.storage.sqlite import SQLiteProfileStore
from core.storage.sqlite_database import SQLiteDatabase
from core.testing.population import population
from profilesync.resolve import resolve, write_documents, write_profiles, write_quarantine_line
from tests.integration.store_port.conftest import KITS


def _drafts(flats: list[dict[str, Any]]) -> list[RecordDraft | Quarantined]:
    return [draft_from_flat(flat) for flat in flats]


def _run(store: Any, flats: list[dict[str, Any]], batch: int) -> tuple[str, str]:
    quarantine = io.StringIO()
    resolve(
        iter(_drafts(flats)),
        store,
        batch_size=batch,
        quarantine=lambda q: write_quarantine_line(q, quarantine),
    )
    out = io.StringIO()
    documents = getattr(store, "profile_documents", None)
    if documents is not None:
        write_documents(documents(), out)
    else:
        write_profiles(store.iter_profiles(), out)
    return out.getvalue(), quarantine.getvalue()


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    people=st.integers(1, 25),
    seed=st.integers(0, 2**16),
    order=st.randoms(use_true_random=False),
    batch=st.sampled_from([1, 3, 7, 50]),
)
def test_resolve_writes_the_same_profiles_and_quarantine_on_every_store(
    tmp_path_factory: Any, people: int, seed: int, order: random.Random, batch: int
) -> None:
    # GIVEN a generated population (malformed records among them) in a shuffled order
    flats = [flat for _, flat in population(people, seed)]
    order.shuffle(flats)
    # WHEN it is resolved in batches on the in-memory store, on SQLite as the CLI runs it, and on
    # DynamoDB (moto)
    reference = _run(InMemoryProfileStore(), flats, batch)
    folder: Path = tmp_path_factory.mktemp("resolve")
    with (
        SQLiteDatabase(folder / "run.sqlite3", durable=False) as database,
        database.grouped_commits(seconds=0.01),
    ):
        embedded = _run(SQLiteProfileStore(database), flats, batch)
    with contextmanager(KITS["dynamodb"])(folder) as kit:
        dynamodb = _run(kit.profiles, flats, batch)
    # THEN the three write the same bytes, profiles and quarantine alike
    assert embedded == reference
    assert dynamodb == reference
    lines = [json.loads(line) for line in reference[0].splitlines()]
    assert len({line["customer_id"] for line in lines}) == len(lines) <= people
