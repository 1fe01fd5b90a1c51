"""The ``LeaseStore`` port on the in-memory, SQLite and DynamoDB (moto) stores, with one clock.

A lease keeps two runs of one connector apart (``profilesync sync`` locally, the pull function in
Lambda): taken when free, expired or already the caller's; renewed and released by its holder only.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from core.lease import InMemoryLeaseStore, Lease
from core.storage.dynamodb_lease import DynamoDBLeaseStore
from core.storage.sqlite_database import SQLiteDatabase
from core.storage.sqlite_lease import SQLiteLeaseStore
from profilesync.embedded import dynamodb_client, model_aws_semantics
from profilesync.template import create_table


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def leases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Clock]]:
    clock = Clock()
    if request.param == "memory":
        yield InMemoryLeaseStore(clock), clock
    elif request.param == "sqlite":
        with SQLiteDatabase(tmp_path / "leases.sqlite3") as database:
            yield SQLiteLeaseStore(database, clock=clock), clock
    else:
        model_aws_semantics()
        with mock_aws():
            client = dynamodb_client()
            create_table(client, "profilesync-lease-test")
            yield DynamoDBLeaseStore(client, "profilesync-lease-test", clock=clock), clock


def test_a_lease_is_held_by_one_owner_until_it_expires(leases: tuple[Any, Clock]) -> None:
    store, clock = leases
    # GIVEN a free lease WHEN one run takes it for 300 s
    assert store.current("hubspot") is None
    taken = store.acquire("hubspot", "run-a", 300)
    assert taken == Lease("hubspot", "run-a", clock.now + 300)
    assert store.current("hubspot") == Lease("hubspot", "run-a", clock.now + 300)
    # THEN another run cannot take it, while its holder may again (a continuation of the run)
    assert store.acquire("hubspot", "run-b", 300) is None
    clock.now += 100
    assert store.acquire("hubspot", "run-a", 300) == Lease("hubspot", "run-a", clock.now + 300)
    # AND another connector's lease is its own
    assert store.acquire("mailchimp", "run-b", 300) is not None
    # WHEN it expires THEN another run takes it, and the old holder can neither renew nor release it
    clock.now += 301
    assert store.acquire("hubspot", "run-b", 60) == Lease("hubspot", "run-b", clock.now + 60)
    assert store.renew("hubspot", "run-a", 300) is False
    store.release("hubspot", "run-a")
    assert store.current("hubspot") == Lease("hubspot", "run-b", clock.now + 60)


def test_a_lease_is_renewed_and_released_by_its_holder(leases: tuple[Any, Clock]) -> None:
    store, clock = leases
    store.acquire("hubspot", "run-a", 60)
    clock.now += 50
    # WHEN the holder renews it THEN it lasts from now
    assert store.renew("hubspot", "run-a", 60) is True
    clock.now += 50
    assert store.acquire("hubspot", "run-b", 60) is None
    assert store.renew("hubspot", "run-b", 60) is False
    # WHEN the holder releases it THEN it is free at once
    store.release("hubspot", "run-a")
    assert store.current("hubspot") is None
    assert store.acquire("hubspot", "run-b", 60) is not None
    assert store.renew("nobody-holds-this", "run-a", 60) is False


def _race(path: str, owner: str, barrier: Any, results: Any) -> None:
    with SQLiteDatabase(path) as database:
        store = SQLiteLeaseStore(database)
        barrier.wait()
        results.put((owner, store.acquire("hubspot", owner, 300) is not None))


@pytest.mark.skipif(os.name != "posix", reason="forks processes")
def test_processes_racing_for_a_free_lease_on_one_file_let_exactly_one_win(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for trial in range(10):
        path = str(tmp_path / f"race{trial}.sqlite3")
        SQLiteDatabase(path).close()
        barrier, results = context.Barrier(6), context.Queue()
        runs = [context.Process(target=_race, args=(path, f"run-{i}", barrier, results)) for i in range(6)]
        for run in runs:
            run.start()
        for run in runs:
            run.join(timeout=60)
        outcomes = dict(results.get(timeout=10) for _ in runs)
        winners = [owner for owner, won in outcomes.items() if won]
        assert len(winners) == 1, outcomes
        with SQLiteDatabase(path) as database:
            held = SQLiteLeaseStore(database).current("hubspot")
        assert held is not None
        assert held.owner == winners[0]
