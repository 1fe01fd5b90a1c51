"""Where a record stands in a crowded block, and which pairs a block gives (core.linkage.blocking).

A block of at most its shape's ``dense`` members pairs every two of them; past that, each member meets
the ``window`` members on either side of it in the shape's order (sorted neighbourhood, Hernandez and
Stolfo). ``order_string`` is that place as one string, which a ``BLOCK#`` item keeps per member
(core.link_index), and ``Ranking`` asks the rule of a block ranked from those strings: the walk, the
shifted pairs and ``unpaired`` (core.link_reach, core.link_shifts) read a record's neighbours from it
without every member's fields.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from core.linkage.fields import LinkageRecord

__all__ = [
    "CHAIN_DENSE",
    "CHAIN_SHAPES",
    "DENSE_BLOCK",
    "NEIGHBOURS",
    "ORDER_SEPARATOR",
    "SHAPE",
    "BlockShape",
    "Ranking",
    "block_pairs",
    "block_shape",
    "filing_orders",
    "neighbourhood_order",
    "order_string",
    "ranked_pairs",
]

DENSE_BLOCK: Final = 8
"""A blocking key held by more records than this is dense: compared by sorted neighbourhood. FEBRL3
and FEBRL4 have a few keys of 9 to 12 records, all of whose true pairs the neighbourhood keeps."""

NEIGHBOURS: Final = 4
"""In a dense block, how many records on either side of a record (in ``neighbourhood_order``) it meets."""


def neighbourhood_order(record: LinkageRecord) -> tuple[str, ...]:
    """Where a record stands in a dense block: by first and last name, birth date, postcode and
    address, then its key (so that the order is total). A person's records agree on most of these,
    so they stand together; one that differs in the first few still shares other keys with them."""
    return (
        record.first_name or "",
        record.last_name or "",
        record.date_of_birth or "",
        record.postal_code or "",
        record.house_number or "",
        record.street or "",
        record.key,
    )


def _order_by_birth_date(record: LinkageRecord) -> tuple[str, ...]:
    # A names key: the names already agree (by their sound), so the birth date and the address part
    # namesakes; a person's records, which agree on them, stand together.
    return (
        record.date_of_birth or "",
        record.postal_code or "",
        record.house_number or "",
        record.street or "",
        record.first_name or "",
        record.last_name or "",
        record.key,
    )


def _order_by_first_name(record: LinkageRecord) -> tuple[str, ...]:
    # A surname and birth year key: the first name and the birth date part its members.
    return (
        record.first_name or "",
        record.date_of_birth or "",
        record.postal_code or "",
        record.house_number or "",
        record.last_name or "",
        record.key,
    )


def _order_by_names(record: LinkageRecord) -> tuple[str, ...]:
    # An address key (a street in a town, a house on a street): the names part its residents.
    return (
        record.last_name or "",
        record.first_name or "",
        record.date_of_birth or "",
        record.postal_code or "",
        record.house_number or "",
        record.key,
    )


@dataclass(frozen=True, slots=True)
class BlockShape:
    """How one rule's block gives pairs: every pair up to ``dense`` members; past it each member with
    the ``window`` members on either side of it when they are sorted by ``order``."""

    dense: int
    window: int
    order: Callable[[LinkageRecord], tuple[str, ...]]


SHAPE: Final = BlockShape(DENSE_BLOCK, NEIGHBOURS, neighbourhood_order)
"""The shape of the rules that pin a person down closely (a birth date, a postcode, an email)."""

CHAIN_DENSE: Final = 2
"""A key of a crowding rule held by more records than this is a chain (``CHAIN_SHAPES``)."""

CHAIN_SHAPES: Final[Mapping[str, BlockShape]] = {
    "sb": BlockShape(CHAIN_DENSE, 1, _order_by_first_name),
    "nn": BlockShape(CHAIN_DENSE, 1, _order_by_birth_date),
    "hs": BlockShape(CHAIN_DENSE, 1, _order_by_names),
    "lt": BlockShape(CHAIN_DENSE, 1, _order_by_names),
}
"""The rules whose keys crowd with strangers (a surname born in one year, a name, a street in a
town, a house number on a street name): namesakes and neighbours, nearly never the same person.
Past ``CHAIN_DENSE`` records such a key is a chain: its records, sorted by the fields the key does
not already fix, each meet the one on either side (Hernandez and Stolfo's multi-pass sorted
neighbourhood: several keys, each with a small window, find what one key with a wide window finds).
A person's records share several keys and stand together in each order, so their pairs along the
chains (and the other rules' keys) still join them all; the strangers a crowded key adds cost one or
two pairs a record instead of up to eight."""


# The index read (core.link_scope) asks no ranking of a key of CHAIN_DENSE members or fewer: true
# only while no shape pairs every two members of a smaller block than that.
assert all(shape.dense >= CHAIN_DENSE for shape in (SHAPE, *CHAIN_SHAPES.values())), "see core.link_scope"


def block_shape(key: str) -> BlockShape:
    """The shape of a blocking key's block (``<prefix>:<value>``), by its rule."""
    return CHAIN_SHAPES.get(key[:2], SHAPE)


ORDER_SEPARATOR: Final = "\x1f"
"""Joins a shape's order fields into one string (``order_string``). Every field is folded (letters,
digits and spaces: core.linkage.fields), so the separator sorts below all their characters and two
strings compare as the tuples they join do."""


def order_string(record: LinkageRecord, shape: BlockShape) -> str:
    """Where ``record`` stands in a block of ``shape``, as a string: its order fields without the key
    (the block's member itself), joined. Members rank by ``(order_string, key)``, the order of
    ``shape.order`` (whose last field is the key). What a ``BLOCK#`` item keeps per member, so that a
    record finds its neighbours in a crowded block without reading every member's fields."""
    return ORDER_SEPARATOR.join(shape.order(record)[:-1])


def filing_orders(record: LinkageRecord, keys: Iterable[str]) -> dict[str, str]:
    """``order_string`` of the record in each of its blocking ``keys`` (``<prefix>:<value>``), by key:
    what ingest files beside its membership of each key. Keys of one shape share the string."""
    out: dict[str, str] = {}
    # By the shape's order (``block_shape`` and ``order_string`` inline): the address rules' shapes
    # share one, so a record's place in them is made once.
    made: dict[Callable[[LinkageRecord], tuple[str, ...]], str] = {}
    shapes, join = CHAIN_SHAPES, ORDER_SEPARATOR.join
    for key in keys:
        order = shapes.get(key[:2], SHAPE).order
        found = made.get(order)
        if found is None:
            found = made[order] = join(order(record)[:-1])
        out[key] = found
    return out


class Ranking:
    """A block's members ranked by ``(order_string, key)`` for its shape, and the rule of
    ``block_pairs`` over them: every pair up to the shape's ``dense`` members, past it each member
    with the ``window`` on either side. Built from what a ``BLOCK#`` item keeps (core.link_index) or
    from the records themselves; the walk, the shifted pairs and ``unpaired`` all ask it."""

    __slots__ = ("items", "keys", "position", "shape")

    def __init__(self, items: Iterable[tuple[str, str]], shape: BlockShape) -> None:
        self.items = sorted(items)
        """``(order_string, key)`` of every member, in order."""
        self.keys = [key for _, key in self.items]
        self.position = {key: i for i, key in enumerate(self.keys)}
        self.shape = shape

    def __len__(self) -> int:
        return len(self.keys)

    @property
    def windowed(self) -> bool:
        """Whether members meet their neighbours only (more than the shape's ``dense``)."""
        return len(self.keys) > self.shape.dense

    def neighbours(self, key: str) -> list[str]:
        """The members ``key`` is paired with (every other one in a block that is not windowed)."""
        i, window = self.position[key], _window(len(self.keys), self.shape)
        return self.keys[max(0, i - window) : i] + self.keys[i + 1 : i + 1 + window]

    def paired(self, a: str, b: str) -> bool:
        """Whether the block pairs two of its members."""
        return abs(self.position[a] - self.position[b]) <= _window(len(self.keys), self.shape)

    def near(self, order: str, key: str, count: int, skip: Collection[str]) -> list[str]:
        """The ``count`` members nearest to where ``(order, key)`` stands on either side, passing over
        those in ``skip``: the records a batch record entering or leaving the block there may change
        the pairs of, and its own neighbours among them."""
        i = bisect_left(self.items, (order, key))
        out: list[str] = []
        for step, start in ((-1, i - 1), (1, i)):
            found, j = 0, start
            while found < count and 0 <= j < len(self.keys):
                other = self.keys[j]
                if other != key and other not in skip:
                    out.append(other)
                    found += 1
                j += step
        return out

    def pairs(self) -> Iterator[tuple[str, str]]:
        """``block_pairs`` of the block."""
        return ranked_pairs(self.keys, self.shape)


_M = TypeVar("_M", int, str)  # a block member: an index into the records, or a source key


def block_pairs(
    members: Collection[_M], record: Callable[[_M], LinkageRecord], key: str
) -> Iterator[tuple[_M, _M]]:
    """The candidate pairs of one usable block ``key``, each ``(smaller, larger)``: every pair of a
    block of at most its shape's ``dense`` members (``block_shape``); in a denser one, each member with
    the ``window`` after it when the members are sorted by the shape's order of their records."""
    shape = block_shape(key)
    if len(members) <= shape.dense:
        ordered = sorted(members)
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                yield a, b
        return
    order = shape.order
    yield from ranked_pairs(sorted(members, key=lambda m: order(record(m))), shape)


def ranked_pairs(ranked: Sequence[_M], shape: BlockShape) -> Iterator[tuple[_M, _M]]:
    """``block_pairs`` of a block whose members are ``ranked`` in its shape's order already."""
    window = _window(len(ranked), shape)
    for i, a in enumerate(ranked):
        for b in ranked[i + 1 : i + 1 + window]:
            yield (a, b) if a < b else (b, a)


def _window(size: int, shape: BlockShape) -> int:
    """How far apart in a block's order two of its ``size`` members may stand and be paired: the
    rule of ``block_pairs``, ``ranked_pairs`` and ``Ranking`` (every pair up to ``dense`` members)."""
    return size if size <= shape.dense else shape.window
