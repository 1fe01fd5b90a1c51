"""attack11: ``resolve`` run a second time on the same store with the same records, in another order
and at another batch size, writes nothing and changes nothing, on the in-memory, SQLite and DynamoDB
(moto) stores, with exact and probabilistic identity.

"Nothing changed" is read from outside the store's code where it can be: every row of the SQLite file
(``iterdump`` through a connection of its own), every item of the DynamoDB table (a scan), and the
in-memory store's count of applied operations. The report must say so too: every record normalised
is unchanged, no customer is new, none merged.
"""

from __future__ import annotations

import os
import random
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.jsonl import draft_from_flat
from core.pipeline import IngestSettings
from core.testing.population import population
from profilesync.resolve import ResolveReport, resolve
from tests.integration.identity_attack_records import product_linkage
from tests.integration.store_port.conftest import KITS, StoreKit

pytestmark = pytest.mark.slow


def _state(kit: StoreKit, folder: Path) -> Any:
    """Everything the store holds, read from outside its code where possible."""
    if kit.name == "sqlite":
        with sqlite3.connect(folder / "port.sqlite3") as connection:
            return sorted(connection.iterdump())
    if kit.name == "dynamodb":
        client, table = kit.profiles._client, kit.profiles.table_name
        items, start = [], None
        while True:
            page = client.scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
            items += page["Items"]
            start = page.get("LastEvaluatedKey")
            if not start:
                return sorted(items, key=repr)
    # memory: its commits and its index writes (the index is the LinkIndex half of the same store)
    return kit.profiles.writes, kit.profiles.index_writes


def _run(kit: StoreKit, flats: list[dict[str, Any]], batch: int, linked: bool) -> ResolveReport:
    ingest = IngestSettings(linkage=product_linkage()) if linked else None
    return resolve((draft_from_flat(dict(f)) for f in flats), kit.profiles, settings=ingest, batch_size=batch)


@pytest.mark.parametrize("store", sorted(KITS))
@settings(
    max_examples=int(os.environ.get("ATTACK11_EXAMPLES", "6")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    people=st.integers(1, 30),
    seed=st.integers(0, 2**16),
    order=st.randoms(use_true_random=False),
    batches=st.tuples(st.sampled_from([1, 4, 50, 20_000]), st.sampled_from([1, 3, 20_000])),
    linked=st.booleans(),
)
def test_a_second_resolve_of_the_same_records_writes_nothing(
    tmp_path_factory: pytest.TempPathFactory,
    store: str,
    people: int,
    seed: int,
    order: random.Random,
    batches: tuple[int, int],
    linked: bool,
) -> None:
    folder = tmp_path_factory.mktemp("twice")
    flats = [flat for _, flat in population(people, seed)]
    with contextmanager(KITS[store])(folder) as kit:
        # GIVEN a generated population (malformed records among them) resolved once
        first = _run(kit, flats, batches[0], linked)
        assert first.ingest.new_customers > 0
        before = _state(kit, folder)
        # WHEN the same records are resolved again, shuffled, at another batch size
        order.shuffle(flats)
        again = _run(kit, flats, batches[1], linked)
        # THEN the second run reads and quarantines the same, finds every record unchanged
        assert (again.read, again.normalised, again.quarantined) == (
            first.read,
            first.normalised,
            first.quarantined,
        )
        assert again.ingest.unchanged + again.ingest.stale == again.normalised
        assert (again.ingest.written, again.ingest.new_customers, again.ingest.merged_customers) == (0, 0, 0)
        # AND the store holds exactly what it held
        assert _state(kit, folder) == before
