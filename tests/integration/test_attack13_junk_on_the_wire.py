"""attack13: hypothesis-drawn junk inside one otherwise valid vendor object, on the wire, through
``pull_into_store`` (what ``profilesync sync`` runs), on every built-in connector.

A person is added to the tool between two runs; between the sandbox and the connector, every
object of the vendor's answers that holds her email (her contact, member, profile, customer, order
or the event carrying it) has one to three of its values replaced with a drawn one: null where text
is, an object or a list where a scalar is, 10,000 characters, emoji, right-to-left and combining
marks, NUL, a lone surrogate, numbers as text and text as numbers, amounts as ``"1,234.50"`` or
``1e3``, currencies in lower case, times in epoch seconds or milliseconds or ISO with and without
an offset, before 1970 and after 2100; or a value is removed. Promises: the run goes on (nothing
raised), every record it pulled is normalised or quarantined with a reason (``pulled = normalised
+ quarantined``), every other record of the tool is in a profile, and the next run goes on too.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
from core.sync import pull_into_store
from profilesync.testing.contract import T_CHANGES
from tests.integration.test_attack4_pages_change_while_paged import PLUGINS, SETTINGS, _held
from tests.integration.test_attack13_hostile_values_on_the_wire import _accounted, tool
from tests.integration.wire_rewrites import holds_marked, rewrite_marked_answers

pytestmark = pytest.mark.slow

TEXTS = st.sampled_from(
    [
        "x" * 10_000,
        "😀👩‍👩‍👧",
        "\u202eevil\u202c",
        "e\u0301\u0336",
        "\x00",
        "\ud800",
        "1,234.50",
        "1e3",
        "usd",
        "gbp",
        "1796472005",
        "1796472005000",
        "2026-12-05T12:00:05",
        "2026-12-05T14:00:05+02:00",
        "2026-12-05T12:00:05.123456Z",
        "1969-07-20T20:17:40Z",
        "2101-01-01T00:00:00Z",
        "",
        "null",
    ]
)
JUNK = st.one_of(
    TEXTS,
    st.none(),
    st.sampled_from([1e3, 1796472005, 1796472005000, -1, 0, 10**20, 1234.5, True]),
    st.just({"id": {"nested": [None]}}),
    st.just([]),
    st.just(["a", {"b": None}]),
    st.text(max_size=30),
)
#: One change to a value: (which of the object's paths, in order; ``(value,)``, or ``("remove",)``).
CHANGE = st.tuples(st.integers(min_value=0), st.one_of(st.just(("remove",)), JUNK.map(lambda v: (v,))))
CHANGES = st.lists(CHANGE)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        found.append((*prefix, key))
        found.extend(_paths(child, (*prefix, key)))
    return found


def _changed(obj: dict[str, Any], changes: list[tuple[int, tuple[Any, ...]]]) -> None:
    for index, change in changes:
        paths = _paths(obj)
        if not paths:
            return
        *steps, last = paths[index % len(paths)]
        holder: Any = obj
        for step in steps:
            holder = holder[step]
        if change == ("remove",) and isinstance(holder, dict):
            del holder[last]
        else:
            holder[last] = copy.deepcopy(change[0]) if change != ("remove",) else None


def _her_objects(value: Any) -> list[dict[str, Any]]:
    """The smallest objects with an id that hold her email (each once; the outermost first)."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if holds_marked(value) and ({"id", "Id"} & value.keys()):
            return [value]
        for child in value.values():
            found += _her_objects(child)
    elif isinstance(value, list):
        for child in value:
            found += _her_objects(child)
    return found


def _breaking(sandbox: Any, changes: list[tuple[int, tuple[Any, ...]]]) -> None:
    """Between the sandbox and its clients, her objects in JSON answers carry ``changes``."""

    def broken(data: Any) -> None:
        for obj in _her_objects(data):
            _changed(obj, changes)

    rewrite_marked_answers(sandbox, broken)


@pytest.mark.parametrize("name", sorted(PLUGINS))
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(changes=CHANGES.filter(bool).map(lambda c: c[:3]))
def test_junk_in_one_object_never_stops_a_run(name: str, changes: list[tuple[int, tuple[Any, ...]]]) -> None:
    sandbox, connector = tool(name, people=3)
    store, state = InMemoryProfileStore(), InMemorySyncStateStore()
    try:
        # GIVEN a synced tool, and a person added to it whose objects the answers carry broken
        pull_into_store(connector, store, state, settings=SETTINGS)
        added = sandbox.add_records(1, at=T_CHANGES + timedelta(seconds=5))
        _breaking(sandbox, changes)
        # WHEN it is synced, twice
        run = pull_into_store(connector, store, state, settings=SETTINGS)
        again = pull_into_store(connector, store, state, settings=SETTINGS)
        # THEN each run accounts for every record it pulled, and every other record is in a profile
        _accounted(run)
        _accounted(again)
        held = {k.split(":", 1)[1] for k in _held(store)}
        assert (sandbox.record_keys() - added) - held == set()
    finally:
        connector.close()
