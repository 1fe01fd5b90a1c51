"""The link index's keys (core.link_index): the item key of an index key, a ``BLOCK#`` item as
stored (``BlockState``), and the changes that move records between keys (``BlockChange``,
``changes_for``). Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from types import MappingProxyType
from typing import Final, NamedTuple

from core.key_hashing import keyed_hex, unkeyed_hex

__all__ = ["BLOCK_PREFIX", "NO_ORDERS", "BlockChange", "BlockState", "block_item_key", "changes_for"]


BLOCK_PREFIX: Final = "BLOCK#"


def block_item_key(key: str, salt: str | None = None) -> str:
    """The store's item key for an index key. With ``salt`` (the DynamoDB table's audit salt):
    ``BLOCK#`` and the keyed hash of ``BLOCK#<key>`` (core.key_hashing, 64 hex digits), which the
    table's stream may carry after her erasure without a guess of her name, birth date or postcode
    being confirmable. Without: ``BLOCK#`` and 128 bits of BLAKE2b of the key, the layout of the
    embedded and in-memory stores (no stream) and of a DynamoDB table the previous release wrote."""
    if salt is None:
        return BLOCK_PREFIX + unkeyed_hex(key)
    return BLOCK_PREFIX + keyed_hex(salt, BLOCK_PREFIX + key)


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
    changed is filed there again, and one whose place did not is not written.

    One change per key, in the order the keys are first met (``new``'s records, then ``old``'s; the
    keys only added to first; an old version's keys sorted): the same input gives the same list, in
    every process. Not sorted: sorting a batch's
    ~900 keys (long common prefixes) cost a third of this function, and no store needs an order."""
    # A people's add is nearly every change a batch makes (a new record files ~9 keys): those go in
    # a dict of their own, the rare removals and children's in ``rest`` (remove, add, remove children).
    adds: dict[str, set[str]] = {}
    rest: dict[str, list[set[str] | None]] = {}
    placed: dict[str, dict[str, str]] = {}
    new_orders: Mapping[str, Mapping[str, str]] = orders or {}
    was_ordered: Mapping[str, Mapping[str, str]] = old_orders or {}

    def other(key: str, side: int, record_key: str) -> None:
        slot = rest.get(key)
        if slot is None:
            slot = rest[key] = [None, None, None]
        held = slot[side]
        if held is None:
            slot[side] = {record_key}
        else:
            held.add(record_key)

    get_add = adds.get
    for record_key, keys in new.items():
        if record_key in old:
            continue  # a new version: below
        if record_key in children:
            for key in keys:
                other(key, 1, record_key)
        else:
            for key in keys:
                held = get_add(key)
                if held is None:
                    adds[key] = {record_key}
                else:
                    held.add(record_key)
        now = new_orders.get(record_key)
        if now:
            for key in keys:
                place = now.get(key)
                if place is not None:
                    got = placed.get(key)
                    if got is None:
                        placed[key] = {record_key: place}
                    else:
                        got[record_key] = place
    for record_key, previous in old.items():
        child = record_key in children
        now = new_orders.get(record_key, NO_ORDERS)
        before, after = set(previous), set(new.get(record_key, ()))
        added = after - before
        if now:
            then = was_ordered.get(record_key, NO_ORDERS)
            added |= {k for k in after & before if k in now and then.get(k) != now[k]}
        for key in sorted(added):  # sets of old versions' keys: sorted so that the order is the
            if child:  # same in every process (a set's order follows PYTHONHASHSEED)
                other(key, 1, record_key)
            else:
                adds.setdefault(key, set()).add(record_key)
            if key in now:
                placed.setdefault(key, {})[record_key] = now[key]
        for key in sorted(before - after):
            other(key, 2 if child else 0, record_key)
    block_limit, id_limit, children_limit = limits["block"], limits["id"], limits.get("children", 2000)
    empty: frozenset[str] = frozenset()
    # ``tuple.__new__`` with every field given: what ``BlockChange(...)`` does, without the named
    # tuple's Python-level ``__new__`` (half the cost of a change, and a batch makes ~900).
    make, get_placed = tuple.__new__, placed.get
    out = [
        make(
            BlockChange,
            (
                key,
                frozenset(add),
                empty,
                id_limit if key[:3] == "id:" else block_limit,
                empty,
                empty,
                children_limit,
                get_placed(key, NO_ORDERS),
            ),
        )
        for key, add in adds.items()
        if key not in rest
    ]
    for key, (remove, add_children, remove_children) in rest.items():
        add = adds.get(key)
        change = (
            key,
            frozenset(add) if add else empty,
            frozenset(remove) if remove else empty,
            id_limit if key[:3] == "id:" else block_limit,
            frozenset(add_children) if add_children else empty,
            frozenset(remove_children) if remove_children else empty,
            children_limit,
            get_placed(key, NO_ORDERS),
        )
        out.append(make(BlockChange, change))
    return out
