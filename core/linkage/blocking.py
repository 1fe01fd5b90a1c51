"""Blocking keys: the few plain strings under which a record's likely matches are filed.

Scoring every pair is quadratic; a record is only compared with the records that share one of its
blocking keys. Each rule reads a few fields and files the record under one key per value
(``sb:TANPSAN:1975`` for a Thompson born in 1975); two records are candidates when they share a key.
The rules together catch a person whose surname changed (birth date + first initial), whose birth
date is missing (names + postcode), who moved (names), who typed the street differently, or whose
name, house number and birth date all differ in one tool while the address line and town agree.

In a store a key is an index item beside the identifier items, ``BLOCK#<key>`` -> the record keys
filed under it (``block_item_key`` gives the item's key: a hash, so that no name or postcode is
written in a key). A key held by more than ``max_block_size`` records is overloaded, like an
identifier over its guardrail: it is not used to find candidates (a very common name born in a
common year says little), and it is reported. Whether a key is used is a function of the set of
records filed under it, never of their order. The item also keeps each member's place in the key's
order (``order_string``), so that a record's neighbours in a crowded key are found from the one
item (``Ranking``) and only they are read.

A key held by more than ``DENSE_BLOCK`` records (and at most ``max_block_size``) is dense: a
hundred Smiths of one postcode would make 4,950 pairs, nearly all strangers. Its records are
compared by sorted neighbourhood instead (Hernandez and Stolfo's method, which recordlinkage ships):
ordered by their names, birth date and address (``neighbourhood_order``), each record meets the
``NEIGHBOURS`` records on either side of it. The work a record adds is then at most
``2 * NEIGHBOURS`` pairs per key, however crowded the key, and a person's records, which sort
together, still meet. Which pairs a key gives is a function of the set of records filed under it,
as its overload is.

Four rules crowd with strangers long before that (a name, a surname born in one year, a street in a
town, a house number on a street name: namesakes and neighbours), so their keys are chains past
``CHAIN_DENSE`` records: sorted by the fields the key leaves open, each record meets the one on
either side (``CHAIN_SHAPES``, ``block_shape``). A person's records share several keys and stand
together in each one's order, so the chains and the other rules' keys still join them all.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, TypeVar

from core.link_index import block_item_key
from core.linkage.email_keys import provider_local_part
from core.linkage.fields import LinkageRecord

__all__ = [
    "DENSE_BLOCK",
    "NEIGHBOURS",
    "RULES",
    "BlockShape",
    "BlockingRule",
    "Candidates",
    "Ranking",
    "block_item_key",
    "block_pairs",
    "block_shape",
    "blocking_keys",
    "candidate_pairs",
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


@dataclass(frozen=True, slots=True)
class BlockingRule:
    """One way of filing records: a short prefix, the comparisons it relies on, and its key(s)."""

    name: str
    prefix: str
    comparisons: tuple[str, ...]
    """Comparisons whose agreement the rule builds in: EM does not estimate their m on its pairs."""
    keys: Callable[[LinkageRecord], tuple[str, ...]]


def _surname_birth_year(r: LinkageRecord) -> tuple[str, ...]:
    return (f"{r.last_phonetic}:{r.birth_year}",) if r.last_name and r.birth_year else ()


def _postcode_first_initial(r: LinkageRecord) -> tuple[str, ...]:
    return (f"{r.postal_code}:{r.first_name[0]}",) if r.postal_code and r.first_name else ()


def _street_house_number(r: LinkageRecord) -> tuple[str, ...]:
    return (f"{r.house_number}:{r.street}",) if r.street and r.house_number else ()


def _birth_date_first_initial(r: LinkageRecord) -> tuple[str, ...]:
    return (f"{r.date_of_birth}:{r.first_name[0]}",) if r.date_of_birth and r.first_name else ()


def _birth_date_postcode(r: LinkageRecord) -> tuple[str, ...]:
    return (f"{r.date_of_birth}:{r.postal_code}",) if r.date_of_birth and r.postal_code else ()


def _birth_date_region(r: LinkageRecord) -> tuple[str, ...]:
    return (f"{r.date_of_birth}:{r.region}",) if r.date_of_birth and r.region else ()


def _postcode_house_number(r: LinkageRecord) -> tuple[str, ...]:
    return (f"{r.postal_code}:{r.house_number}",) if r.postal_code and r.house_number else ()


def _address_line_town(r: LinkageRecord) -> tuple[str, ...]:
    # Either address line (as compared: ``line_key``) in its town: finds a person whose house number,
    # name or birth date changed, and one whose tools put the street in different lines.
    if not r.city:
        return ()
    return tuple(sorted({f"{line}:{r.city}" for line in (r.street_key, r.line2_key) if line}))


def _names(r: LinkageRecord) -> tuple[str, ...]:
    # In either order: one tool's first name is another's last name often enough.
    if not r.first_name or not r.last_name:
        return ()
    return (":".join(sorted((r.first_phonetic, r.last_phonetic))),)


def _email_user_name(r: LinkageRecord) -> tuple[str, ...]:
    # The user name alone finds ``ann.lee@gmial.com`` for ``annlee@gmail.com`` and the same
    # handle at a work and a private domain; short, generic ones (``info``) overload and drop out.
    keys = []
    for email_key in r.email_keys:
        local = email_key.rpartition("@")[0]
        local = provider_local_part(local, "gmail.com")  # dots and +tags: the loosest reading
        if len(local) >= 4:
            keys.append(local)
    return tuple(sorted(set(keys)))


RULES: Final[tuple[BlockingRule, ...]] = (
    BlockingRule("surname_phonetic_birth_year", "sb", ("last_name", "date_of_birth"), _surname_birth_year),
    BlockingRule("postcode_first_initial", "pf", ("postal_code", "first_name"), _postcode_first_initial),
    BlockingRule("house_number_street", "hs", ("address",), _street_house_number),
    BlockingRule(
        "birth_date_first_initial", "bf", ("date_of_birth", "first_name"), _birth_date_first_initial
    ),
    BlockingRule("birth_date_postcode", "bp", ("date_of_birth", "postal_code"), _birth_date_postcode),
    BlockingRule("birth_date_region", "br", ("date_of_birth", "region"), _birth_date_region),
    BlockingRule("postcode_house_number", "ph", ("postal_code",), _postcode_house_number),
    BlockingRule("names_phonetic", "nn", ("first_name", "last_name"), _names),
    BlockingRule("address_line_town", "lt", ("address", "address_line2", "city"), _address_line_town),
    BlockingRule("email_user_name", "eu", ("email",), _email_user_name),
)


def blocking_keys(record: LinkageRecord, rules: Sequence[BlockingRule] = RULES) -> tuple[str, ...]:
    """The record's blocking keys, ``<prefix>:<value>``, in rule order, without repeats."""
    if rules is RULES:
        return _shipped_keys(record)
    keys: list[str] = []
    for rule in rules:
        keys.extend(f"{rule.prefix}:{value}" for value in rule.keys(record))
    return tuple(dict.fromkeys(keys))


