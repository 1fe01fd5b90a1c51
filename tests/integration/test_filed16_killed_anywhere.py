"""A process killed between ANY two store calls of an ingest (its filing in the identity index, its
reads, its commit), then versions delivered again, newer, older, and an erasure, in any order, on the
in-memory, SQLite and DynamoDB (moto) stores (core.link_filed: where a record is filed is written
ahead of the filing).

Eli has four versions: on Quillon Road, moved to Tanner Row, renamed there, and back on Quillon Road
as she first was (only its time differs: an unchanged record, touched). Ada, her neighbour, has two.
Both first versions are stored; then hypothesis draws a batch (one of Eli's versions, maybe with
Ada's later one) and the store call the process dies at (raising a ``BaseException`` nothing
catches, before the call), and a program of deliveries, more such kills and erasures of Eli. Then:

* after her erasure, no ``BLOCK#`` item names her record or holds any of her places (Tanner Row is
  hers alone; her folded name and birth date too);
* without it, once a newer version of everyone is delivered (filed and stored), the index lists
  each record under its stored version's keys exactly, at its stored version's places.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.identity import IdentityPolicy
from core.link_nodes import graph_node, index_keys, node_orders
from core.linkage import default_model
from core.schema import Identifier
from tests.hypothesis_profiles import examples
from tests.integration.identity_attack_records import Flat, flat, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_attack9_place_programs import STREET, _held, _record
from tests.integration.test_erasure_attacks import STORES, Stores
from tests.integration.test_erasure_block_orders import _block_text

ELI, ADA = "crm:contact:8", "crm:contact:1"
ELI_EMAIL = "okafor8@example.com"


def _eli(version: int) -> Flat:
    address, first = [("23 Quillon Road", "Eli"), ("9 Tanner Row", "Eli"), ("9 Tanner Row", "Elspeth")][
        min(version, 3) % 3
    ]
    if version == 4:  # the settling version: newer than any the program delivers
        address = "31 Quillon Road"
    return flat(
        "crm",
        "8",
        day=version,
        email=ELI_EMAIL,
        **{**STREET, "first_name": first, "date_of_birth": "1980-06-06"},
        address=address,
    )


def _ada(version: int) -> Flat:
    address = ["10 Quillon Road", "12 Quillon Road", "14 Quillon Road"][version]
    fields = {**STREET, "first_name": "Ada", "date_of_birth": "1980-01-01", "address": address}
    return flat("crm", "1", day=version, email="okafor1@example.com", **fields)


def _filing(line: Flat) -> tuple[set[str], dict[str, str]]:
    node = graph_node(_record(line), IdentityPolicy())
    return set(index_keys(node, default_model())), node_orders(node)


EVERY_KEY = sorted({k for line in [*map(_eli, range(5)), *map(_ada, range(3))] for k in _filing(line)[0]})
HER_PLACES = sorted(
    {p for v in range(5) for p in _filing(_eli(v))[1].values()}
    - {p for v in range(3) for p in _filing(_ada(v))[1].values()}
)


class _Killed(BaseException):
    """The process dies (not an error anything catches)."""


def _store_calls(store: Any) -> list[str]:
    """The names of the store's public methods: the calls a kill may come before."""
    return [n for n, f in inspect.getmembers(type(store), inspect.isfunction) if not n.startswith("_")]


def _killed_at(stores: Stores, lines: list[Flat], at: int) -> bool:
    """Resolve ``lines`` with the process killed before the store's call number ``at``; whether it was."""
    store = stores.profiles
    calls = [0]

    def wrapped(name: str) -> Callable[..., Any]:
        method = getattr(type(store), name)

        def call(*args: Any, **kwargs: Any) -> Any:
            calls[0] += 1
            if calls[0] == at:
                raise _Killed(name)
            return method(store, *args, **kwargs)

        return call

    names = _store_calls(store)
    for name in names:
        setattr(store, name, wrapped(name))
    try:
        resolve_lines(lines, store, settings=_settings(stores))
    except _Killed:
        return True
    finally:
        for name in names:
            delattr(store, name)
    return False


def _check_filed_as_stored(stores: Stores) -> None:
    """Each record the store holds is listed under its stored version's keys and no other, at its
    stored version's places."""
    held = _held(stores)
    blocks = stores.profiles.get_blocks(EVERY_KEY)
    for record_key, record in held.items():
        keys, places = _filing_of(record)
        listed = {
            k for k, state in blocks.items() if record_key in state.members or record_key in state.children
        }
        assert listed <= keys, (record_key, sorted(listed - keys))
        for key in keys:
            state = blocks.get(key)
            assert state is not None, (record_key, key)
            if state.overloaded:
                continue
            assert key in listed, (record_key, key)
            assert state.orders.get(record_key) == places.get(key), (record_key, key)


