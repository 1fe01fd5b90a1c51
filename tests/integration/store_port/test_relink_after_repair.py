"""The link graph planned again after a retirement (core.link_relink) beside ``profilesync repair``.

Hana's CRM customer and her namesake's mail customer do not fit one profile together (eight records
of 32 KB each; tests/integration/store_port/test_frozen_merge_repair.py), and an older version's
accept of their review pair froze one into the other. A record next to them is retired, and the
graph around the customers it left is planned again, while the operator's repair takes the merge
back. The relink read the two customers in flight (the accept still stored): the merge it then asked
for must finish the one in flight or leave it as the repair left it, never start it afresh: a fresh
merge of the pair just undone is refused (``RecordRejectedError``), and was raised out of the
retirement (and out of an erasure, which relinks the same way). Likewise a relink that meets an
accepted pair whose customers do not fit (a decision stored, its merge never run: a ``decide``
killed in between) leaves them apart and raises nothing: the records are stored, nothing is lost.
On the three stores, with the repair after each of the relink's first store calls.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.jsonl import draft_from_flat
from core.link_relink import relink_after_removal
from core.link_review_apply import evidence_of, states_of
from core.merge_undo import repair_frozen
from core.normalise import normalise_record
from core.schema import SourceRecord
from core.testing.invariants import store_problems
from tests.hypothesis_profiles import DEEP, PROFILE
from tests.integration.identity_attack_records import groups, ingest_settings, resolve_lines
from tests.integration.store_port.conftest import KITS, StoreKit
from tests.integration.store_port.kit_copies import kit_given_once
from tests.integration.store_port.test_frozen_merge_repair import _broken, _frozen, _pair
from tests.integration.test_attack8_review_sizes import _heavy, _lines
from tests.interleave import after_call


def _retired() -> list[SourceRecord]:
    """A record of her namesake's, retired at the vendor: out of the store and its index."""
    record = normalise_record(draft_from_flat(dict(_heavy("mail", 9, "hana.s@example.com"))))
    assert isinstance(record, SourceRecord)
    return [record]


#: Where the repair runs: after the relink's 3rd store call (before it reads the merge in flight),
#: its 6th and 7th (it read the merge in flight: red before 02e7ad1, when it merged the pair afresh,
#: ``complete_merge`` without ``in_flight``, and the refusal was raised), its 9th and 12th (after).
POINTS = (3, 6, 7, 9, 12)


def _points(name: str) -> tuple[int, ...]:
    """Every point; on DynamoDB (moto: ~0.4 CPU s a point) in ``ci`` one of each kind: before the
    read, inside the window (red without ``in_flight``), after."""
    return (3, 7, 12) if name == "dynamodb" and PROFILE != DEEP else POINTS


@pytest.mark.parametrize("stop", ["frozen", "copied"])
@pytest.mark.parametrize("name", sorted(KITS))
def test_a_relink_beside_a_repair_leaves_the_merge_taken_back(name: str, stop: str) -> None:
    # GIVEN the old accept's merge stopped after its freeze (or its copies): built once, its items
    # put back before each k (kit_copies)
    with kit_given_once(name, lambda kit: _broken(kit, stop=stop)[1]) as fresh:
        for k in _points(name):
            kit, settings, before = fresh()
            _relink_beside_repair(kit, settings, before, k)


def _relink_beside_repair(kit: StoreKit, settings: Any, before: set[frozenset[str]], k: int) -> None:
    store = kit.profiles
    absorbed, survivor = next((cid, into) for cid, into, _ in _frozen(store) if into)
    problems: list[str] = []
    # WHEN the graph around both is planned again after a retirement, the repair running after the
    # relink's k-th store call
    with after_call(store, k, lambda: problems.extend(repair_frozen(store, settings)[1])) as made:
        relink_after_removal(store, _retired(), settings, {absorbed, survivor})
    assert len(made) >= k  # the repair ran inside the relink
    # THEN the merge is taken back, by the repair or by the relink, and nothing else happened
    assert problems == [], k
    assert _frozen(store) == [], k
    assert groups(store) == before, k
    assert _pair(store).status == "pending", k
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == [], k


def test_a_relink_meeting_an_accepted_pair_that_does_not_fit_leaves_it_apart(kit: StoreKit) -> None:
    # GIVEN the two customers, and their pair's accept stored by a decide killed before its merge
    settings = ingest_settings()
    resolve_lines(_lines(32), kit.profiles, settings=settings)
    before = groups(kit.profiles)
    item = _pair(kit.profiles)
    evidence = evidence_of(item, states_of(kit.profiles, item.a, item.b))
    assert evidence is not None
    at = datetime(2026, 11, 1, tzinfo=UTC)
    accepted = replace(item, status="accepted", decided_by="ops", decided_at=at, evidence=evidence)
    assert kit.profiles.decide_review(accepted)
    # WHEN a record next to them is retired and the graph around them planned again
    holders = {p.customer_id for p in kit.profiles.iter_profiles()}
    relink_after_removal(kit.profiles, _retired(), settings, holders)
    # THEN it raises nothing and leaves them apart, as they were: nothing is lost
    assert groups(kit.profiles) == before
    assert _frozen(kit.profiles) == []
    assert store_problems(list(kit.profiles.iter_profiles()), kit.profiles.ident_owners()) == []
