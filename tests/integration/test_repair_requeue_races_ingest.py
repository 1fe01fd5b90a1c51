"""A requeue of an accepted pair racing an ingest that changes one of the pair's two records: the
repair's (core.merge_undo, step 4), and a refused accept's (core.link_review.decide).

The repair takes back an old accept's merge (tests/integration/store_port/test_frozen_merge_repair.py)
and puts the pair's accepted item back in the queue, replacing only the decision it read
(``requeue_review``). An ingest of another version of Hana's CRM record (another city: what the
matcher reads changes, and the pair stays in doubt) meets the frozen customer and takes the merge
back itself, or finds the pair pending, or replaces the decision it read as outdated. Run after
each of the repair's store calls, on the three stores, the two writers end as in one order of the
two: the customers apart as before, nothing frozen or quarantined, the store consistent, and the
pair's item as both orders leave it: pending, never the accept brought back, never lost. Likewise a
reviewer's accept of the pair, refused as too large: its decision is written, then put back over
itself to the pending item it read; an ingest in between ends as in one order of the two (the
accept refused or reported as outdated).

The matcher's filing on the pending item (its score and fields) is not compared: in both orders it
is the one the accept was taken on (an ingest creates a pending item only where none is,
core.link_review_index.put_reviews, so the moved record's item keeps the old city's score), while
an ingest between the accept's write and its requeue finds the accept outdated and files the pair
scored on the new versions. The newer scoring is the truer one; a decision binds to the records'
evidence as they are when it is taken either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from core.ingest_settings import IngestSettings
from core.link_review import ReviewOutdatedError, ReviewRefusedError, decide
from core.merge_undo import repair_frozen
from core.testing.invariants import store_problems
from tests.integration.identity_attack_records import groups, ingest_settings, resolve_lines
from tests.integration.store_port.conftest import KITS, StoreKit
from tests.integration.store_port.kit_copies import kit_given_once
from tests.integration.store_port.test_frozen_merge_repair import CRM_KEY, NAMESAKE_KEY, _broken, _frozen
from tests.integration.test_attack8_review_sizes import CRM, _lines
from tests.interleave import after_call

#: Hana's CRM record, moved to Salford: the pair stays in doubt, on other evidence.
MOVED = {**CRM, "updated_at": "2026-04-01T00:00:00Z", "city": "Salford"}
CALLS = ("get_customers", "get_owners", "commit", "get_reviews", "requeue_review")


#: A writer's write, run with the settings of the case (tests/integration/store_port/kit_copies).
Write = Callable[[IngestSettings], list[str]]


def _repair(kit: StoreKit) -> Write:
    """The store an old accept froze, and the operator's repair; what it could not repair."""
    _broken(kit)
    return lambda settings: repair_frozen(kit.profiles, settings)[1]


def _accept(kit: StoreKit) -> Write:
    """The two customers apart, and a reviewer's accept of their pair, refused as too large (its
    decision written, then put back over itself); what it raised, but that refusal."""
    resolve_lines(_lines(32), kit.profiles, settings=ingest_settings())
    (item,) = kit.profiles.pending_reviews()

    def accept(settings: IngestSettings) -> list[str]:
        try:
            decide(kit.profiles, item.pair_id, "accepted", by="ops", settings=settings)
        except ReviewOutdatedError:
            return []  # the ingest stored another version first: the decision lost, reported
        except ReviewRefusedError as refused:
            return [] if "400 KB" in str(refused) else [str(refused)]
        return ["accepted"]

    return accept


def _outcome(kit: StoreKit, settings: IngestSettings, write: Write, k: int | None) -> tuple[Any, ...]:
    """The writer's ``write`` and an ingest of ``MOVED``: the ingest after the writer's ``k``-th
    store call (None: after the writer; 0: before it). The customers, the pair's status and filing,
    what went wrong, and the writer's store calls."""
    store = kit.profiles
    quarantined: list[Any] = []
    problems: list[str] = []

    def ingest() -> None:
        quarantined.extend(resolve_lines([MOVED], store, settings=settings)[1])

    if k == 0:
        ingest()
    with after_call(store, k, ingest, CALLS) as made:
        problems.extend(write(settings))
    if k is None or k > len(made):
        ingest()
    item = store.get_reviews([(CRM_KEY, NAMESAKE_KEY)]).get((CRM_KEY, NAMESAKE_KEY))
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
    return (
        groups(store),
        _frozen(store),
        quarantined,
        problems,
        None if item is None else item.status,
    ), made


@pytest.mark.parametrize("writer", [_repair, _accept], ids=["repair", "refused accept"])
@pytest.mark.parametrize("name", sorted(KITS))
def test_a_requeue_and_an_ingest_changing_a_record_end_as_in_one_order(
    name: str, writer: Callable[[StoreKit], Any]
) -> None:
    # The writer's store built once, its items put back for each run (kit_copies)
    with kit_given_once(name, writer) as fresh:
        first, _ = _outcome(*fresh(), 0)  # ingested, then the repair or the accept
        last, made = _outcome(*fresh(), None)  # the repair or the accept, then ingested
        assert first[1:4] == ([], [], [])
        assert last[1:4] == ([], [], [])
        assert first[4] == last[4] == "pending"
        # After each of the writer's store calls (every third on DynamoDB: moto is slow)
        assert len(made) > 5
        for k in range(1, len(made) + 1, 1 if name != "dynamodb" else 3):
            got, _ = _outcome(*fresh(), k)
            assert got in (first, last), k
