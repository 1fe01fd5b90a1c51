"""privacy17: a process killed between the pieces DynamoDB applies one ``update_blocks`` call in.

The DynamoDB store sends an index update as transactions of up to 100 actions, removals before adds
(core.storage.dynamodb_links), where the in-memory and SQLite stores apply it whole. Here each
action is a transaction of its own (``_TRANSACTION`` lowered to 1), and the process dies before any
one write request to the table (every piece boundary of the filing, its write-ahead entry and its
settling, and the commit). Eli is stored on Quillon Road; a version of hers on Tanner Row is filed
and killed, then either she is erased (nothing of hers may be left in the index) or a newer version
of her is delivered (the index lists her under its keys exactly, at its places).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.storage.dynamodb_links
from core.identity import IdentityPolicy
from core.schema import Identifier
from tests.hypothesis_profiles import DEEP, PROFILE, examples
from tests.integration.identity_attack_records import Flat, flat, resolve_lines
from tests.integration.store_copies import Restore, given_once, store_copy
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_attack9_place_programs import STREET, _held
from tests.integration.test_erasure_attacks import STORES, Stores
from tests.integration.test_erasure_block_orders import _block_text
from tests.integration.test_filed16_killed_anywhere import (
    ELI_EMAIL,
    _check_erased,
    _eli,
    _filing,
    _filing_of,
    _Killed,
    _killed_at,
)
from tests.integration.test_reva16_filing_races import _run_a_with

#: A newer version of her than any the tests file and kill: her first one (Quillon Road, filed under
#: its keys at its places) with only a loyalty tier added, so that its filing writes nothing where
#: the stored version was filed: a membership lost there is not put back by it.
SETTLER = flat(
    "crm",
    "8",
    day=9,
    email=ELI_EMAIL,
    **{**STREET, "first_name": "Eli", "date_of_birth": "1980-06-06"},
    address="23 Quillon Road",
    loyalty_tier="gold",
)
EVERY_KEY = sorted(set().union(*(_filing(line)[0] for line in [*map(_eli, range(5)), SETTLER])))

WRITES = ("transact_write_items", "update_item", "delete_item", "put_item", "batch_write_item")


def _killed_before_write(stores: Stores, lines: list[Flat], at: int) -> bool:
    """Resolve ``lines``, the process killed before its ``at``-th write request; whether it was."""
    client = stores.profiles._client
    calls = [0]

    def wrapped(real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls[0] += 1
            if calls[0] == at:
                raise _Killed(real.__name__)
            return real(*args, **kwargs)

        return call

    for name in WRITES:
        setattr(client, name, wrapped(getattr(client, name)))
    try:
        resolve_lines(lines, stores.profiles, settings=_settings(stores))
    except _Killed:
        return True
    finally:
        for name in WRITES:
            delattr(client, name)
    return False


def _erase(stores: Stores) -> None:
    email = Identifier.assemble(kind="email", value=ELI_EMAIL)
    report = stores.erase(email, "req-eli", IdentityPolicy(), _settings(stores))
    assert report.outcome == "erased", report


def _killed_before_commit(stores: Stores, lines: list[Flat]) -> None:
    """Resolve ``lines``, the process killed before its commit (its filing done, not stored)."""
    store = stores.profiles

    def commit(*args: Any, **kwargs: Any) -> Any:
        raise _Killed("commit")

    store.commit = commit
    try:
        resolve_lines(lines, store, settings=_settings(stores))
    except _Killed:
        pass
    finally:
        del store.commit


def _given(stores: Stores, killed_first: bool) -> None:
    """Eli stored on Quillon Road; with ``killed_first``, her Tanner Row version filed, not stored."""
    resolve_lines([_eli(0)], stores.profiles, settings=_settings(stores))
    if killed_first:
        _killed_before_commit(stores, [_eli(1)])


def _writes(stores: Stores, line: Flat) -> list[str]:
    """The write requests filing ``line`` makes unkilled (each a kill point), by what they write: the
    request, and each action's kind, item kind and update expression."""
    made: list[str] = []
    client = stores.profiles._client
    for name in WRITES:
        real = getattr(client, name)
        setattr(client, name, lambda *a, _r=real, _n=name, **k: (made.append(_what(_n, k)), _r(*a, **k))[1])
    resolve_lines([line], stores.profiles, settings=_settings(stores))
    for name in WRITES:
        delattr(client, name)
    return made


