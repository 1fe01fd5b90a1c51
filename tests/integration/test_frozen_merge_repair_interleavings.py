"""The repair of a customer an older version froze (core.merge_undo), interleaved with the writers
that meet the same customers: ingests of later versions of either person's records, a second repair,
her erasure; each runs after the repair's k-th store call returns (every point of its reads, its
copies, handovers, deletes, requeue and last write), and likewise inside an ingest that meets the
frozen customer and takes the merge back itself, on the in-memory and SQLite stores
(``REPAIR_EXAMPLES`` programs each, 15 unless told, 8 in the ci profile). Whatever the point:
nothing stays frozen, no
record is quarantined, the customers are the two people as before (hers gone when she was erased,
her namesake's whole), the store is consistent, and the pair waits for review unless she was erased.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.merge_undo import repair_frozen
from core.suppression import SuppressionCheck
from core.testing.invariants import store_problems
from tests.hypothesis_profiles import examples
from tests.integration.identity_attack_records import groups, resolve_lines
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.kit_copies import opened_kit as _kit
from tests.integration.store_port.test_frozen_merge_repair import (
    CRM_KEY,
    NAMESAKE_KEY,
    SALT,
    _broken,
    _erase_her,
    _frozen,
)
from tests.integration.test_attack8_review_sizes import CRM, NAMESAKE

EXAMPLES = int(os.environ.get("REPAIR_EXAMPLES", examples(ci=8, deep=15)))
CALLS = ("get_customers", "get_owners", "commit", "get_reviews", "requeue_review", "iter_profiles")
LATER = {
    "crm": {**CRM, "updated_at": "2026-04-01T00:00:00Z", "job": "chemist"},
    "mail": {**NAMESAKE, "updated_at": "2026-04-01T00:00:00Z", "job": "vet"},
}
OTHER = st.tuples(st.sampled_from(["crm", "mail", "repair", "erase"]), st.integers(0, 24))


def _interleaved(
    kit: StoreKit, others: list[tuple[str, int]], act: Callable[[str], None], calls: tuple[str, ...] = CALLS
) -> Any:
    """Run each of ``others`` after the k-th store call of what runs inside (the order given), of
    the store methods ``calls`` names."""
    store = kit.profiles
    todo = sorted(others, key=lambda o: o[1])
    count, busy = [0], [False]

    def wrap(real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            found = real(*args)
            if not busy[0]:
                count[0] += 1
                busy[0] = True
                try:
                    while todo and todo[0][1] < count[0]:
                        act(todo.pop(0)[0])
                finally:
                    busy[0] = False
            return found

        return call

    @contextlib.contextmanager
    def running() -> Iterator[None]:
        for name in calls:
            setattr(store, name, wrap(getattr(store, name)))
        try:
            yield
        finally:
            for name in calls:
                delattr(store, name)
            while todo:
                act(todo.pop(0)[0])

    return running()


def _program(name: str, others: list[tuple[str, int]], first: str = "repair") -> None:
    with _kit(name) as kit:
        ingest_settings, before = _broken(kit)
        assert kit.suppression is not None
        # Ingest checks what her erasure suppressed (a later version of her record stays out).
        checked = replace(ingest_settings, suppression=SuppressionCheck(kit.suppression, SALT))
        quarantined: list[Any] = []
        erased: list[bool] = []

        def act(action: str) -> None:
            if action == "repair":
                assert repair_frozen(kit.profiles, ingest_settings)[1] == []
            elif action == "erase":
                assert _erase_her(kit, ingest_settings).outcome in {"erased", "not_found"}
                erased.append(True)
            else:
                quarantined.extend(resolve_lines([LATER[action]], kit.profiles, settings=checked)[1])

        with _interleaved(kit, others, act):
            act(first)
        store = kit.profiles
        assert quarantined == []
        assert _frozen(store) == []
        assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
        namesake = frozenset({"mail:3", *(f"mail:b{i}" for i in range(7))})
        if erased:
            assert groups(store) == {namesake}
        else:
            assert groups(store) == before
            item = store.get_reviews([(CRM_KEY, NAMESAKE_KEY)])[(CRM_KEY, NAMESAKE_KEY)]
            assert item.status == "pending"


@pytest.mark.parametrize("name", ["memory", "sqlite"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(others=st.lists(OTHER, min_size=1, max_size=3))
def test_a_repair_interleaved_with_ingests_another_repair_and_her_erasure_ends_apart(
    name: str, others: list[tuple[str, int]]
) -> None:
    _program(name, others)


@pytest.mark.parametrize("name", ["memory", "sqlite"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.sampled_from(["crm", "mail", "erase"]), others=st.lists(OTHER, min_size=1, max_size=3))
def test_an_ingest_or_her_erasure_meeting_the_frozen_customer_interleaved_with_the_rest_ends_apart(
    name: str, first: str, others: list[tuple[str, int]]
) -> None:
    _program(name, others, first)
