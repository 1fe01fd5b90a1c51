"""attack7: attack5's random programs (tests/integration/test_attack5_odd_orders.py) with the NAMED#
index of history names read too, and a backfill (``profilesync privacy index-histories``) as a step
at any point, run any number of times. attack5 searches every item for what an erasure took, in
clear; an index item holds a hash of the name, which that never sees. After every step:

* no ``NAMED#`` item is keyed by a name an erasure took (a value or record of hers, in any of the
  ways the index spells one: ``email#``, ``phone#``, ``mailbox#``, ``source#``);
* no ``NAMED#`` item is stale: each is backed by an event of its customer's history that names it
  (an erasure, a retirement, a redaction deletes the items it leaves without an event);
* a backfill writes no item that is not there already (the index is complete as it goes).

On the in-memory and SQLite stores in exact and probabilistic identity (40 programs of up to 14
steps each, ``ATTACK5_EXAMPLES`` for more), and a few on DynamoDB (moto).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.governance.history_names import index_histories, store_named_pks
from tests.integration.test_attack5_odd_orders import _STEP, EXAMPLES, STEPS, Program
from tests.integration.test_attack7_named_index import named_items, stale_named
from tests.integration.test_erasure_attacks import STORES, Stores

_STEPS = st.one_of(_STEP, st.just(("backfill",)))


class NamedProgram(Program):
    def run(self, step: tuple[Any, ...]) -> None:
        if step[0] != "backfill":
            super().run(step)
            return
        before = named_items(self.stores)
        live = sorted({p.customer_id for p in self.stores.profiles.iter_profiles()})
        index_histories(self.stores.profiles.history, live)
        assert named_items(self.stores) == before  # nothing was missing

    def no_copy_left(self) -> None:
        super().no_copy_left()
        items = named_items(self.stores)
        history = self.stores.profiles.history
        spelt = {
            pk
            for g in self.model.traced
            for kind in ("email", "phone", "mailbox", "source")
            for pk in store_named_pks(history, f"{kind}#{g}")
        }
        assert not [item for item in items if item[0] in spelt]
        assert stale_named(self.stores) == set()


def _run(stores: Stores, steps: list[tuple[Any, ...]], identity: str) -> None:
    program = NamedProgram(stores, False, identity)
    for step in steps:
        program.run(step)
        program.check()


@pytest.mark.parametrize("identity", ["exact", "probabilistic"])
@pytest.mark.parametrize("store", ["memory", "sqlite"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(_STEPS, min_size=1, max_size=STEPS))
def test_random_programs_leave_no_index_item_naming_her(
    store: str, identity: str, steps: list[tuple[Any, ...]]
) -> None:
    opened: Callable[[], AbstractContextManager[Stores]] = STORES[store]
    with opened() as stores:
        _run(stores, steps, identity)


@settings(max_examples=max(EXAMPLES // 8, 5), deadline=None)
@given(steps=st.lists(_STEPS, min_size=1, max_size=10), identity=st.sampled_from(["exact", "probabilistic"]))
def test_random_programs_leave_no_index_item_naming_her_on_dynamodb(
    steps: list[tuple[Any, ...]], identity: str
) -> None:
    with STORES["dynamodb"]() as stores:
        _run(stores, steps, identity)