def _what(name: str, request: dict[str, Any]) -> str:
    actions = [next(iter(a.items())) for a in request.get("TransactItems", [])] or [("", request)]
    out = name
    for kind, body in actions:
        item = body.get("Key", {}).get("PK", {}).get("S", "").split("#")[0]
        out += f" {kind}:{item}:{body.get('UpdateExpression', '')}"
    return out


def _kill_points(writes: list[str]) -> list[int]:
    """The write requests to die before: every one in ``make test-deep``; in ``make test`` the first
    of each run of alike writes (the same request, actions and expressions: the index's removals or
    adds of one filing, each a piece of its own, one key after another) and the last write, so that
    the process dies before each kind of piece with every piece of the kinds before it done. The
    points inside a run die between two pieces of one kind, on other keys: the same code. (The last
    of each run was kept as well until the file cost 41 CPU s; a write-ahead sent after the
    memberships it lists, ``update_blocks``' pieces reordered, still fails every case at the first
    points.)"""
    if PROFILE == DEEP:
        return list(range(1, len(writes) + 1))
    every = range(1, len(writes) + 1)
    return [at for at in every if at in (1, len(writes)) or writes[at - 1] != writes[at - 2]]


#: The version filed and killed: her Tanner Row one over her stored Quillon Road one (a filing and its
#: write-ahead); or, once that one was killed before its commit, her renamed Tanner Row version (the
#: settling retags the Tanner keys) or a newer Quillon Road one (the settling takes her out of them).
CASES = {"filing": (False, 1), "settle-kept": (True, 2), "settle-taken-out": (True, 4)}


def _check_filed_as_stored(stores: Stores) -> None:
    """Her stored version is listed under its keys and no other, at its places."""
    [(record_key, record)] = _held(stores).items()
    keys, places = _filing_of(record)
    blocks = stores.profiles.get_blocks(EVERY_KEY)
    listed = {k for k, state in blocks.items() if record_key in state.members}
    assert listed == keys, (sorted(listed - keys), sorted(keys - listed))
    assert {k: blocks[k].orders.get(record_key) for k in keys} == {k: places.get(k) for k in keys}


#: What the table held once the process died before a write request, by case and kill point. The
#: erase- and newer- tests of one case die at the same points from the same items (the filing is the
#: same; only what follows differs): the second of them on a worker puts back the items the first
#: was left with instead of filing and dying again (each filing killed cost as much as the erasure or
#: the newer version after it). Items only: the stores are new objects over them, as a process
#: started after the kill has; the killed filing runs under whatever code the run runs (a mutation
#: of it is in both tests' items).
_AFTER_KILL: dict[tuple[str, int], Restore] = {}


def _killed_once(stores: Stores, case: str, at: int) -> None:
    """The items of ``case``'s version filed on ``stores`` and killed before its ``at``-th write
    request: filed and killed on the first call, put back from then on."""
    after = _AFTER_KILL.get((case, at))
    if after is not None:
        after(stores.profiles)
        return
    assert _killed_before_write(stores, [_eli(CASES[case][1])], at)
    _AFTER_KILL[(case, at)] = store_copy("dynamodb", stores.profiles)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("then", ["erase", "newer"])
