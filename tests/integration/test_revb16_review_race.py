"""Two reviewers deciding contradicting pairs at the same time (core.link_review ``decide``): the
contradiction check reads, then the decision's write is conditional on its own pair's item only, so
without a second check both contradicting decisions were stored. Reviewer 2's decision runs after
every store call of reviewer 1's, on memory, SQLite and DynamoDB (moto): whatever the point, the
stored decisions never contradict each other, and a refused decision leaves its pair as it was read."""

from __future__ import annotations

from typing import Any

import pytest

from core.link_index import review_pair_id
from core.link_review import ReviewContradictsError, decide
from tests.hypothesis_profiles import DEEP, PROFILE
from tests.integration.identity_attack_records import groups, resolve_lines
from tests.integration.store_copies import Fresh, given_once
from tests.integration.test_attack6_erased_and_fuzzy import _settings
from tests.integration.test_erasure_attacks import STORES
from tests.integration.test_review_decisions_any_order import CRM_MAIL, CRM_NEWS, MAIL_NEWS, RECORDS
from tests.interleave import after_call

#: Every call ``decide`` makes on the store, the check's reads and the decision's write among them.
CALLS = (
    "review_by_id",
    "decide_review",
    "requeue_review",
    "get_customers",
    "get_owners",
    "get_reviews",
    "get_blocks",
    "update_blocks",
    "commit",
)


def _statuses(stores: Any) -> dict[tuple[str, str], str]:
    return {p: i.status for p, i in stores.profiles.get_reviews([CRM_MAIL, CRM_NEWS, MAIL_NEWS]).items()}


def _given(stores: Any) -> None:
    """The people of RECORDS resolved, and Ana's acceptance of crm~mail stored."""
    s = _settings(stores)
    resolve_lines(RECORDS, stores.profiles, settings=s)
    decide(stores.profiles, review_pair_id(*CRM_MAIL), "accepted", by="ana", settings=s)


def _race(fresh: Fresh, k: int | None, second: str) -> tuple[list[str], list[str], Any, Any]:
    """From ``_given`` (put back by ``fresh``): Ana accepts crm~news while Bob decides mail~news
    ``second``, after the ``k``-th store call of hers. What was refused (``ana``/``bob``), the calls,
    the statuses and the customers."""
    refused: list[str] = []
    with fresh() as stores:
        s = _settings(stores)

        def bob() -> None:
            try:
                decide(stores.profiles, review_pair_id(*MAIL_NEWS), second, by="bob", settings=s)  # type: ignore[arg-type]
            except ReviewContradictsError:
                refused.append("bob")

        with after_call(stores.profiles, k, bob, CALLS) as made:
            try:
                decide(stores.profiles, review_pair_id(*CRM_NEWS), "accepted", by="ana", settings=s)
            except ReviewContradictsError:
                refused.append("ana")
        return refused, made, _statuses(stores), groups(stores.profiles)


#: The calls after which the store holds something new.
WRITES = {"decide_review", "requeue_review", "update_blocks", "commit"}


def _points(store: str, made: list[str]) -> list[int]:
    """Where Bob decides: after each of Ana's calls; on DynamoDB (moto: ~0.3 s a race) in the
    ``ci`` profile, up to her first commit, after the first call of each kind (her check's first
    read of the owners, customers, blocks and reviews, her decision, the reads of it), then each
    ``review_by_id`` read, just before and just after each of her writes (her last read before her
    decision's write among them: the window the second check closes, red without it), and the last
    call. Left out: the repeats of a read her check already made once, and the reads after her first
    commit of what her commits and her index update already wrote, none of them her check's."""
    every = range(1, len(made) + 1)
    if store != "dynamodb" or PROFILE == DEEP:
        return list(every)
    decided = made.index("commit") + 1 if "commit" in made else len(made)
    return [
        k
        for k in every
        if (k <= decided and made.index(made[k - 1]) == k - 1)
        or k == len(made)
        or made[k - 1] in WRITES | {"review_by_id"}
        or made[k] in WRITES
    ]


@pytest.mark.slow
@pytest.mark.parametrize("store", sorted(STORES))
def test_contradicting_decisions_taken_at_once_are_never_both_stored(store: str) -> None:
    with given_once(store, _given) as fresh:
        _, made, _, _ = _race(fresh, None, "rejected")
        assert "decide_review" in made  # the sweep covers the write and the calls after it
        points = _points(store, made)
        races = [_race(fresh, k, "rejected") for k in points]
    for k, (refused, _, statuses, customers) in zip(points, races, strict=True):
        where = f"Bob after Ana's call {k} ({made[k - 1]}): refused {refused}, {statuses}"
        # Red before: Bob's reject between Ana's check and her write left both stored (accept,
        # accept, reject: no partition honours them), and crm:1 and news:5 one customer.
        assert not (
            statuses[CRM_MAIL] == statuses[CRM_NEWS] == "accepted" and statuses[MAIL_NEWS] == "rejected"
        ), where
        assert refused, where  # one of the two (or both) was refused
        if "ana" in refused:
            assert statuses[CRM_NEWS] == "pending", where  # put back as she read it
            assert not any({"crm:1", "news:5"} <= c for c in customers), where
        if "bob" in refused:
            assert statuses[MAIL_NEWS] == "pending", where


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_a_concurring_decision_taken_at_once_refuses_neither(store: str) -> None:
    with given_once(store, _given) as fresh:
        _, made, _, _ = _race(fresh, None, "accepted")
        races = [_race(fresh, k, "accepted") for k in range(1, len(made) + 1)]
    for k, (refused, _, statuses, customers) in enumerate(races, start=1):
        assert refused == [], f"call {k} ({made[k - 1]}): {refused}"
        assert statuses == dict.fromkeys((CRM_MAIL, CRM_NEWS, MAIL_NEWS), "accepted")
        assert any({"crm:1", "mail:3", "news:5"} <= c for c in customers)
