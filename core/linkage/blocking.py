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

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from core.link_index import block_item_key
from core.linkage.block_order import (
    CHAIN_DENSE,
    CHAIN_SHAPES,
    DENSE_BLOCK,
    NEIGHBOURS,
    ORDER_SEPARATOR,
    SHAPE,
    BlockShape,
    Ranking,
    block_pairs,
    block_shape,
    filing_orders,
    neighbourhood_order,
    order_string,
    ranked_pairs,
)
from core.linkage.email_keys import provider_local_part
from core.linkage.fields import LinkageRecord

__all__ = [
    "CHAIN_DENSE",
    "CHAIN_SHAPES",
    "DENSE_BLOCK",
    "NEIGHBOURS",
    "ORDER_SEPARATOR",
    "RETIRED_RULES",
    "RULES",
    "SHAPE",
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
    "retired_keys",
]


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
    BlockingRule("birth_date_region", "br", ("date_of_birth", "region"), _birth_date_region),
    BlockingRule("postcode_house_number", "ph", ("postal_code",), _postcode_house_number),
    BlockingRule("names_phonetic", "nn", ("first_name", "last_name"), _names),
    BlockingRule("address_line_town", "lt", ("address", "address_line2", "city"), _address_line_town),
    BlockingRule("email_user_name", "eu", ("email",), _email_user_name),
)

RETIRED_RULES: Final[tuple[BlockingRule, ...]] = (
    BlockingRule("birth_date_postcode", "bp", ("date_of_birth", "postal_code"), _birth_date_postcode),
)
"""Rules an earlier version filed records under and this one no longer does (docs/identity.md,
"Changed in this version"): birth date + postcode found no true pair on FEBRL3, FEBRL4 or the varied
demo population that the other rules missed. Their keys are never read again, but records stored
before the upgrade may still be listed under them, so a record's filings under them are removed
when it is erased and when a new version of it replaces the one filed (``retired_keys``)."""


def retired_keys(record: LinkageRecord) -> tuple[str, ...]:
    """The keys ``RETIRED_RULES`` would file the record under: where an earlier version may have
    listed it, for its erasure (and its move to a new version) to take it out of."""
    return tuple(f"{rule.prefix}:{value}" for rule in RETIRED_RULES for value in rule.keys(record))


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
