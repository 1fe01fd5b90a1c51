"""attack7: attack6's random programs over fuzzy personas (tests/integration/test_attack6_fuzzy_programs.py)
with the NAMED# index read too. Those programs search every item for an erased record's key in clear;
an index item holds BLAKE2b of ``source#<key>``, which that never sees. Here every ``NAMED#`` item
whose hash is that of one of the program's records is shown with the record's name beside its key
(and the in-memory store's index, which keeps no items, is listed the same way), so the programs'
own check finds an index item of a record erased and not delivered again. 12 programs of up to 8
steps on the in-memory and SQLite stores, 3 on DynamoDB (moto): ``ATTACK6_EXAMPLES`` for more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from core.governance.history_names import NAMED_PREFIX, source_name, store_named_pks
from tests.integration.identity_attack_records import Flat
from tests.integration.test_attack6_fuzzy_programs import EXAMPLES, STEPS, _key, _run, programs
from tests.integration.test_attack7_named_index import named_items
from tests.integration.test_erasure_attacks import Stores, dynamodb_stores, memory_stores, sqlite_stores


def _naming(opened: Callable[[], AbstractContextManager[Stores]], versions: list[Flat]) -> Any:
    @contextmanager
    def stores_of() -> Iterator[Stores]:
        with opened() as stores:
            raw = stores.rows
            history = stores.profiles.history
            clear = {
                pk: _key(line)
                for line in versions
                for pk in store_named_pks(history, source_name(_key(line)))
            }

            def rows() -> list[tuple[str, str, str]]:
                found = [r for r in raw() if not r[0].startswith(NAMED_PREFIX)]
                named = [(pk, sk, f"names {clear.get(pk, '?')}") for pk, sk in sorted(named_items(stores))]
                return found + named

            yield replace(stores, rows=rows)

    return stores_of


@pytest.mark.slow
@pytest.mark.parametrize("stores_of", [memory_stores, sqlite_stores], ids=["memory", "sqlite"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=programs(steps=STEPS))
def test_random_programs_leave_no_index_item_of_an_erased_record(
    stores_of: Callable[[], AbstractContextManager[Stores]], drawn: tuple[list[Flat], list[tuple[Any, ...]]]
) -> None:
    versions, program = drawn
    _run(_naming(stores_of, versions), versions, program)


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(drawn=programs(steps=4))
def test_the_same_on_dynamodb(drawn: tuple[list[Flat], list[tuple[Any, ...]]]) -> None:
    versions, program = drawn
    versions = versions[:10]
    program = [s for s in program if s[0] != "deliver" or max(s[1]) < 10]
    _run(_naming(dynamodb_stores, versions), versions, program)
