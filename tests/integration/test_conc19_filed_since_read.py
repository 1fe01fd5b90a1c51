"""conc19: writers of one person's records interleaved at every step boundary end as one customer,
as a serial run does (core.link_recheck: a committed batch reads its keys again and joins the
records another writer filed there since its read), on memory, SQLite and DynamoDB (moto).

Ann's three records match only fuzzily (each has an email of its own). Writer 1 ingests her CRM
record; after its ``k``-th store call (tests.interleave.after_call) writer 2 ingests her shop
record, and after ITS ``j``-th call writer 3 ingests her mail record whole: every pair (k, j) of
step boundaries, so every order of their filings, reads and commits. And a writer killed after any
store call before its commit (a filing never committed): the others join without its record, its
record never joins anybody, and delivered again, it joins them.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import pytest

from tests.integration.identity_attack_records import groups, resolve_lines
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_erasure_attacks import STORES
from tests.integration.test_lean17_writer_between_batches import ANN_CRM, ANN_MAIL, ANN_SHOP
from tests.interleave import after_call

ALL = frozenset({"crm:1", "shop:2", "mail:3"})


class _Killed(BaseException):
    """The process dies (not an error anything catches)."""


def _writer(stores: Any, s: Any, line: Any, k: int | None, then: Callable[[], None]) -> list[str]:
    """Ingest ``line``; ``then`` runs after its ``k``-th store call (None: never). Its calls, by name."""
    with after_call(stores.profiles, k, then) as made:
        resolve_lines([line], stores.profiles, settings=s)
    return list(made)


def _three(store: str, k: int, j: int) -> tuple[set[frozenset[str]], int, int]:
    """Writer 1 (CRM) with writer 2 (shop) after its call ``k``, writer 3 (mail) after writer 2's
    call ``j``; the customers, and how many calls writers 1 and 2 made."""
    with STORES[store]() as stores:
        s = _settings(stores)
        inner: list[str] = []

        def third() -> None:
            resolve_lines([ANN_MAIL], stores.profiles, settings=s)

        def second() -> None:
            inner.extend(_writer(stores, s, ANN_SHOP, j, third))

        made = _writer(stores, s, ANN_CRM, k, second)
        return groups(stores.profiles), len(made), len(inner)


def _pairs(store: str) -> list[tuple[int, int]]:
    """Every (k, j): writer 1's calls k, and for each, writer 2's calls j as that run makes them."""
    _, first, _ = _three(store, 10**6, 10**6)
    out: list[tuple[int, int]] = []
    for k in range(1, first + 1):
        _, _, second = _three(store, k, 10**6)
        out.extend((k, j) for j in range(1, second + 1))
    return out


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_three_writers_at_every_step_boundary_end_as_one_customer(store: str) -> None:
    pairs = _pairs(store)
    # every boundary of two writers' filings, reads and commits (a writer's re-check is one call
    # fewer where nobody else wrote: core.link_changes)
    assert len(pairs) > 20
    for k, j in pairs:
        customers, _, _ = _three(store, k, j)
        assert customers == {ALL}, f"shop after CRM call {k}, mail after shop call {j}"


def test_three_writers_on_dynamodb_end_as_one_customer() -> None:
    # moto is slower: the boundaries around writer 1's reads and commit, and a seeded sample of the rest.
    # The pairs are counted on DynamoDB itself: the in-memory store skips a lone writer's re-check
    # (core.link_changes), so its writers make one call fewer and its pairs are another sequence.
    pairs = _pairs("dynamodb")
    rng = random.Random(19)
    for k, j in sorted(rng.sample(pairs, min(8, len(pairs)))):
        customers, _, _ = _three("dynamodb", k, j)
        assert customers == {ALL}, f"shop after CRM call {k}, mail after shop call {j}"


def _killed(store: str, k: int, j: int, again: bool) -> set[frozenset[str]]:
    """Writer 1 (CRM) killed after its call ``k``; writer 2 (shop) whole after its call ``j`` (< k,
    0: before it starts); then writer 1's record delivered again when ``again``."""
    with STORES[store]() as stores, ExitStack() as hooks:
        s = _settings(stores)

        def kill() -> None:
            raise _Killed

        def shop() -> None:
            resolve_lines([ANN_SHOP], stores.profiles, settings=s)
            # armed after the shop writer: only writer 1's calls from here on count
            hooks.enter_context(after_call(stores.profiles, k - j, kill))

        if j == 0:
            shop()
        with pytest.raises(_Killed):
            _writer(stores, s, ANN_CRM, j or None, shop)
        hooks.close()
        if again:
            resolve_lines([ANN_CRM], stores.profiles, settings=s)
        return groups(stores.profiles)


@pytest.mark.parametrize("store", sorted(STORES))
def test_a_writer_killed_before_its_commit_joins_nobody_until_delivered_again(store: str) -> None:
    with STORES[store]() as stores:
        made = _writer(stores, _settings(stores), ANN_CRM, None, lambda: None)
    commit = made.index("commit") + 1  # killed after a call before it: never committed
    cases = [(k, j) for k in range(1, commit) for j in range(k)]
    if store == "dynamodb":  # moto is slower: a seeded sample
        cases = random.Random(19).sample(cases, min(6, len(cases)))
    for k, j in cases:
        assert _killed(store, k, j, again=False) == {frozenset({"shop:2"})}, (k, j)
        assert _killed(store, k, j, again=True) == {frozenset({"crm:1", "shop:2"})}, (k, j)