def _shipped_keys(r: LinkageRecord) -> tuple[str, ...]:
    """``blocking_keys`` over ``RULES``, the rules' keys written inline in their order (ingest
    prepares every record of every batch; ten rule calls cost more than the keys). Two keys of
    different rules never coincide (each starts with its rule's prefix), so only the address lines
    and the email user names, which give several keys, can repeat (tests/unit/linkage/
    test_blocking.py checks this against the rules on hypothesis-made records)."""
    first, last, dob, postcode, house = (
        r.first_name,
        r.last_name,
        r.date_of_birth,
        r.postal_code,
        r.house_number,
    )
    keys: list[str] = []
    if last and dob:
        keys.append(f"sb:{r.last_phonetic}:{dob[:4]}")
    if postcode and first:
        keys.append(f"pf:{postcode}:{first[0]}")
    if r.street and house:
        keys.append(f"hs:{house}:{r.street}")
    if dob:
        if first:
            keys.append(f"bf:{dob}:{first[0]}")
        if postcode:
            keys.append(f"bp:{dob}:{postcode}")
        if r.region:
            keys.append(f"br:{dob}:{r.region}")
    if postcode and house:
        keys.append(f"ph:{postcode}:{house}")
    if first and last:
        keys.append("nn:" + ":".join(sorted((r.first_phonetic, r.last_phonetic))))
    if r.city:
        keys.extend(f"lt:{value}" for value in _address_line_town(r))
    if r.email_keys:
        keys.extend(f"eu:{value}" for value in _email_user_name(r))
    return tuple(keys)


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
    made: dict[int, str] = {}
    for key in keys:
        shape = block_shape(key)
        found = made.get(id(shape))
        if found is None:
            found = made[id(shape)] = order_string(record, shape)
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


@dataclass
class Candidates:
    """Candidate pairs (indexes into the records, smaller first) and the keys left out as overloaded."""

    pairs: set[tuple[int, int]] = field(default_factory=set)
    by_rule: dict[str, set[tuple[int, int]]] = field(default_factory=dict)
    overloaded: dict[str, int] = field(default_factory=dict)
    """Overloaded key -> how many records it holds."""


def candidate_pairs(
    records: Sequence[LinkageRecord],
    max_block_size: int,
    rules: Sequence[BlockingRule] = RULES,
    extra_blocks: Iterable[tuple[str, Iterable[int]]] = (),
    overloaded: Collection[str] = (),
) -> Candidates:
    """The pairs of records that share a usable blocking key (in memory: for a batch, a bench, training).

    ``extra_blocks`` adds blocks of the caller's own (name, record indexes), under the same size limit.
    ``overloaded`` names keys (``<prefix>:<value>``) an index knows to hold more records than the limit,
    though fewer of them are among ``records``: they find no pairs either.
    """
    blocks: dict[str, dict[str, list[int]]] = {rule.name: {} for rule in rules}
    for index, record in enumerate(records):
        for rule in rules:
            for value in rule.keys(record):
                blocks[rule.name].setdefault(value, []).append(index)
    result = Candidates()
    for rule in rules:
        found = result.by_rule.setdefault(rule.name, set())
        _pairs_of_blocks(
            blocks[rule.name], rule.prefix, max_block_size, found, result.overloaded, records, overloaded
        )
        result.pairs |= found
    extra: dict[str, list[int]] = {name: list(indexes) for name, indexes in extra_blocks}
    if extra:
        found = result.by_rule.setdefault("identifiers", set())
        _pairs_of_blocks(extra, "id", max_block_size, found, result.overloaded, None)
        result.pairs |= found
    return result


def _pairs_of_blocks(
    blocks: Mapping[str, list[int]],
    prefix: str,
    max_block_size: int,
    into: set[tuple[int, int]],
    overloaded: dict[str, int],
    records: Sequence[LinkageRecord] | None,
    known: Collection[str] = (),
) -> None:
    # ``records`` None: the caller's own blocks (shared identifier values), every pair compared.
    for value, members in blocks.items():
        unique = sorted(set(members))
        if len(unique) > max_block_size or (known and f"{prefix}:{value}" in known):
            overloaded[f"{prefix}:{value}"] = len(unique)
            continue
        if records is not None:
            into.update(block_pairs(unique, records.__getitem__, f"{prefix}:{value}"))
            continue
        for i, a in enumerate(unique):
            for b in unique[i + 1 :]:
                into.add((a, b))
