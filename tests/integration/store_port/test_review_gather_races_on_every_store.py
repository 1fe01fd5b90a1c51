"""privacy18: the contradiction check of a review decision (core.link_review_rule ``_gather``) reading
customers while a writer races it, on the in-memory, SQLite and DynamoDB stores.

A customer named by an owner item before its own items are written (a merge in flight) makes the
read raise ConflictError (core.ingest_plan._load_customers). Red before privacy18: that error
reached ``decide``'s caller (a CLI user saw "customer ... is referenced but has no items yet"); now
the read is made again and the decision goes through, and a read that keeps racing is refused with a
clear ReviewRefusedError saying nothing was decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from core.link_review import ReviewRefusedError, decide
from core.pipeline import ingest
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_review_contradiction_third_customer_on_every_store import (
    COLE,
    DESK,
    LINKED,
    RECORDS,
    VANCE,
    _customers,
    _file,
)


def _racing(store: Any, customer: str, times: int) -> list[int]:
    """``store.get_customers`` leaves ``customer`` out of the first ``times`` reads naming it (a
    writer has written the owner item naming it, not its items yet)."""
    real = store.get_customers
    left = [times]

    def get_customers(ids: Sequence[str]) -> Any:
        found = real(ids)
        if left[0] and customer in found:
            left[0] -= 1
            found = {k: v for k, v in found.items() if k != customer}
        return found

    store.get_customers = get_customers
    return left


def _vance(store: Any) -> str:
    owner = store.get_owners([f"source#{VANCE.key}"])[f"source#{VANCE.key}"]
    return str(owner.customer_id)


def test_an_accept_whose_check_reads_a_customer_a_writer_is_writing_goes_through(kit: StoreKit) -> None:
    """GIVEN Rita Cole ~ the desk record in review, Rita Vance's customer within the check's reach
    WHEN the check's read of her customer races a writer once THEN the accept is applied."""
    store = kit.profiles
    ingest(RECORDS, store, LINKED)
    (accepted,) = _file(store, (COLE, DESK))
    left = _racing(store, _vance(store), 1)
    outcome = decide(store, accepted, "accepted", by="bo", reason="her desk", settings=LINKED)
    assert left == [0]  # the race did happen
    assert outcome.together
    assert frozenset({COLE.key, DESK.key, VANCE.key}) <= next(c for c in _customers(store) if COLE.key in c)


def test_a_check_that_keeps_racing_is_refused_clearly_and_decides_nothing(kit: StoreKit) -> None:
    store = kit.profiles
    ingest(RECORDS, store, LINKED)
    (accepted,) = _file(store, (COLE, DESK))
    before = _customers(store)
    _racing(store, _vance(store), 10**6)
    with pytest.raises(ReviewRefusedError, match=r"kept changing as it was checked.*nothing was decided"):
        decide(store, accepted, "accepted", by="bo", reason="her desk", settings=LINKED)
    del store.get_customers
    assert _customers(store) == before
    assert store.review_by_id(accepted).status == "pending"
