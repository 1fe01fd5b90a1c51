"""Dense blocks: a crowded blocking key is compared by sorted neighbourhood, not pair by pair.

The promise (core.linkage.blocking): a key held by at most its shape's ``dense`` records gives every
pair (``DENSE_BLOCK`` for most rules, ``CHAIN_DENSE`` for the rules whose keys crowd with strangers);
a denser one gives each record its ``window`` neighbours on either side in the shape's order
(``NEIGHBOURS`` in ``neighbourhood_order``; one in a chain), so the pairs a record adds stay bounded
however crowded the key, a person's records still meet, and the pairs are a function of the set of
records filed under the key, never of their order.
"""

from __future__ import annotations

import itertools
import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from core.linkage import LinkageRecord, blocking_keys, candidate_pairs, linkage_record
from core.linkage.blocking import (
    CHAIN_DENSE,
    CHAIN_SHAPES,
    DENSE_BLOCK,
    NEIGHBOURS,
    block_pairs,
    block_shape,
    neighbourhood_order,
)
from core.testing.dense_block import smiths

LIMIT = 100  # the shipped model's max_block_size


def _record(line: dict[str, Any]) -> LinkageRecord:
    traits = {k: v for k, v in line.items() if k not in ("source", "id", "updated_at", "email")}
    return linkage_record(f"{line['source']}:{line['id']}", traits, [line["email"]])


def _smiths(count: int, seed: int = 1) -> list[LinkageRecord]:
    return [_record(line) for line in smiths(count, seed)]


def _pairs_by_key(records: list[LinkageRecord]) -> set[tuple[str, str]]:
    found = candidate_pairs(records, LIMIT).pairs
    return {tuple(sorted((records[a].key, records[b].key))) for a, b in found}  # type: ignore[misc]


def test_a_block_up_to_the_dense_size_gives_every_pair_and_a_dense_one_each_members_neighbours() -> None:
    """GIVEN blocks of DENSE_BLOCK and of 40 members under a postcode key WHEN their pairs are listed
    THEN the first gives all pairs; the second each member with the NEIGHBOURS after it in
    ``neighbourhood_order``, once, smaller first."""
    records = _smiths(40)
    key = "pf:ab12cd:s"
    small = list(range(DENSE_BLOCK))
    pairs = sorted(block_pairs(small, records.__getitem__, key))
    assert pairs == list(itertools.combinations(small, 2))
    members = list(range(40))
    pairs = list(block_pairs(members, records.__getitem__, key))
    ranked = sorted(members, key=lambda m: neighbourhood_order(records[m]))
    expected = {
        tuple(sorted((a, b))) for i, a in enumerate(ranked) for b in ranked[i + 1 : i + 1 + NEIGHBOURS]
    }
    assert len(pairs) == len(set(pairs)) == len(expected)
    assert set(pairs) == expected
    assert all(a < b for a, b in pairs)


def test_a_crowding_rules_block_past_the_chain_size_is_a_chain_in_its_own_order() -> None:
    """GIVEN blocks of CHAIN_DENSE and of 40 members under each crowding rule's key (names, surname
    and birth year, street in a town, house on a street) WHEN their pairs are listed THEN the first
    gives every pair; the second each member with the next one in the rule's order: 39 pairs, and
    the order is not the one of the other rules (the names key sorts by birth date)."""
    records = _smiths(40)
    for prefix, shape in CHAIN_SHAPES.items():
        key = f"{prefix}:value"
        assert block_shape(key) is shape
        small = list(range(CHAIN_DENSE))
        assert sorted(block_pairs(small, records.__getitem__, key)) == list(itertools.combinations(small, 2))
        members = list(range(40))
        ranked = sorted(members, key=lambda m: shape.order(records[m]))
        expected = {tuple(sorted(p)) for p in itertools.pairwise(ranked)}
        assert set(block_pairs(members, records.__getitem__, key)) == expected
        assert len(expected) == 39
    by_names = sorted(range(40), key=lambda m: neighbourhood_order(records[m]))
    by_birth = sorted(range(40), key=lambda m: block_shape("nn:x").order(records[m]))
    assert by_names != by_birth


def test_the_pairs_a_record_adds_stay_bounded_however_crowded_its_keys() -> None:
    """GIVEN 400, 1,600, then 6,400 different Smiths in one postcode (their postcode + initial, names
    and surname + birth year keys hold tens to hundreds of records) WHEN candidate pairs are found
    THEN no record is in more than twice its window's pairs per dense key (NEIGHBOURS, or one in a
    chain), and the pairs per record do not grow with the crowd (every pair of every key: 23 per
    record at 400, 40 at 800, growing on)."""
    per_record = []
    for people in (400, 1600, 6400):
        records = _smiths(people)
        pairs = candidate_pairs(records, LIMIT).pairs
        per_record.append(len(pairs) / people)
        degree = [0] * len(records)
        for a, b in pairs:
            degree[a] += 1
            degree[b] += 1
        sizes: dict[str, int] = {}
        for record in records:
            for key in blocking_keys(record):
                sizes[key] = sizes.get(key, 0) + 1
        for i, record in enumerate(records):
            bound = sum(
                0
                if sizes[k] > LIMIT
                else 2 * block_shape(k).window
                if sizes[k] > block_shape(k).dense
                else sizes[k] - 1
                for k in blocking_keys(record)
            )
            assert degree[i] <= bound, (record.key, degree[i], bound)
    assert max(per_record) <= 2 * NEIGHBOURS + 2, per_record
    assert per_record[2] <= per_record[1], per_record


def test_one_persons_copies_in_a_dense_block_still_meet() -> None:
    """GIVEN 300 Smiths of one postcode and one Smith who is in six tools (the same fields, one of
    them with a typo in her first name) WHEN candidate pairs are found THEN every pair of her
    records is a candidate (they sort together), though her keys are dense."""
    lines = smiths(300)
    her = {**lines[0], "first_name": "Laura", "date_of_birth": "1971-04-09", "address": "12 High Street"}
    copies = [{**her, "source": f"tool{n}", "id": "1", "email": f"laura{n}@example.com"} for n in range(6)]
    copies[3]["first_name"] = "Lauar"
    records = [_record(line) for line in lines[1:] + copies]
    keys = [r.key for r in records[-6:]]
    pairs = _pairs_by_key(records)
    assert all(tuple(sorted(p)) in pairs for p in itertools.combinations(keys, 2))
    crowded = [
        k for k in blocking_keys(records[-1]) if sum(k in blocking_keys(r) for r in records) > DENSE_BLOCK
    ]
    assert crowded, "her keys should be dense"


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), people=st.integers(DENSE_BLOCK - 2, 60))
def test_a_dense_blocks_pairs_do_not_depend_on_the_order_of_its_records(seed: int, people: int) -> None:
    """GIVEN Smiths of one postcode, some records repeated under other tools' keys WHEN their
    candidate pairs are found from the records in any order THEN the pairs (by record key) are the
    same: which pairs a key gives is a function of the set of records filed under it."""
    rng = random.Random(seed)
    records = _smiths(people, seed % 1000)
    records += [
        linkage_record(f"shop:{r.key}", {"first_name": r.first_name, "last_name": r.last_name})
        for r in rng.sample(records, min(5, len(records)))
    ]
    expected = _pairs_by_key(records)
    shuffled = records[:]
    rng.shuffle(shuffled)
    assert _pairs_by_key(shuffled) == expected
    assert sorted(shuffled, key=neighbourhood_order) == sorted(records, key=neighbourhood_order)
