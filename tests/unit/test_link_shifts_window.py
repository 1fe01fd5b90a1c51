"""``window_shifts`` finds the pairs a batch makes and unmakes in a windowed block from the places it
changed: exactly the pairs that pairing the whole block before and after, and comparing, gives."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from core.link_shifts import window_shifts
from core.linkage.blocking import BlockShape, Ranking, neighbourhood_order, ranked_pairs

Item = tuple[str, str]


def _whole(
    now: list[Item], batch: set[str], stood: list[Item], window: int
) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """The slow path: both orders paired whole, their pairs of records outside the batch compared."""
    shape = BlockShape(0, window, neighbourhood_order)
    then = Ranking([i for i in now if i[1] not in batch] + stood, shape)
    old = set(ranked_pairs(then.keys, shape))
    new = set(ranked_pairs(Ranking(now, shape).keys, shape))
    outside = {p for p in old ^ new if p[0] not in batch and p[1] not in batch}
    return new & outside, old & outside


@st.composite
def blocks(draw: st.DrawFn) -> tuple[list[Item], set[str], list[Item], int]:
    """A block now (members with their places, a few of them the batch's), and where some batch
    records stood before (a record that moved stood elsewhere; one that left stands nowhere now)."""
    size = draw(st.integers(0, 40))
    orders = draw(st.lists(st.sampled_from("abcdefgh"), min_size=size, max_size=size))
    now = sorted((order, f"r{i:02d}") for i, order in enumerate(orders))
    batch = {key for _, key in now if draw(st.booleans()) and draw(st.booleans())}
    movers = sorted(k for k in batch if draw(st.booleans()))
    leavers = [f"x{i}" for i in range(draw(st.integers(0, 4)))]
    batch.update(leavers)
    stood = [(draw(st.sampled_from("abcdefgh")), key) for key in movers + leavers]
    return now, batch, stood, draw(st.sampled_from([1, 2, 4]))


@settings(max_examples=400, deadline=None)
@given(blocks())
@example(([("a", "r0"), ("b", "r1"), ("c", "r2")], {"r1"}, [], 1))  # one entering between two: unmade
@example(([("a", "r0"), ("c", "r2")], {"x0"}, [("b", "x0")], 1))  # one leaving from between: made
def test_the_pairs_from_the_places_changed_are_those_of_both_orders_paired_whole(
    case: tuple[list[Item], set[str], list[Item], int],
) -> None:
    now, batch, stood, window = case
    kept = [item for item in now if item[1] not in batch]
    assert window_shifts(now, kept, stood, batch, window) == _whole(now, batch, stood, window)
