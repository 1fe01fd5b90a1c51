"""A review pair lost to a kill after the commit: the batch that stores a record of a pair in the
review band is killed after its commit, before the pair's review item is filed (its last store
calls), and the batch is delivered again. The redelivery finds its records stored and unchanged; it
must still file the pair's review item, as a run without the kill does (found through the local
Lambda runtime: tests/e2e/test_identity_attack_lambda_path.py, merge crashing once after a
transaction). On the in-memory, SQLite and DynamoDB (moto) stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from core.link_review import pending
from core.pipeline import ingest
from core.schema import SourceRecord
from tests.integration.test_attack6_erased_and_fuzzy import ON_EACH_STORE
from tests.integration.test_attack7_review_races import CRM, LINKED, PAIR, SHOP
from tests.integration.test_erasure_attacks import Stores
from tests.integration.test_filed16_killed_anywhere import _Killed, _store_calls


@contextmanager
def _killed_after_commit(store: Any) -> Iterator[list[str]]:
    """The process dies at the first store call after a commit (``BaseException``: nothing catches
    it); yields the call it died at (empty while it has not)."""
    died: list[str] = []
    committed = [False]

    def wrapped(name: str) -> Callable[..., Any]:
        method = getattr(type(store), name)

        def call(*args: Any, **kwargs: Any) -> Any:
            if committed[0] and not died:
                died.append(name)
                raise _Killed(name)
            out = method(store, *args, **kwargs)
            committed[0] = committed[0] or name == "commit"
            return out

        return call

    names = _store_calls(store)
    for name in names:
        setattr(store, name, wrapped(name))
    try:
        yield died
    finally:
        for name in names:
            delattr(store, name)


def _pending_pairs(store: Any) -> list[str]:
    return [p["pair"] for p in pending(store)]


def _killed_then_again(store: Any, before: list[SourceRecord], batch: list[SourceRecord]) -> list[str]:
    if before:
        ingest(before, store, LINKED)
    with _killed_after_commit(store) as died, pytest.raises(_Killed):
        ingest(batch, store, LINKED)
    assert died  # (the premise: killed between the commit and what follows it)
    assert _pending_pairs(store) == []  # (the premise: the kill cut the filing)
    again = ingest(batch, store, LINKED)  # delivered again: stored already, unchanged
    assert (again.unchanged, again.written) == (len(batch), 0)  # counted as it was: nothing new
    return _pending_pairs(store)


@ON_EACH_STORE
@pytest.mark.parametrize("split", [False, True], ids=["one_batch", "one_record_later"])
def test_a_batch_killed_after_its_commit_files_its_review_pair_when_delivered_again(
    stores_of: Callable[[], AbstractContextManager[Stores]], split: bool
) -> None:
    """GIVEN Hana's CRM and shop records (a pair in the review band), both in one batch or the shop's
    after the CRM's WHEN the batch is killed after its commit, before the pair's review item is
    filed, and delivered again THEN the pair is pending review, as after a run without the kill."""
    before, batch = ([CRM], [SHOP]) if split else ([], [CRM, SHOP])
    with stores_of() as clean:
        for part in (before, batch):
            if part:
                ingest(part, clean.profiles, LINKED)
        assert _pending_pairs(clean.profiles) == [PAIR]  # (the premise: the pair is in the review band)
    with stores_of() as stores:
        assert _killed_then_again(stores.profiles, before, batch) == [PAIR]
