"""The filing's shortcuts (issue 13's throughput, round 22) give what the code they replaced gave,
on hypothesis-made batches: records new and updated, people and child objects, keys kept, added and
dropped, places changed or not.

- ``changes_for`` files people's adds apart from the rare removals and children's, and no longer
  sorts its changes: the same changes as the slot-per-key rule (``_changes_reference``), as a set.
- ``ahead`` walks the changes once without a tuple of sides per change and makes its entries
  without the named tuple's ``__new__``: the same entries (``_ahead_reference``).
- The in-memory store's ``update_blocks`` reads each change unpacked: the same state as the rule
  field by field (``_apply_reference``), from the same start.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from core.link_blocks import NO_ORDERS, BlockChange, BlockState, changes_for
from core.link_filed import FILED_LIMIT, ahead, filed_key, left_key
from core.storage.memory import InMemoryProfileStore

_KEYS = ["sb:A:1975", "sb:B:1980", "nn:ANN", "hs:1:HIGH", "id:email#a", "id:email#b", "id:phone#1"]
_RECORDS = ["crm:1", "crm:2", "shop:3", "mail:4", "shop:order:5"]
_PLACES = ["ann\x1fsmith", "bea\x1fjones", "cat"]


def _changes_reference(
    old: Mapping[str, Iterable[str]],
    new: Mapping[str, Iterable[str]],
    limits: Mapping[str, int],
    children: set[str],
    orders: Mapping[str, Mapping[str, str]],
    old_orders: Mapping[str, Mapping[str, str]],
) -> list[BlockChange]:
    """The rule as it was: a slot of four sets per key, sorted by key."""
    slots: dict[str, list[set[str]]] = {}
    placed: dict[str, dict[str, str]] = {}
    for record_key in set(old) | set(new):
        child = 2 if record_key in children else 0
        previous = old.get(record_key)
        now = orders.get(record_key, NO_ORDERS)
        if previous is None:
            movements: list[tuple[set[str], int]] = [(set(new.get(record_key, ())), 0)]
        else:
            before, after = set(previous), set(new.get(record_key, ()))
            added = after - before
            then = old_orders.get(record_key, NO_ORDERS)
            added |= {k for k in after & before if k in now and then.get(k) != now[k]}
            movements = [(added, 0), (before - after, 1)]
        for moved, offset in movements:
            for key in moved:
                slots.setdefault(key, [set(), set(), set(), set()])[child + offset].add(record_key)
                if offset == 0 and key in now:
                    placed.setdefault(key, {})[record_key] = now[key]
    return [
        BlockChange(
            key,
            frozenset(slot[0]),
            frozenset(slot[1]),
            limits["id"] if key.startswith("id:") else limits["block"],
            frozenset(slot[2]),
            frozenset(slot[3]),
            orders=placed.get(key, NO_ORDERS),
        )
        for key, slot in sorted(slots.items())
    ]


def _ahead_reference(changes: list[BlockChange], tags: Mapping[str, str]) -> list[BlockChange]:
    touched: dict[str, list[str]] = {}
    for change in changes:
        for side in (change.add, change.add_children):
            for member in side:
                touched.setdefault(member, []).append(change.key)
        for side in (change.remove, change.remove_children):
            for member in side:
                touched.setdefault(member, []).append(left_key(change.key))
    return [
        BlockChange(filed_key(r), frozenset(keys), limit=FILED_LIMIT, orders=dict.fromkeys(keys, tags[r]))
        for r, keys in sorted(touched.items())
        if r in tags
    ]


def _apply_reference(blocks: dict[str, BlockState], changes: list[BlockChange]) -> None:
    for change in changes:
        current = blocks.get(change.key, BlockState(change.key))
        children = current.children - change.remove_children
        if len(children | change.add_children) <= change.children_limit:
            children |= change.add_children
        overloaded = current.overloaded
        members = frozenset() if overloaded else (current.members - change.remove) | change.add
        if len(members) > change.limit:
            members, overloaded = frozenset(), True
        orders = {k: v for k, v in {**current.orders, **change.orders}.items() if k in members}
        if members or overloaded or children:
            blocks[change.key] = BlockState(change.key, members, overloaded, children, orders or NO_ORDERS)
        else:
            blocks.pop(change.key, None)


_VERSION = st.tuples(
    st.lists(st.sampled_from(_KEYS), unique=True, max_size=5),
    st.dictionaries(st.sampled_from(_KEYS[:4]), st.sampled_from(_PLACES), max_size=4),
)
_BATCH = st.fixed_dictionaries(
    {
        "new": st.dictionaries(st.sampled_from(_RECORDS), _VERSION, max_size=5),
        "old": st.dictionaries(st.sampled_from(_RECORDS), _VERSION, max_size=5),
        "children": st.sets(st.sampled_from(_RECORDS)),
        "limits": st.fixed_dictionaries({"block": st.integers(1, 4), "id": st.integers(1, 4)}),
    }
)


def _inputs(batch: dict) -> tuple:  # type: ignore[type-arg]
    new = {r: tuple(keys) for r, (keys, _) in batch["new"].items()}
    old = {r: tuple(keys) for r, (keys, _) in batch["old"].items()}
    # A child object has no place (core.link_nodes.node_orders): only people's are filed.
    orders = {
        r: {k: p for k, p in places.items() if k in new[r]}
        for r, (_, places) in batch["new"].items()
        if r not in batch["children"]
    }
    then = {r: places for r, (_, places) in batch["old"].items()}
    return old, new, batch["limits"], batch["children"], orders, then


@settings(max_examples=300, deadline=None)
@given(_BATCH, st.lists(st.lists(st.sampled_from(_KEYS), max_size=3), max_size=3))
def test_changes_ahead_and_the_memory_store_give_what_the_rules_they_replaced_gave(
    batch: dict,  # type: ignore[type-arg]
    before: list[list[str]],
) -> None:
    old, new, limits, children, orders, then = _inputs(batch)
    got = changes_for(old, new, limits, children, orders, then)
    want = _changes_reference(old, new, limits, children, orders, then)
    assert len({c.key for c in got}) == len(got)  # one change per key
    assert sorted(got) == want
    assert got == changes_for(old, new, limits, children, orders, then)  # the same input, the same list
    tags = {r: f"tag{n}" for n, r in enumerate(sorted(new)) if n % 3 != 2}
    assert ahead(got, tags) == _ahead_reference(want, tags)
    # The store from a start of earlier filings (some keys overloaded, some with places), then these.
    store, blocks = InMemoryProfileStore(), {}
    for n, keys in enumerate(before):
        start = [BlockChange(k, frozenset({f"old:{n}"}), limit=2, orders={f"old:{n}": "zz"}) for k in keys]
        store.update_blocks(start)
        _apply_reference(blocks, start)
    store.update_blocks(got)
    _apply_reference(blocks, want)
    assert store.get_blocks(sorted(blocks)) == {k: blocks[k] for k in sorted(blocks)}
    assert store.get_blocks(_KEYS).keys() == blocks.keys()


def test_the_changes_come_in_one_order_in_every_process() -> None:
    """An old version's keys are sets: walked as they come, their order followed PYTHONHASHSEED, so
    which keys a DynamoDB transaction of 100 wrote before a kill differed from run to run (revB22)."""
    import os
    import subprocess
    import sys

    program = (
        "from core.link_index import changes_for\n"
        "old = {'crm:1': ('sb:a', 'sb:b', 'sb:c', 'id:x', 'id:y'), 'crm:2': ('sb:q',)}\n"
        "new = {'crm:1': ('sb:d', 'sb:e', 'sb:f', 'id:z', 'id:w', 'sb:g'), 'crm:3': ('sb:a', 'sb:h')}\n"
        "print([c.key for c in changes_for(old, new, {'block': 100, 'id': 100}, set())])\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", program],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in (1, 2, 3, 4)
    }
    assert len(outputs) == 1, outputs
