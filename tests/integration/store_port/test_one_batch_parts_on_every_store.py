"""One batch holding a customer with more orders than one transaction holds (a first resolve of a
wholesale buyer's history), on every store: cut into parts by a lowered transaction limit, it gives
the snapshots and profile body one transaction of everything gives; the parts after the first are
planned by the add-only path from her profile item (core.ingest_parts), and what the batch loads
of whole customers (``get_customers``' snapshots) stays in proportion to the batch, not to the
batch times its parts.

Red first: before core.ingest_parts every later part was planned in full (the contact left in the
batch, and the part's changeset too large, kept the add-only path out), so no part was grown and
the batch loaded 40 orders' customer again for each of its 20 parts (about 400 snapshots).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import ingest_plan
from core.batch_ingest import ingest_batch
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from tests.integration.store_port.test_growing_customer_on_every_store import (
    NO_SLEEP,
    _body,
    _contact,
    _counting_grown,
    _fresh_folder,
    _kit,
    _order,
    grown_batches,
)

__all__ = ["grown_batches"]  # a fixture, used by name

ORDERS = 40
_ORDERS = st.lists(
    st.tuples(
        st.integers(-48, 48),  # its stamp: out of order
        st.sampled_from(["12.50", "0.99", "-3.00"]),
        st.sampled_from(["GBP", "EUR"]),
        st.sampled_from(["paid", "refunded", "pending"]),
    ),
    min_size=ORDERS,
    max_size=ORDERS,
)


def _batch(orders: list[tuple[int, str, str, str]], contact_at: int) -> list[SourceRecord]:
    return [_contact(contact_at, "Ann"), *(_order(n, *order) for n, order in enumerate(orders))]


def _check_parts_equal_one_transaction(store: str, folder: Path, batch: list[SourceRecord]) -> list[int]:
    """Ingest ``batch`` on ``store`` in parts; its body must be one transaction's. The snapshots each
    ``get_customers`` of it loaded."""
    reference = InMemoryProfileStore()
    reference.max_items_per_commit = 10_000  # one transaction of everything
    ingest_batch(batch, reference, NO_SLEEP)
    for kit in _kit(store, folder):
        profiles = kit.with_limit(10)  # parts of two orders (a snapshot, an identifier, an event each)
        loaded: list[int] = []
        inner = profiles.get_customers

        def counting(ids: Any, inner: Any = inner, loaded: list[int] = loaded) -> Any:
            got = inner(ids)
            loaded.append(sum(len(state.snapshots) for state in got.values()))
            return got

        with (
            patch.object(profiles, "get_customers", counting),
            patch.object(ingest_plan, "grow_plan", _counting_grown(ingest_plan.grow_plan)),
        ):
            result = ingest_batch(batch, profiles, NO_SLEEP)
        assert result.written == len(batch)
        assert _body(profiles) == _body(reference)
    return loaded


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(orders=_ORDERS, contact_at=st.integers(-48, 48))
def test_one_batch_cut_into_parts_gives_one_transactions_profile(
    store: str,
    tmp_path: Path,
    grown_batches: list[int],
    orders: list[tuple[int, str, str, str]],
    contact_at: int,
) -> None:
    # orders in two currencies: the add-only path refuses the parts once both are in her profile
    # (core.grow_profile keeps no count per currency), which are planned in full; the grown_batches
    # fixture asserts it took at least one over the examples
    _check_parts_equal_one_transaction(store, _fresh_folder(tmp_path), _batch(orders, contact_at))


@pytest.mark.parametrize("store", ["memory", "sqlite", "dynamodb"])
def test_one_batch_of_orders_at_one_time_loads_her_customer_twice_not_a_part_each(
    store: str, tmp_path: Path, grown_batches: list[int]
) -> None:
    orders = [(0, "12.50", "GBP", "paid")] * ORDERS
    loaded = _check_parts_equal_one_transaction(store, tmp_path / store, _batch(orders, 0))
    # whole customers loaded: the first part (none stored) and the last (the contact's): not a
    # load of her orders so far for each of the twenty parts
    assert sum(loaded) <= 2 * (ORDERS + 1), loaded
    assert len(grown_batches) >= ORDERS // 2 - 3  # nearly every part grown from her profile item


class _Killed(BaseException):
    """The process dying between two commits (not an Exception: nothing catches it)."""


@pytest.mark.parametrize("store", ["memory", "sqlite"])
@pytest.mark.parametrize("after", [1, 2, 7])
def test_a_run_killed_between_two_grown_parts_is_completed_by_the_next(
    store: str, after: int, tmp_path: Path
) -> None:
    batch = _batch([(0, "12.50", "GBP", "paid")] * ORDERS, 0)
    reference = InMemoryProfileStore()
    reference.max_items_per_commit = 10_000
    ingest_batch(batch, reference, NO_SLEEP)
    for kit in _kit(store, tmp_path / store):
        profiles = kit.with_limit(10)
        commits: list[int] = []
        inner = profiles.commit

        def dying(changesets: Any, inner: Any = inner, commits: list[int] = commits) -> Any:
            if len(commits) == after:
                raise _Killed
            commits.append(1)
            return inner(changesets)

        # GIVEN a run killed after its first, second or seventh commit (the later ones grown parts)
        with patch.object(profiles, "commit", dying), pytest.raises(_Killed):
            ingest_batch(batch, profiles, NO_SLEEP)
        # WHEN the batch runs again, THEN she is what one transaction of everything makes
        ingest_batch(batch, profiles, NO_SLEEP)
        assert _body(profiles) == _body(reference)
