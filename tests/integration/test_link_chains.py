"""Chains (core.linkage.blocking.CHAIN_SHAPES) through ingest: a record entering a crowding key's
chain parts two neighbours there, but a pair that another key the two share still pairs stays a
candidate, and its pending review item stays in the queue, whatever order the records come in."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from core.linkage import blocking_keys, from_source_record
from core.linkage.blocking import block_shape
from core.storage.memory import InMemoryProfileStore
from tests.integration.identity_attack_records import flat, groups, latest, resolve_lines, sqlite_store

ANN = {
    "first_name": "Ann",
    "last_name": "Lee",
    "address": "12 High Street",
    "postcode": "LS1 4AP",
    "city": "Leeds",
}


def _lines() -> list[dict[str, Any]]:
    return [
        flat("tool00", "1", **ANN, date_of_birth="1980-01-01", email="t0.ann@example.org"),
        flat("tool01", "1", **ANN, date_of_birth="1980-01-01", email="t1.ann@example.org"),
        # Her namesake at her address, born another year: a review item with each of her records.
        flat("tool02", "1", **ANN, date_of_birth="1975-06-15", email="t2.namesake@example.org"),
    ]


def _outcome(store: Any, lines: list[dict[str, Any]], batch: int) -> Any:
    resolve_lines(lines, store, batch_size=batch)
    return groups(store), {(item.a, item.b) for item in store.pending_reviews()}


@pytest.mark.parametrize("store_of", [InMemoryProfileStore, sqlite_store], ids=["memory", "sqlite"])
def test_a_pair_parted_in_a_chain_but_paired_by_another_key_keeps_its_review(store_of: Any) -> None:
    """GIVEN Ann in two tools and her namesake at her address (three records in one names key, one
    street key: chains, which pair the namesake with one of Ann's records only; and one postcode +
    house number key, which pairs every two) WHEN delivered one by one in every order THEN the
    customers and the pending review pairs are those of one batch: both of Ann's pairs with her
    namesake wait for review."""
    lines = _lines()
    records = [from_source_record(r) for r in _records(lines)]
    shared = set.intersection(*(set(blocking_keys(r)) for r in records))
    assert any(block_shape(k).dense < 3 for k in shared), "some shared key should be a chain of three"
    assert any(block_shape(k).dense >= 3 for k in shared), "some shared key should pair every two"
    expected = _outcome(store_of(), latest(lines), 500)
    assert expected[1] == {("tool00:contact:1", "tool02:contact:1"), ("tool01:contact:1", "tool02:contact:1")}
    for order in itertools.permutations(lines):
        assert _outcome(store_of(), list(order), 1) == expected, [line["source"] for line in order]


def _records(lines: list[dict[str, Any]]) -> list[Any]:
    from connectors.jsonl import draft_from_flat
    from core.normalise import NormaliseOptions, normalise_record

    options = NormaliseOptions(default_region="GB")
    return [normalise_record(draft_from_flat(line), options) for line in lines]
