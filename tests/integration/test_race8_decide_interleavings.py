"""race8: a person's review decision (core.link_review.decide) interleaved with ingests of other
versions of the pair's records and with an erasure, at any point of the decision's calls to the
store, on the in-memory and SQLite stores (``RACE8_EXAMPLES`` programs each, 30 unless told, 12
in the ci profile) and a few on DynamoDB (moto); then the same race in two threads on the three stores.

The other writers run inside the decision, between two of its store calls (the k-th call returns,
then they run), so every point of its reads, its write, its requeue and its merge's steps is met.
Whatever the point, the customers and the queue end as in one sequential order of the same steps
(the decision before, between or after the others, on a fresh in-memory store): the records'
groups, and whether the pair waits for review. A decision that lost the race is reported
(ReviewOutdatedError, or refused when its pair or a record went) and appends no event; the store
is consistent. The causes these programs found have tests of their own below: a merge's copy
step, an erasure meeting a merge in flight, a requeue over another writer's filing.
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

from core import link_review, link_review_apply
from core.ingest_settings import IngestSettings
from core.link_index import review_pair_id
from core.link_review import ReviewOutdatedError, ReviewRefusedError, decide
from core.merge_steps import complete_merge, freeze_merge
from core.pipeline import ingest
from core.schema import Identifier, SourceRecord
from core.suppression import SuppressionCheck
from core.testing.invariants import store_problems
from tests.hypothesis_profiles import examples
from tests.integration.test_attack7_review_races import CRM, LINKED, MOVED, SHOP
from tests.integration.test_attack7_review_races import store as store  # the fixture: three stores, threads
from tests.integration.test_erasure_attacks import SALT, STORES, Stores
from tests.threads import at_once

EXAMPLES = int(os.environ.get("RACE8_EXAMPLES", examples(ci=12, deep=30)))
PAIR = review_pair_id(CRM.key, SHOP.key)

#: The shop record at another address: other match fields, the pair still in doubt.
ELSEWHERE = SHOP.model_copy(
    update={
        "traits": {**SHOP.traits, "address": "12 Canal Walk"},
        "updated_at": SHOP.updated_at.replace(year=2027),
    }
)

VERSIONS: dict[str, SourceRecord] = {
    "elsewhere": ELSEWHERE,
    "moved": MOVED,
    # The shop record's first match fields again, in a later version: the decision's evidence.
    "back": SHOP.model_copy(update={"updated_at": SHOP.updated_at.replace(year=2028)}),
    # A field the model does not compare: the evidence stays.
    "stage": CRM.model_copy(
        update={
            "traits": {**CRM.traits, "lifecycle_stage": "customer"},
            "updated_at": CRM.updated_at.replace(year=2027),
        }
    ),
    "crm moved": CRM.model_copy(
        update={
            "traits": {**CRM.traits, "last_name": "Ito", "address": "1 Harbour Road"},
            "updated_at": CRM.updated_at.replace(year=2029),
        }
    ),
}
HER = Identifier.assemble(kind="email", value="hana.sato@corp.jp")
ACTIONS = [*sorted(VERSIONS), "erase"]
#: A step of another writer: which one, and after which store call of the decision it runs.
OTHER = st.tuples(st.sampled_from(ACTIONS), st.integers(0, 40))
#: The store methods a decision calls (counted; the others run after one of them returns).
CALLS = (
    "get_customers",
    "get_owners",
    "review_by_id",
    "decide_review",
    "requeue_review",
    "commit",
    "get_reviews",
    "get_blocks",
)


def _settings(stores: Stores) -> IngestSettings:
    return replace(LINKED, suppression=SuppressionCheck(stores.suppression, SALT))


def _act(stores: Stores, action: str) -> None:
    if action == "erase":
        stores.erase(HER, "req-hana", identity=_settings(stores))
    else:
        ingest([VERSIONS[action]], stores.profiles, _settings(stores))


def _decide(stores: Stores, verdict: str) -> str:
    """Decide the pair; what came of it: "applied", "outdated" or "refused"."""
    try:
        decide(stores.profiles, PAIR, verdict, by="ops", settings=_settings(stores))  # type: ignore[arg-type]
    except ReviewOutdatedError:
        return "outdated"
    except ReviewRefusedError:
        return "refused"
    return "applied"


def _outcome(stores: Stores) -> tuple[frozenset[frozenset[str]], bool]:
    """The records' groups, and whether the pair waits for review."""
    groups = frozenset(frozenset(s.key for s in p.sources) for p in stores.profiles.iter_profiles())
    return groups, PAIR in {i.pair_id for i in stores.profiles.pending_reviews()}


