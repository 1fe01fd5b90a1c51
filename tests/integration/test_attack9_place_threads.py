"""Workers filing the crowded Okafor block at once (tests/integration/test_attack9_place_programs.py's
population: colliding places, folded spellings, empty fields), in threads, on the in-memory and
SQLite stores (one file) and on DynamoDB through moto's threaded server.

Each worker merges every version of every Okafor in its own order and batches, so that commits lose
to each other and rounds drop versions another worker overtook (core.link_unfile puts a dropped
version's places back to the stored one's). After them: everyone's newest version is stored, each
record is filed under its stored version's keys at its stored version's places (and nowhere else),
and the customers are those one batch of the stored versions gives. Then two of them are erased:
the places of the rest are unchanged and nothing names the erased.

Two ways to run the workers. Free threads (the interpreter picks the interleaving: a run differs
from the next) on the in-memory and SQLite stores, and on DynamoDB in ``make test-deep``. Taking
turns by store call (tests.interleave.Turns, every public call of the profile store a turn) in an
order drawn from the seed: the same interleaving on every run, so a mutation it catches is caught
every time. Seed 7 is such a run on every store: with core.link_unfile.unfile_dropped doing
nothing (a dropped version's keys and places left behind), it fails on all three (and seed 8 on the
in-memory and SQLite stores, seed 6 on DynamoDB), while the free threads caught that only now and
then (seed 2 on DynamoDB: intermittently).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from core.identity import IdentityPolicy
from core.merge import record_hash
from core.schema import Identifier
from core.storage.memory import InMemoryProfileStore
from tests.hypothesis_profiles import DEEP, PROFILE
from tests.integration.identity_attack_records import groups, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_attack7_unfile_threads import OPENED, resolve_at_once
from tests.integration.test_attack9_place_programs import COUNT, _check_places, _held, _line, _record
from tests.integration.test_erasure_attacks import Stores
from tests.interleave import Turns

WORKERS = 3
SIZES = [1, 3, 7]
#: More turns than the three workers make calls (at most about 950 here): past the end of its order
#: Turns lets the writers run freely, one call at a time, and the run would no longer be the seed's.
TURNS = 20_000

_STORES = sorted(OPENED)
#: Free threads: DynamoDB (about 8 CPU s a seed, moto) in ``make test-deep`` only.
FREE = [(s, seed) for s in _STORES for seed in (1, 2) if s != "dynamodb" or PROFILE == DEEP]
#: Turns: seed 7 fails on every store without core.link_unfile (above); every seed in deep.
IN_TURNS = [
    (s, seed)
    for s in _STORES
    for seed in (range(1, 9) if PROFILE == DEEP else (7,) if s == "dynamodb" else (7, 8))
]


def _every() -> list[Any]:
    return [_line(i, later) for i in range(COUNT) for later in (False, True)]


def _check(stores: Stores) -> None:
    """Everyone's newest version stored, at its places, in one batch's customers; then two erased."""
    held = _held(stores)
    # (by content: a version that changes nothing the store keeps, Fen's name in lower case,
    # only touches the stored one's time)
    newest = {f"crm:contact:{i}": record_hash(_record(_line(i, True))) for i in range(COUNT)}
    assert {k: record_hash(r) for k, r in held.items()} == newest
    _check_places(stores, set())
    expected = InMemoryProfileStore()
    resolve_lines([_line(i, True) for i in range(COUNT)], expected, batch_size=100)
    assert groups(stores.profiles) == groups(expected)

    before = set(held)
    for i in (2, 7):
        email = Identifier.assemble(kind="email", value=f"okafor{i}@example.com")
        assert stores.erase(email, f"req-{i}", IdentityPolicy(), _settings(stores)).outcome == "erased"
    erased = before - set(_held(stores))
    assert {"crm:contact:2", "crm:contact:7"} <= erased
    _check_places(stores, erased)


@pytest.mark.parametrize(("store", "seed"), FREE)
def test_workers_filing_a_crowded_block_at_once_leave_the_stored_places(store: str, seed: int) -> None:
    with OPENED[store]() as stores:
        assert resolve_at_once(stores, _every(), WORKERS, SIZES, seed, timeout=300) == []
        _check(stores)


@pytest.mark.parametrize(("store", "seed"), IN_TURNS)
def test_workers_taking_turns_by_store_call_leave_the_stored_places(store: str, seed: int) -> None:
    with OPENED[store]() as stores:
        # GIVEN three workers, each with every version in its own order and batch size, and an
        # order of turns (whose store call comes next), all drawn from the seed
        rng = random.Random(seed)
        plans = []
        for _ in range(WORKERS):
            mine = _every()
            rng.shuffle(mine)
            plans.append((mine, rng.choice(SIZES)))
        turns = Turns([str(rng.randrange(WORKERS)) for _ in range(TURNS)])
        profiles, settings = stores.profiles, _settings(stores)
        kind = type(profiles)
        turns.wrap(profiles, [n for n in dir(kind) if not n.startswith("_") and callable(getattr(kind, n))])
        # WHEN they resolve, one store call at a time in that order
        raised = turns.run(
            {
                str(n): lambda mine=mine, size=size: resolve_lines(
                    mine, profiles, batch_size=size, settings=settings
                )
                for n, (mine, size) in enumerate(plans)
            }
        )
        assert raised == {}
        assert len(turns.log) < TURNS  # every call in the seed's order: the same run every time
        # THEN the stored versions and places are as above
        _check(stores)
