"""reva16: a filing of hers killed before any of its store calls while another writer of the same
record (same match fields, or other ones) runs after any of its calls, or inside the filing; then a
later version and her erasure: nothing of hers may be left in the index. And her erasure killed
anywhere after a killed filing of hers, then sent again.

Red before c3cb50d (see test_reva16_filing_races.py). Thinned from the review's sweeps to keep the
runtime modest: B after A's calls on memory only (never red), B inside A on memory and SQLite in
full and DynamoDB (moto) at a point red before, the killed erasure at every call on memory and at
every third (SQLite) or eighth (DynamoDB) call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.identity_attack_records import resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_erasure_attacks import STORES
from tests.integration.test_filed16_killed_anywhere import _ada, _eli, _Killed, _killed_at, _store_calls
from tests.integration.test_reva16_filing_races import eli, erase_her, nothing_of_hers
from tests.interleave import after_call

B_LINES: dict[str, Callable[[str | None], Any]] = {
    "same_match": lambda dob: eli(2, "9 Tanner Row", dob=dob, loyalty_tier="gold"),
    "other_match": lambda dob: eli(2, "9 Tanner Row", first="Elspeth", dob=dob),
}
DOBS = pytest.mark.parametrize("dob", ["1980-06-06", None], ids=["dated", "no_birth_date"])
KINDS = pytest.mark.parametrize("b_kind", sorted(B_LINES))
STORE_NAMES = pytest.mark.parametrize("name", ["memory", "sqlite"])


def _calls_wrapped(stores: Any, hook: Callable[[str], bool]) -> Callable[[], None]:
    """Wrap the store's calls: before each, ``hook(name)`` (True: kill here). Returns the undo, which
    also puts back the wrappers it found (an outer after_call's)."""
    store = stores.profiles
    names = _store_calls(store)
    saved = {n: store.__dict__[n] for n in names if n in store.__dict__}

    def wrapped(name: str) -> Any:
        method = getattr(type(store), name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if hook(name):
                raise _Killed(name)
            return method(store, *args, **kwargs)

        return call

    for name in names:
        setattr(store, name, wrapped(name))

    def undo() -> None:
        for name in names:
            delattr(store, name)
        for name, f in saved.items():
            setattr(store, name, f)

    return undo


def _killed_before(stores: Any, line: Any, at: int, inside: Callable[[int], None] = lambda _: None) -> bool:
    """Resolve ``line`` killed before its store call ``at``; ``inside(n)`` runs after its call n."""
    calls = [0]
    busy = [False]

    def hook(_: str) -> bool:
        if busy[0]:
            return False
        calls[0] += 1
        if calls[0] > 1:
            busy[0] = True
            try:
                inside(calls[0] - 1)
            finally:
                busy[0] = False
        return calls[0] == at

    undo = _calls_wrapped(stores, hook)
    try:
        resolve_lines([line], stores.profiles, settings=_settings(stores))
    except _Killed:
        return True
    finally:
        undo()
    return False


def _later_then_erased(stores: Any, dob: str | None) -> bool:
    resolve_lines([eli(4, "40 Yarn Street", dob=dob)], stores.profiles, settings=_settings(stores))
    erase_her(stores)
    return nothing_of_hers(stores)


def _a_after_b_call(name: str, b_kind: str, dob: str | None, k: int, at: int) -> bool:
    """B (``b_kind``) ingested; after its call ``k`` A files Quillon Road killed before its call ``at``.
    Whether nothing of hers is left after a later version and her erasure (True if B makes < k calls)."""
    with STORES[name]() as stores:
        resolve_lines([eli(1, "9 Tanner Row", dob=dob)], stores.profiles, settings=_settings(stores))
        a = eli(3, "23 Quillon Road", dob=dob)

        def act() -> None:
            _killed_before(stores, a, at)

        with after_call(stores.profiles, k, act) as made:
            resolve_lines([B_LINES[b_kind](dob)], stores.profiles, settings=_settings(stores))
        return len(made) < k or _later_then_erased(stores, dob)


def _b_inside_a(name: str, b_kind: str, dob: str | None, k: int, at: int) -> bool:
    """A files Quillon Road killed before its call ``at``; B (``b_kind``) runs whole after A's call ``k``."""
    with STORES[name]() as stores:
        resolve_lines([eli(1, "9 Tanner Row", dob=dob)], stores.profiles, settings=_settings(stores))
        b = B_LINES[b_kind](dob)

        def inside(n: int) -> None:
            if n == k:
                resolve_lines([b], stores.profiles, settings=_settings(stores))

        if not _killed_before(stores, eli(3, "23 Quillon Road", dob=dob), at, inside):
            return True
        return _later_then_erased(stores, dob)


@DOBS
@KINDS
def test_a_filing_killed_anywhere_after_any_call_of_another_writer_leaves_nothing(
    b_kind: str, dob: str | None
) -> None:
    """GIVEN Eli stored on Tanner Row (in-memory store)
    WHEN writer B ingests her again (same or other match fields) and, after B's store call k, writer A
    files her Quillon Road version killed before its store call ``at``; then a later version, then
    her erasure
    THEN the index holds neither her record nor a Quillon key, at every (k, at) tried."""
    bad = [
        (k, at)
        for k in range(1, 12)
        for at in range(1, 9)
        if not _a_after_b_call("memory", b_kind, dob, k, at)
    ]
    assert bad == []


@DOBS
@KINDS
@STORE_NAMES
def test_another_writer_inside_a_filing_killed_anywhere_leaves_nothing(
    name: str, b_kind: str, dob: str | None
) -> None:
    """GIVEN Eli stored on Tanner Row
    WHEN writer A files her Quillon Road version killed before its store call ``at``, and writer B
    ingests her again (same or other match fields) whole after A's call k < at; then a later
    version, then her erasure
    THEN the index holds neither her record nor a Quillon key, at every (k, at) tried."""
    bad = [(k, at) for at in range(2, 10) for k in range(1, at) if not _b_inside_a(name, b_kind, dob, k, at)]
    assert bad == []


@pytest.mark.parametrize("b_kind", sorted(B_LINES))
def test_dynamodb_another_writer_inside_a_killed_filing_leaves_nothing(b_kind: str) -> None:
    """GIVEN Eli stored on Tanner Row in DynamoDB (moto)
    WHEN writer B ingests her again whole inside A's filing of her Quillon Road version, which is
    killed; then a later version, then her erasure
    THEN the index holds neither her record nor a Quillon key (the sweep above, at a point red before)."""
    assert _b_inside_a("dynamodb", b_kind, "1980-06-06", 3, 5)


@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_her_erasure_killed_anywhere_after_a_killed_filing_then_sent_again_leaves_nothing(name: str) -> None:
    """GIVEN Eli and Ada stored, and a filing of Eli's Tanner Row version killed before its commit
    (her entry lists keys her stored version does not have)
    WHEN her erasure is killed before its store call ``at``, then sent again
    THEN the index holds neither her record nor a Tanner key, at every ``at`` until the erasure runs
    whole."""
    bad = []
    at = 0
    step = {"memory": 1, "sqlite": 3, "dynamodb": 8}[name]
    while True:
        at += step
        with STORES[name]() as stores:
            resolve_lines([_eli(0), _ada(0)], stores.profiles, settings=_settings(stores))
            assert _killed_at(stores, [_eli(1)], 5)
            calls = [0]

            def hook(_: str, calls: list[int] = calls, at: int = at) -> bool:
                calls[0] += 1
                return calls[0] == at

            undo = _calls_wrapped(stores, hook)
            try:
                erase_her(stores)
                break
            except _Killed:
                pass
            finally:
                undo()
            erase_her(stores, "req-eli-2")
            if not nothing_of_hers(stores, "tanner"):
                bad.append(at)
    assert at > 5
    assert bad == []
