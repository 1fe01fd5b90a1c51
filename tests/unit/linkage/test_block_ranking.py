"""A block ranked from the places the index keeps (``order_string``) pairs as ``block_pairs`` does.

Ingest no longer reads every member of a crowded block: the ``BLOCK#`` item keeps each member's
place in the block's order as one string, and the walk, the shifted pairs and ``unpaired`` ask a
``Ranking`` built from those strings. These tests check the strings rank as the order's tuples do
(awkward values included: missing fields, prefixes, spaces, digits), that a ``Ranking`` gives the
pairs and neighbours ``block_pairs`` gives, and that ``near`` finds every record whose pairs a
record entering or leaving the block can change.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from core.linkage import LinkageRecord, linkage_record
from core.linkage.blocking import (
    CHAIN_SHAPES,
    SHAPE,
    Ranking,
    block_pairs,
    block_shape,
    filing_orders,
    order_string,
    ranked_pairs,
)

KEYS = ["sb:SNAT:1980", "nn:AN:SNAT", "hs:12:high st", "lt:12highstreet:leeds", "pf:ls14ap:a", "bp:x"]

_text = st.sampled_from(["", "a", "ab", "abc", "b", "a b", "ab c", "1", "12", "12a", "z"])


@st.composite
def records(draw: st.DrawFn, count: int) -> list[LinkageRecord]:
    out = []
    for i in range(count):
        traits = {
            "first_name": draw(_text),
            "last_name": draw(_text),
            "date_of_birth": draw(st.sampled_from(["", "1980-01-01", "1980-01-02", "1975-12-31"])),
            "postal_code": draw(_text),
            "address": draw(st.sampled_from(["", "12 High Street", "1 High St", "12a Mill Lane", "Mill Ln"])),
        }
        out.append(
            linkage_record(f"t{draw(st.integers(0, 9))}:c:{i}", {k: v for k, v in traits.items() if v})
        )
    return out


@settings(max_examples=200, deadline=None)
@given(data=st.data(), count=st.integers(0, 30), key=st.sampled_from(KEYS))
def test_a_ranking_from_the_kept_places_pairs_as_block_pairs(
    data: st.DataObject, count: int, key: str
) -> None:
    """GIVEN records with short, missing and prefix-sharing fields filed under one key WHEN ranked by
    their ``order_string`` and key THEN the ranking is the order's, and its pairs, each member's
    neighbours and ``paired`` are those of ``block_pairs``."""
    found = data.draw(records(count))
    by_key = {r.key: r for r in found}
    shape = block_shape(key)
    ranking = Ranking([(order_string(r, shape), r.key) for r in by_key.values()], shape)
    assert ranking.keys == sorted(by_key, key=lambda k: shape.order(by_key[k]))
    expected = set(block_pairs(list(by_key), by_key.__getitem__, key))
    assert set(ranking.pairs()) == expected
    for member in by_key:
        mates = {b if a == member else a for a, b in expected if member in (a, b)}
        assert set(ranking.neighbours(member)) == mates
        for other in by_key:
            if other != member:
                assert ranking.paired(member, other) == ((min(member, other), max(member, other)) in expected)


def test_a_records_places_are_filed_per_key_by_its_shape() -> None:
    record = linkage_record("t:c:1", {"first_name": "Ann", "last_name": "Lee", "date_of_birth": "1980-01-01"})
    orders = filing_orders(record, ["sb:L:1980", "nn:AN:L", "bf:19800101:a"])
    assert orders == {
        "sb:L:1980": order_string(record, CHAIN_SHAPES["sb"]),
        "nn:AN:L": order_string(record, CHAIN_SHAPES["nn"]),
        "bf:19800101:a": order_string(record, SHAPE),
    }
    assert orders["sb:L:1980"] != orders["nn:AN:L"]


@settings(max_examples=200, deadline=None)
@given(data=st.data(), count=st.integers(3, 30), key=st.sampled_from(KEYS))
def test_near_finds_every_record_whose_pairs_an_entrant_or_a_leaver_changes(
    data: st.DataObject, count: int, key: str
) -> None:
    """GIVEN a block before and after some of its records enter, leave or move WHEN the records next
    to where each of them stands and stood (``near``, the window on either side, passing over the
    moving records) are taken THEN they hold both records of every pair of the others that the move
    makes or unmakes, whenever the block is windowed before and after."""
    found = data.draw(records(count))
    shape = block_shape(key)
    keys = [r.key for r in found]
    moving = set(data.draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)))
    stay = [r for r in found if r.key not in moving]
    # A moving record was in the block (its old place), is in it now (its new place), or both; a
    # record in it before and after may have moved (its new place a little further on).
    old_places = {
        r.key: order_string(r, shape) for r in found if r.key in moving and data.draw(st.booleans())
    }
    new_places = {
        r.key: order_string(r, shape) for r in found if r.key in moving and data.draw(st.booleans())
    }
    for k in new_places.keys() & old_places.keys():
        if data.draw(st.booleans()):
            new_places[k] += "a"
    kept = [(order_string(r, shape), r.key) for r in stay]
    then = Ranking(kept + [(v, k) for k, v in old_places.items()], shape)
    now = Ranking(kept + [(v, k) for k, v in new_places.items()], shape)
    if not (then.windowed and now.windowed):
        return  # read whole then (core.link_shifts.neighbours_to_read)
    changed = set(ranked_pairs(then.keys, shape)) ^ set(ranked_pairs(now.keys, shape))
    changed = {(a, b) for a, b in changed if a not in moving and b not in moving}
    near: set[str] = set()
    for k, v in new_places.items():
        near.update(now.near(v, k, shape.window, moving))
    for k, v in old_places.items():
        near.update(now.near(v, k, shape.window, moving))
    assert {k for pair in changed for k in pair} <= near
