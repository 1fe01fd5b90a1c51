"""Several writers ingesting overlapping records at once, through moto's threaded HTTP server."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from connectors.jsonl import draft_from_flat
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import Profile, SourceRecord
from core.storage.dynamodb import DynamoDBProfileStore
from core.storage.memory import InMemoryProfileStore
from core.testing.invariants import store_problems
from core.testing.population import population
from core.testing.records import make_record
from profilesync.embedded import dynamodb_client
from tests.moto_server import moto_server_url, server_table
from tests.threads import at_once

pytestmark = pytest.mark.slow


@pytest.fixture
def served() -> Iterator[tuple[str, str]]:
    """This process's moto threaded server (tests.moto_server) and a new table on it."""
    with server_table("concurrent") as (_, table):
        yield moto_server_url(), table


def test_concurrent_writers_leave_one_owner_per_identifier_and_lose_no_record(
    served: tuple[str, str],
) -> None:
    server_url, table = served
    # GIVEN 60 people across three tools, and 4 writers each ingesting a shuffled, overlapping share
    pairs = population(60, seed=11, malformed_share=0)
    records: list[tuple[int, SourceRecord]] = []
    for person, flat in pairs:
        outcome = normalise_record(draft_from_flat(flat))
        assert isinstance(outcome, SourceRecord)
        assert person is not None
        records.append((person, outcome))

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        mine = [r for _, r in records if rng.random() < 0.7]
        rng.shuffle(mine)
        store = DynamoDBProfileStore(dynamodb_client(server_url), table, read_workers=2)
        for start in range(0, len(mine), 7):
            ingest(mine[start : start + 7], store, IngestSettings(max_attempts=30))

    errors = at_once(*(lambda seed=seed: writer(seed) for seed in range(4)), timeout=600, together=False)
    assert errors == []
    # AND one more pass over everything at the end, so every record has been delivered
    store = DynamoDBProfileStore(dynamodb_client(server_url), table)
    ingest([r for _, r in records], store)

    # THEN every identifier has exactly one live owner whose profile lists it
    profiles = list(store.iter_profiles())
    assert store_problems(profiles, store.ident_owners()) == []
    # AND every record is in exactly one profile, one profile per person
    by_source = {s.key: p.customer_id for p in profiles for s in p.sources}
    assert set(by_source) == {r.key for _, r in records}
    people: dict[int, set[str]] = {}
    for person, record in records:
        people.setdefault(person, set()).add(by_source[record.key])
    assert all(len(customers) == 1 for customers in people.values())
    assert len(profiles) == len(people)


@pytest.mark.parametrize("seed", [5, 7, 8])
def test_concurrent_updates_that_join_and_split_customers_end_as_the_latest_records_resolve(
    served: tuple[str, str], seed: int
) -> None:
    server_url, table = served
    # GIVEN up to three versions of 15 records, whose identifiers change from version to version
    rng = random.Random(seed)
    emails = [f"p{i}@example.com" for i in range(6)]
    phones = [f"+4420794600{i:02d}" for i in range(4)]
    versions = [
        make_record(
            source,
            str(number),
            email=rng.sample(emails, rng.randint(0, 2)),
            phone=rng.sample(phones, rng.randint(0, 1)),
            day=version * 5 + rng.randint(0, 3),
            traits={"version": str(version)},
        )
        for source in ("crm", "shop", "email")
        for number in range(5)
        for version in range(rng.randint(1, 3))
    ]
    latest: dict[str, SourceRecord] = {}
    for record in versions:
        if record.key not in latest or record.updated_at > latest[record.key].updated_at:
            latest[record.key] = record
    unsplit: list[str] = []
    settings = IngestSettings(max_attempts=30)

    def writer(share: list[SourceRecord]) -> None:
        store = DynamoDBProfileStore(dynamodb_client(server_url), table, read_workers=2)
        for start in range(0, len(share), 2):
            unsplit.extend(ingest(share[start : start + 2], store, settings).unsplit)

    # WHEN 4 writers ingest them at once, in a shuffled order (a later version may come first)
    rng.shuffle(versions)
    errors = at_once(*(lambda i=i: writer(versions[i::4]) for i in range(4)), timeout=600, together=False)
    assert errors == []
    assert unsplit == []
    # THEN the customers are what the latest versions resolve to from scratch, and consistent
    store = DynamoDBProfileStore(dynamodb_client(server_url), table)
    reference = InMemoryProfileStore()
    ingest(list(latest.values()), reference, settings)

    def groups(profiles: list[Profile]) -> set[frozenset[str]]:
        return {frozenset(s.key for s in p.sources) for p in profiles}

    profiles = list(store.iter_profiles())
    assert groups(profiles) == groups(list(reference.iter_profiles()))
    # AND no version was lost: every profile is built from the latest version of each record
    assert {s.key: s.updated_at for p in profiles for s in p.sources} == {
        k: r.updated_at for k, r in latest.items()
    }
    assert store_problems(profiles, store.ident_owners()) == []