def _sequential(verdict: str, others: list[str], at: int) -> tuple[frozenset[frozenset[str]], bool]:
    """The outcome of the steps one after another, the decision at position ``at`` among the others."""
    with STORES["memory"]() as fresh:
        ingest([CRM, SHOP], fresh.profiles, _settings(fresh))
        for action in [*others[:at], None, *others[at:]]:
            if action is None:
                _decide(fresh, verdict)
            else:
                _act(fresh, action)
        return _outcome(fresh)


@contextlib.contextmanager
def _interleaved(stores: Stores, others: list[tuple[str, int]]) -> Iterator[list[str]]:
    """Run each of ``others`` after the decision's k-th store call returns (in the order given);
    yields the actions run so far, in the order they ran."""
    profiles = stores.profiles
    ran: list[str] = []
    todo = sorted(others, key=lambda o: o[1])
    count = [0]
    busy = [False]

    def wrap(name: str) -> Callable[..., Any]:
        real = getattr(profiles, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            found = real(*args, **kwargs)
            if not busy[0]:
                count[0] += 1
                busy[0] = True
                try:
                    while todo and todo[0][1] < count[0]:
                        action = todo.pop(0)[0]
                        _act(stores, action)
                        ran.append(action)
                finally:
                    busy[0] = False
            return found

        return call

    reals = {name: getattr(profiles, name) for name in CALLS}
    for name in CALLS:
        setattr(profiles, name, wrap(name))
    try:
        yield ran
    finally:
        for name, real in reals.items():
            setattr(profiles, name, real)
        for action, _ in todo:  # never reached: after the decision
            _act(stores, action)
            ran.append(action)


def _program(stores_of: Callable[[], Any], verdict: str, others: list[tuple[str, int]]) -> None:
    with stores_of() as stores:
        ingest([CRM, SHOP], stores.profiles, _settings(stores))
        assert PAIR in {i.pair_id for i in stores.profiles.pending_reviews()}
        history = stores.profiles.history
        with _interleaved(stores, others) as ran:
            came = _decide(stores, verdict)
        got = _outcome(stores)
        orders = {_sequential(verdict, ran, at) for at in range(len(ran) + 1)}
        assert got in orders, (came, ran, got, orders)
        assert store_problems(list(stores.profiles.iter_profiles()), stores.profiles.ident_owners()) == []
        if came != "applied":
            # A decision not applied names nobody in any history.
            for profile in stores.profiles.iter_profiles():
                events = history.list_history(profile.customer_id, limit=200).events
                assert not [e for e in events if e.kind.startswith("review_")], (came, ran)


PROGRAM = {
    "verdict": st.sampled_from(["accepted", "rejected"]),
    "others": st.lists(OTHER, min_size=1, max_size=3),
}


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**PROGRAM)
def test_a_decision_interleaved_with_ingests_and_an_erasure_ends_as_in_one_order(
    kind: str, verdict: str, others: list[tuple[str, int]]
) -> None:
    _program(STORES[kind], verdict, others)


