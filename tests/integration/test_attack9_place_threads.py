"""Workers filing the crowded Okafor block at once (tests/integration/test_attack9_place_programs.py's
population: colliding places, folded spellings, empty fields), in threads, on the in-memory and
SQLite stores (one file) and on DynamoDB through moto's threaded server.

Each worker merges every version of every Okafor in its own order and batches, so that commits lose
to each other and rounds drop versions another worker overtook (core.link_unfile puts a dropped
version's places back to the stored one's). After them: everyone's newest version is stored, each
record is filed under its stored version's keys at its stored version's places (and nowhere else),
and the customers are those one batch of the stored versions gives. Then two of them are erased:
the places of the rest are unchanged and nothing names the erased. About 3 s a store and seed
(load 8); seeds 1 to 8 green.
"""

from __future__ import annotations

import pytest

from core.identity import IdentityPolicy
from core.merge import record_hash
from core.schema import Identifier
from core.storage.memory import InMemoryProfileStore
from tests.integration.identity_attack_records import groups, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_attack7_unfile_threads import OPENED, resolve_at_once
from tests.integration.test_attack9_place_programs import COUNT, _check_places, _held, _line, _record

WORKERS = 3


_STORES = sorted(OPENED)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("store", _STORES)
def test_workers_filing_a_crowded_block_at_once_leave_the_stored_places(store: str, seed: int) -> None:
    every = [_line(i, later) for i in range(COUNT) for later in (False, True)]
    with OPENED[store]() as stores:
        assert resolve_at_once(stores, every, WORKERS, [1, 3, 7], seed, timeout=300) == []
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
