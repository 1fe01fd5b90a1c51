"""The link index's keys (core.link_index): the item key of an index key, a ``BLOCK#`` item as
stored (``BlockState``), and the changes that move records between keys (``BlockChange``,
``changes_for``). Pure: no I/O here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType
from typing import Final, NamedTuple

__all__ = ["NO_ORDERS", "BlockChange", "BlockState", "block_item_key", "changes_for"]


def block_item_key(key: str) -> str:
    """The store's item key for an index key: ``BLOCK#`` and 128 bits of BLAKE2b of it."""
    return "BLOCK#" + hashlib.blake2b(key.encode(), digest_size=16).hexdigest()


NO_ORDERS: Final[Mapping[str, str]] = MappingProxyType({})


class BlockState(NamedTuple):
    """One index key as stored: the people-level source keys filed under it, or ``overloaded`` (then
    none); and, under an identifier value, the child objects holding it (guest orders with an email).
    Under a blocking key, ``orders``: each member's place in its block's order
    (core.linkage.blocking.order_string), so that a record's neighbours in a crowded block are found
    from this one item; a member filed before the orders were kept has none.

    A named tuple rather than a frozen dataclass: as immutable, and made for every key a batch reads
    or files (about a dozen per record), where a frozen dataclass's ``__init__`` cost 2 us each."""

    key: str
    members: frozenset[str] = frozenset()
    overloaded: bool = False
    children: frozenset[str] = frozenset()
    orders: Mapping[str, str] = NO_ORDERS

    def ranked(self) -> bool:
        """Whether every member's place in the order is kept (``orders``): the block can be ranked
        from this item alone."""
        # The members a subset of the places' keys: a set comparison in C, not a test per member
        # (read for every crowded key a batch reads, of 20 to 100 members).
        return bool(self.members) and self.orders.keys() >= self.members

    def holds_as(self, read: BlockState) -> bool:
        """Whether this key holds what ``read`` held: overloaded or not, its members, its child
        objects (``LinkIndex.drop_blocks_as_read`` compares them; places go with their members)."""
        return (self.overloaded, self.members, self.children) == (
            read.overloaded,
            read.members,
            read.children,
        )


class BlockChange(NamedTuple):
    """Add and remove source keys under one index key; ``limit``: the most members it may hold.

    Child objects go in a set of their own (``add_children``): they never count towards a value's
    people, and a shopper's hundreds of guest orders must not overload her address for the people
    holding it. Past ``children_limit`` further children are not filed (they are still found through
    the exact identifier they hold). ``orders``: the place in the block's order of members added, or
    of members whose place changed (they are in ``add`` again); a removed member's place goes with
    it. A named tuple, as ``BlockState`` is."""

    key: str
    add: frozenset[str] = frozenset()
    remove: frozenset[str] = frozenset()
    limit: int = 100
    add_children: frozenset[str] = frozenset()
    remove_children: frozenset[str] = frozenset()
    children_limit: int = 2000
    orders: Mapping[str, str] = NO_ORDERS


def changes_for(
    old: Mapping[str, Iterable[str]],
    new: Mapping[str, Iterable[str]],
    limits: Mapping[str, int],
    children: Collection[str] = (),
    orders: Mapping[str, Mapping[str, str]] | None = None,
    old_orders: Mapping[str, Mapping[str, str]] | None = None,
) -> list[BlockChange]:
    """The index changes that move records from the keys in ``old`` to the keys in ``new`` (each maps a
    source key to its index keys); ``limits`` gives the limit of each key's kind (``id`` or ``block``);
    the records in ``children`` are child objects (filed apart, see ``BlockChange``). ``orders``: each
    new version's place in the order of its blocking keys (source key -> index key -> order string),
    filed with it; ``old_orders`` the old versions', so that a record whose place in a key it keeps
    changed is filed there again, and one whose place did not is not written."""
    # One entry per index key: the sources to add and remove, people and children apart. Built in
    # one pass, frozensets only where there is something (a batch files ~12 keys per record).
    slots: dict[str, list[set[str] | None]] = {}
    placed: dict[str, dict[str, str]] = {}
    new_orders: Mapping[str, Mapping[str, str]] = orders or {}
    was_ordered: Mapping[str, Mapping[str, str]] = old_orders or {}
    for record_key in set(old) | set(new):
        child = 2 if record_key in children else 0
        previous = old.get(record_key)
        now = new_orders.get(record_key, NO_ORDERS)
        if previous is None:  # a new record (most of a batch): every key is an add
            movements: tuple[tuple[Iterable[str], int], ...] = ((new.get(record_key, ()), 0),)
        else:
            before, after = set(previous), set(new.get(record_key, ()))
            added = after - before
            if now:
                then = was_ordered.get(record_key, NO_ORDERS)
                added |= {k for k in after & before if k in now and then.get(k) != now[k]}
            movements = ((added, 0), (before - after, 1))
        for moved, offset in movements:
            for key in moved:
                slot = slots.get(key)
                if slot is None:
                    slot = slots[key] = [None, None, None, None]
                held = slot[child + offset]
                if held is None:
                    slot[child + offset] = {record_key}
                else:
                    held.add(record_key)
                if offset == 0 and key in now:
                    placed.setdefault(key, {})[record_key] = now[key]
    block_limit, id_limit, children_limit = limits["block"], limits["id"], limits.get("children", 2000)
    empty: frozenset[str] = frozenset()
    # ``tuple.__new__`` with every field given: what ``BlockChange(...)`` does, without the named
    # tuple's Python-level ``__new__`` (half the cost of a change, and a batch makes ~1,200).
    make = tuple.__new__
    return [
        make(
            BlockChange,
            (
                key,
                frozenset(add) if (add := slot[0]) else empty,
                frozenset(remove) if (remove := slot[1]) else empty,
                id_limit if key.startswith("id:") else block_limit,
                frozenset(add_children) if (add_children := slot[2]) else empty,
                frozenset(remove_children) if (remove_children := slot[3]) else empty,
                children_limit,
                placed.get(key, NO_ORDERS),
            ),
        )
        for key, slot in sorted(slots.items())
    ]