@settings(max_examples=max(3, EXAMPLES // 10), deadline=None)
@given(**PROGRAM)
def test_a_decision_interleaved_with_ingests_and_an_erasure_ends_as_in_one_order_on_dynamodb(
    verdict: str, others: list[tuple[str, int]]
) -> None:
    _program(STORES["dynamodb"], verdict, others)


@pytest.mark.parametrize("kind", sorted(STORES))
@pytest.mark.parametrize(
    ("version", "in_doubt"), [(ELSEWHERE, True), (MOVED, False)], ids=["in-doubt", "moved"]
)
def test_a_decision_that_lost_to_a_new_version_is_reported_and_loses_no_review(
    kind: str, version: SourceRecord, in_doubt: bool
) -> None:
    """GIVEN the pair in review WHEN a person accepts it and a new version of the shop record (other
    match fields) is ingested after the decision read the records and before it wrote THEN the
    decision is reported as outdated and not applied (apart, no event), and the pair waits for
    review again exactly when it is in doubt on the new version; deciding it again then applies."""
    with STORES[kind]() as stores:
        profiles = stores.profiles
        ingest([CRM, SHOP], profiles, _settings(stores))
        real = profiles.decide_review

        def decide_review(item: Any, *read: Any) -> bool:
            profiles.decide_review = real
            ingest([version], profiles, _settings(stores))  # another worker, just before the write
            return bool(real(item, *read))

        profiles.decide_review = decide_review
        with pytest.raises(ReviewOutdatedError) as lost:
            decide(profiles, PAIR, "accepted", by="ops", settings=_settings(stores))
        assert lost.value.pending_again is in_doubt
        assert lost.value.as_json()["outdated"] is True
        groups, waiting = _outcome(stores)
        assert groups == {frozenset({CRM.key}), frozenset({SHOP.key})}
        assert waiting is in_doubt
        for profile in profiles.iter_profiles():
            events = profiles.history.list_history(profile.customer_id, limit=200).events
            assert not [e for e in events if e.kind.startswith("review_")]
        if in_doubt:
            decide(profiles, PAIR, "accepted", by="ops", settings=_settings(stores))
            assert _outcome(stores) == ({frozenset({CRM.key, SHOP.key})}, False)


def another_version_before_the_write(monkeypatch: pytest.MonkeyPatch, traits: dict[str, Any]) -> None:
    """Make the next decision meet another version of its pair's second record (``traits`` over its
    own, a year later), stored by another worker after the decision read the records and before it
    wrote (core.link_review ``_held``): for the CLI's and the function's tests."""
    real = link_review._held

    def held(store: Any, item: Any) -> Any:
        monkeypatch.setattr(link_review, "_held", real)
        found = real(store, item)
        record = link_review_apply.states_of(store, item.a, item.b)[1].snapshots[item.b]  # type: ignore[union-attr]
        later = record.model_copy(
            update={
                "traits": {**record.traits, **traits},
                "updated_at": record.updated_at.replace(year=record.updated_at.year + 1),
            }
        )
        ingest([later], store, LINKED)
        return found

    monkeypatch.setattr(link_review, "_held", held)


@pytest.mark.parametrize("kind", sorted(STORES))
@pytest.mark.parametrize("hers_absorbed", [True, False], ids=["hers-absorbed", "hers-survives"])
def test_her_erasure_while_a_merge_of_her_customer_is_in_flight_erases_both(
    kind: str, hers_absorbed: bool
) -> None:
    """GIVEN the pair's two customers being merged (frozen: the first step of an accepted pair's merge,
    core.merge_steps ``freeze_merge``, its other steps not run yet) WHEN she is erased by her CRM
    email THEN the merge is finished first and nothing of either record is stored, as when the merge
    had finished before: erasing the survivor alone left the absorbed customer's record behind."""
    with STORES[kind]() as stores:
        ingest([CRM, SHOP], stores.profiles, _settings(stores))
        crm, shop = link_review_apply.states_of(stores.profiles, CRM.key, SHOP.key)
        assert crm is not None
        assert shop is not None
        absorbed, survivor = (crm, shop) if hers_absorbed else (shop, crm)
        assert freeze_merge(stores.profiles, absorbed, survivor)
        _act(stores, "erase")
        assert _outcome(stores) == (frozenset(), False)
        assert stores.profiles.get_owners([f"source#{CRM.key}", f"source#{SHOP.key}"]) == {}


@pytest.mark.parametrize("kind", sorted(STORES))
def test_a_writer_finishing_a_merge_another_finished_and_moved_on_from_copies_nothing_stale(
    kind: str,
) -> None:
    """GIVEN the pair's customers frozen for a merge (its first step) WHEN one writer reads the
    absorbed customer to finish the merge, and before it copies the records another writer (an
    ingest of the CRM record moved away) finishes the merge, stores the new version and splits it
    off THEN the first writer copies nothing it read: each record is in one customer, its newest
    version, as the ingest left it."""
    with STORES[kind]() as stores:
        profiles = stores.profiles
        ingest([CRM, SHOP], profiles, _settings(stores))
        crm, shop = link_review_apply.states_of(profiles, CRM.key, SHOP.key)
        assert crm is not None
        assert shop is not None
        assert freeze_merge(profiles, crm, shop)
        real = profiles.get_customers

        def get_customers(ids: Any) -> Any:
            found = real(ids)
            profiles.get_customers = real
            _act(stores, "crm moved")  # another writer, between the read and the copy
            return found

        profiles.get_customers = get_customers
        complete_merge(profiles, crm.customer_id, shop.customer_id, _settings(stores))
        profiles.get_customers = real
        assert store_problems(list(profiles.iter_profiles()), profiles.ident_owners()) == []
        assert _outcome(stores)[0] == {frozenset({CRM.key}), frozenset({SHOP.key})}
        live = [p.customer_id for p in profiles.iter_profiles()]
        stored = [key for state in profiles.get_customers(live).values() for key in state.snapshots]
        assert sorted(stored) == [CRM.key, SHOP.key]  # each record's snapshot in one customer
        held = {s.key: s for p in profiles.iter_profiles() for s in p.sources}
        assert held[CRM.key].updated_at.year == 2029


@pytest.mark.parametrize("kind", sorted(STORES))
def test_a_requeue_writes_only_over_the_very_item_it_read(kind: str) -> None:
    """GIVEN the pair's item read pending (filed at one time) WHEN another writer decides it and
    requeues it (a pending item filed later) THEN writing over the item first read writes nothing,
    on every store: the later filing stays (core.link_review_apply puts a decision back only over the
    pending item it wrote itself)."""
    with STORES[kind]() as stores:
        profiles = stores.profiles
        ingest([CRM, SHOP], profiles, _settings(stores))
        first = profiles.review_by_id(PAIR)
        assert first is not None
        decided = replace(first, status="accepted", decided_by="ops", decided_at=first.created_at)
        assert profiles.decide_review(decided)
        later = replace(first, created_at=first.created_at.replace(year=2030))
        assert profiles.requeue_review(decided, later)
        assert not profiles.requeue_review(first, decided)
        assert profiles.review_by_id(PAIR) == later


@pytest.mark.parametrize("version", ["elsewhere", "moved", "crm moved"])
@pytest.mark.parametrize("verdict", ["accepted", "rejected"])
def test_a_decision_and_an_ingest_in_threads_end_as_in_one_order(
    store: Any, verdict: str, version: str
) -> None:
    """GIVEN the pair in review WHEN a person decides it while another worker ingests a new version
    of one of its records (other match fields), in two threads started together THEN the customers
    and the queue are those of one order of the two, and the store is consistent."""
    ingest([CRM, SHOP], store, LINKED)
    errors = at_once(
        lambda: decide(store, PAIR, verdict, by="ops", settings=LINKED),  # type: ignore[arg-type]
        lambda: ingest([VERSIONS[version]], store, LINKED),
    )
    assert not [e for e in errors if not isinstance(e, ReviewRefusedError)], errors
    groups = frozenset(frozenset(s.key for s in p.sources) for p in store.iter_profiles())
    got = (groups, PAIR in {i.pair_id for i in store.pending_reviews()})
    assert got in {_sequential(verdict, [version], at) for at in (0, 1)}
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