def test_a_kill_between_any_two_pieces_of_a_filing_leaves_nothing_unlisted(
    monkeypatch: pytest.MonkeyPatch, then: str, case: str
) -> None:
    """GIVEN Eli stored on Quillon Road (maybe her Tanner Row version filed and killed), each index
    action a piece of its own
    WHEN a version of hers is filed and the process dies before its n-th write request, for every
    n, and then she is erased (or a newer version of her is delivered)
    THEN the index holds nothing of hers (or lists her exactly as stored)."""
    killed_first, version = CASES[case]
    monkeypatch.setattr(core.storage.dynamodb_links, "_TRANSACTION", 1)
    # Eli stored (and her killed filing) once; each kill point starts from those items put back.
    with given_once("dynamodb", lambda stores: _given(stores, killed_first)) as fresh:
        with fresh() as stores:
            writes = _writes(stores, _eli(version))
        assert len(writes) > 20  # the entry, the filing's pieces, the settling's, the commit
        for at in _kill_points(writes):
            with fresh() as stores:
                _killed_once(stores, case, at)
                if then == "erase":
                    _erase(stores)
                    _check_erased(stores)
                    assert "quillon" not in _block_text(stores.profiles).lower()
                else:
                    resolve_lines([SETTLER], stores.profiles, settings=_settings(stores))
                    _check_filed_as_stored(stores)


# -- the attack: a program of deliveries, kills, racing writers and erasures on the three stores --

STEP = st.one_of(
    st.tuples(st.just("eli"), st.integers(0, 4), st.just(0)),
    st.tuples(st.just("kill"), st.integers(0, 4), st.integers(1, 40)),
    st.tuples(st.just("race"), st.integers(0, 4), st.integers(0, 4)),
    st.tuples(st.just("erase"), st.just(0), st.just(0)),
)


def _program(stores: Stores, name: str, program: list[tuple[str, int, int]]) -> None:
    resolve_lines([_eli(0)], stores.profiles, settings=_settings(stores))
    erased = False
    for action, version, more in program:
        if action == "erase":
            _erase_any(stores)
            erased = True
        elif action == "kill" and not erased:
            if name == "dynamodb":  # before a write request: between any two pieces of a call
                _killed_before_write(stores, [_eli(version)], more)
            else:  # before a store call
                _killed_at(stores, [_eli(version)], 1 + more % 10)
        elif action == "race":
            # Writer A files ``version``; B files ``more`` right after A's write-ahead; A is killed
            # after its second index write unless both versions are one.
            other = lambda m=more: resolve_lines([_eli(m)], stores.profiles, settings=_settings(stores))  # noqa: E731
            _run_a_with(stores, _eli(version), other, kill_after=2 if version != more else 99)
        elif action == "eli":
            resolve_lines([_eli(version)], stores.profiles, settings=_settings(stores))
    if erased:
        _check_erased(stores)
        assert "quillon" not in _block_text(stores.profiles).lower()
        return
    resolve_lines([SETTLER], stores.profiles, settings=_settings(stores))
    _check_filed_as_stored(stores)


def _erase_any(stores: Stores) -> None:
    email = Identifier.assemble(kind="email", value=ELI_EMAIL)
    report = stores.erase(email, "req-eli", IdentityPolicy(), _settings(stores))
    assert report.outcome in ("erased", "not_found"), report


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "examples"),
    [
        ("memory", examples(ci=25, deep=60)),
        ("sqlite", examples(ci=8, deep=15)),
        ("dynamodb", examples(ci=5, deep=10)),
    ],
)
def test_programs_of_kills_racing_writers_and_erasures_leave_the_index_as_stored_or_erased(
    monkeypatch: pytest.MonkeyPatch, name: str, examples: int
) -> None:
    """GIVEN Eli stored on Quillon Road (on DynamoDB each index action a piece of its own)
    WHEN hypothesis draws a program of her versions delivered, filings killed (before any write
    request on DynamoDB, any store call elsewhere), two writers racing on her record (one killed),
    and her erasure
    THEN once erased the index holds nothing of hers; else, a newer version delivered, it lists her
    exactly as stored."""
    if name == "dynamodb":
        monkeypatch.setattr(core.storage.dynamodb_links, "_TRANSACTION", 1)

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(program=st.lists(STEP, min_size=1, max_size=5))
    def check(program: list[tuple[str, int, int]]) -> None:
        with STORES[name]() as stores:
            _program(stores, name, program)

    check()
