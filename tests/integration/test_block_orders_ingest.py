"""Ingest reads a crowded key's neighbours from the places its BLOCK# item keeps, and still reads an
index written before those places were kept.

``BLOCK#`` items keep each member's place in the key's order; a batch ranks a crowded key from the
item and reads only the records next to its own. These tests check the work it saves and that the
customers stay those of one batch: on an index filed with places, and on one whose items lost them
(an index written by the version before, which a store upgraded in place holds).
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from core import link_scope
from core.link_index import NO_ORDERS
from core.storage.memory import InMemoryProfileStore
from core.testing.dense_block import smiths
from core.testing.varied_population import varied_population
from tests.integration.identity_attack_records import Flat, groups, resolve_lines


def _read_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the candidates scopes read (records outside the batch whose match fields are read)."""
    read = [0]
    original = link_scope.Scope.add_candidates

    def counting(scope: Any, keys: Any, merged_into: Any) -> Any:
        wanted = [k for k in keys if k not in scope.nodes]
        read[0] += len(wanted)
        return original(scope, wanted, merged_into)

    monkeypatch.setattr(link_scope.Scope, "add_candidates", counting)
    return read


def _same_street(count: int) -> list[Flat]:
    # Different people of one surname, street and town: their street, address line and surname +
    # birth year keys are chains of dozens.
    return [{**line, "city": "Leeds"} for line in smiths(count)]


def test_a_batch_reads_its_neighbours_in_crowded_keys_not_their_members(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN the records of 1,000 people varied as tools vary them stored (names, streets and birth
    years shared by dozens: chains), but for the last 100 WHEN those arrive in one batch THEN it
    reads less than two thirds of the records it reads from the same index without the places
    (every member of a crowded key), and the customers are the same."""
    lines = [flat for _, flat in varied_population(1000, seed=5)]
    read = _read_counted(monkeypatch)
    counts, customers = [], []
    for keep_places in (True, False):
        store = InMemoryProfileStore()
        resolve_lines(lines[:-100], store, batch_size=100)
        if not keep_places:
            for key, state in list(store._blocks.items()):
                store._blocks[key] = state._replace(orders=NO_ORDERS)
        read[0] = 0
        resolve_lines(lines[-100:], store, batch_size=100)
        counts.append(read[0])
        customers.append(groups(store))
    assert counts[0] * 3 < counts[1] * 2, counts
    assert customers[0] == customers[1]


@pytest.mark.parametrize("seed", [1, 2])
def test_an_index_without_places_is_read_whole_and_gives_the_customers_of_one_batch(seed: int) -> None:
    """GIVEN 150 Smiths of one street in two tools, half of them stored on an index whose items
    have lost their places (as the version before wrote them) WHEN the rest arrive shuffled in
    batches of 7 THEN the customers are those of one batch of every record."""
    lines = _same_street(150)
    copies = [
        {**line, "source": "shop", "email": f"shop{i}@example.org", "first_name": line["first_name"].upper()}
        for i, line in enumerate(lines[::3])
    ]
    every = lines + copies
    expected = InMemoryProfileStore()
    resolve_lines(every, expected, batch_size=500)
    rng = random.Random(seed)
    shuffled = list(every)
    rng.shuffle(shuffled)
    store = InMemoryProfileStore()
    resolve_lines(shuffled[:120], store, batch_size=50)
    for key, state in list(store._blocks.items()):
        store._blocks[key] = state._replace(orders=NO_ORDERS)
    resolve_lines(shuffled[120:], store, batch_size=7)
    assert groups(store) == groups(expected)