def _filing_of(record: Any) -> tuple[set[str], dict[str, str]]:
    node = graph_node(record, IdentityPolicy())
    return set(index_keys(node, default_model())), node_orders(node)


def _check_erased(stores: Stores) -> None:
    text = _block_text(stores.profiles)
    assert ELI not in text
    assert "tanner" not in text.lower()
    assert [p for p in HER_PLACES if p in text] == []


STEP = st.one_of(
    st.tuples(st.just("eli"), st.integers(0, 3)),
    st.tuples(st.just("ada"), st.integers(0, 1)),
    st.tuples(st.just("erase"), st.just(0)),
    st.tuples(st.just("kill"), st.tuples(st.integers(0, 3), st.integers(1, 10))),  # killed again
)


def _run(stores: Stores, killed: int, with_ada: bool, at: int, program: list[tuple[str, Any]]) -> None:
    resolve_lines([_eli(0), _ada(0)], stores.profiles, settings=_settings(stores))
    _killed_at(stores, [_eli(killed), *([_ada(1)] if with_ada else [])], at)
    erased = False
    for action, version in program:
        if action == "kill":
            if not erased:  # (her version killed after her erasure is dropped as suppressed)
                _killed_at(stores, [_eli(version[0])], version[1])
        elif action == "erase":
            email = Identifier.assemble(kind="email", value=ELI_EMAIL)
            report = stores.erase(email, "req-eli", IdentityPolicy(), _settings(stores))
            assert report.outcome in ("erased", "not_found"), report
            erased = True
            _check_erased(stores)
        else:
            line = _eli(version) if action == "eli" else _ada(version)
            resolve_lines([line], stores.profiles, settings=_settings(stores))
    if erased:
        _check_erased(stores)
        return
    # Settled: a newer version of each, filed and stored.
    resolve_lines([_eli(4), _ada(2)], stores.profiles, settings=_settings(stores))
    _check_filed_as_stored(stores)


def _example(max_examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return settings(max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])


KILLED = st.integers(0, 3)
CALLS = 13
"""The store calls of one ingest of a batch here (13 on the in-memory store: owners and tombstones,
customers, the writes mark before the reads (core.link_changes), the blocks read and filed twice
(the write-ahead, the filing), reviews, the commit, the reviews filed and requeued, the owners read
again, and whether anyone else wrote since the mark (core.link_recheck: where nobody did, the keys
are not read again))."""
AT = st.integers(1, CALLS)
PROGRAM = st.lists(STEP, max_size=5)


def _test(stores_of: Callable[[], AbstractContextManager[Stores]], *drawn: Any) -> None:
    with stores_of() as stores:
        _run(stores, *drawn)


def test_the_population_puts_her_places_apart() -> None:
    """The premise: Eli's versions file her under keys and places Ada's do not have (Tanner Row, her
    name), and the kill points drawn cover every store call of one ingest of a batch."""
    assert "tanner" in " ".join(HER_PLACES).lower()
    eli = set().union(*(_filing(_eli(v))[0] for v in range(4)))
    assert eli - set().union(*(_filing(_ada(v))[0] for v in range(3)))
    with STORES["memory"]() as stores:
        resolve_lines([_eli(0), _ada(0)], stores.profiles, settings=_settings(stores))
        assert _killed_at(stores, [_eli(1), _ada(1)], 1)
    with STORES["memory"]() as stores:
        resolve_lines([_eli(0), _ada(0)], stores.profiles, settings=_settings(stores))
        assert not _killed_at(stores, [_eli(1), _ada(1)], CALLS + 1)  # AT draws every call


@pytest.mark.parametrize(
    ("name", "examples"),
    [
        ("memory", examples(ci=20, deep=40)),
        ("sqlite", examples(ci=6, deep=12)),
        ("dynamodb", examples(ci=4, deep=8)),
    ],
)
def test_a_kill_anywhere_then_any_deliveries_leave_the_index_as_stored_or_erased(
    name: str, examples: int
) -> None:
    @_example(examples)
    @given(killed=KILLED, with_ada=st.booleans(), at=AT, program=PROGRAM)
    def check(killed: int, with_ada: bool, at: int, program: list[tuple[str, Any]]) -> None:
        _test(STORES[name], killed, with_ada, at, program)

    check()
