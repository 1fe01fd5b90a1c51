"""A store written before ``check_merge_fits``: a review accept froze a customer for good; the repair.

Hana's CRM customer and her namesake's mail customer hold eight records of 32 KB each (about 230 KB
each, 450 KB together, past DynamoDB's 400 KB item; tests/integration/test_attack8_review_sizes.py).
The version before accepted their review pair and ran the merge in steps without asking first
whether the last one fits (``old_accept`` below repeats what it wrote: the decision, the freeze, the
copies, the handover, the deletes, then the final step refused). The absorbed customer stayed frozen:
every later version of a record of either customer was quarantined, and her erasure left the frozen
profile. On each store (in-memory, SQLite, DynamoDB on moto), from a merge stopped after each step:

* ``profilesync repair`` (core.merge_undo.repair_frozen) lists it (``--dry-run`` changes nothing) and
  takes the merge back: the two customers as before, the pair pending again, a second run finds
  nothing; later versions of their records are stored, her erasure leaves nothing of hers;
* without the command, the first ingest or erasure that meets the customer takes it back the same way;
* a merge cut short that does fit is finished, not undone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from core.errors import ConflictError, RecordRejectedError
from core.identity import IdentityPolicy
from core.link_review_apply import evidence_of, states_of
from core.merge_steps import _commit_in_chunks, _copy, _final, _hand_over, freeze_merge
from core.merge_undo import find_frozen, repair_frozen
from core.ports import DeleteSource, Operation
from core.privacy import erase_person
from core.privacy_store import ErasureStore
from core.schema import Identifier
from core.storage.memory_privacy import InMemoryErasureStore, InMemorySuppressionStore
from core.testing.invariants import store_problems
from tests.integration.identity_attack_records import groups, ingest_settings, resolve_lines
from tests.integration.store_port.conftest import KITS, StoreKit
from tests.integration.store_port.kit_copies import kit_given_once
from tests.integration.test_attack8_review_sizes import CRM, HER_EMAIL, NAMESAKE, _lines
from tests.threads import at_once

STEPS = ("frozen", "copied", "handed", "dropped")
"""Where the old merge stopped: after the freeze, the copies, the handover, or the deletes (where the
refused final step left it)."""


def _pair(store: Any) -> Any:
    (item,) = list(store.get_reviews([(CRM_KEY, NAMESAKE_KEY)]).values())
    return item


CRM_KEY, NAMESAKE_KEY = "crm:contact:1", "mail:contact:3"
SALT = "repair-salt"


def old_accept(store: Any, settings: Any, stop: str = "dropped") -> tuple[str, str]:
    """What ``decide`` and ``complete_merge`` wrote before 0c0279c for an accept of the pair: the
    decision on its item, then the merge in steps up to ``stop`` (the last, refused, writes nothing).
    The absorbed and the survivor."""
    item = _pair(store)
    states = states_of(store, item.a, item.b)
    evidence = evidence_of(item, states)
    assert evidence is not None
    at = datetime(2026, 11, 1, tzinfo=UTC)
    assert store.decide_review(
        replace(item, status="accepted", decided_by="ops", decided_at=at, evidence=evidence)
    )
    first, second = (s.customer_id for s in states if s is not None)
    survivor, absorbed = min(first, second), max(first, second)
    read = store.get_customers([absorbed, survivor])
    assert freeze_merge(store, read[absorbed], read[survivor])
    if stop == "frozen":
        return absorbed, survivor
    state = store.get_customers([absorbed])[absorbed]
    version = _copy(store, state, survivor, store.max_items_per_commit)
    assert version is not None
    if stop == "copied":
        return absorbed, survivor
    _hand_over(store, state.owned, absorbed, survivor, settings)
    if stop == "handed":
        return absorbed, survivor
    deletes: list[Operation] = [DeleteSource(absorbed, k) for k in state.snapshots]
    assert not _commit_in_chunks(store, deletes, store.max_items_per_commit, f"drop:{absorbed}")
    target = store.get_customers([survivor])[survivor]
    final = _final(absorbed, survivor, state, target, target.snapshots, (), settings, version)
    with pytest.raises(RecordRejectedError):
        store.commit([final])
    return absorbed, survivor


def _frozen(store: Any) -> list[tuple[str, str | None, frozenset[str]]]:
    ids = [p.customer_id for p in store.iter_profiles()]
    return sorted(
        (cid, s.merging_into, s.absorbing)
        for cid, s in store.get_customers(ids).items()
        if s.merging_into or s.absorbing
    )


def _broken(kit: StoreKit, kilobytes: int = 32, stop: str = "dropped") -> tuple[Any, set[frozenset[str]]]:
    settings = ingest_settings()
    resolve_lines(_lines(kilobytes), kit.profiles, settings=settings)
    before = groups(kit.profiles)
    assert len(before) == 2
    old_accept(kit.profiles, settings, stop)
    assert _frozen(kit.profiles)
    return settings, before


def _erase_her(
    kit: StoreKit,
    settings: Any,
    email: str = HER_EMAIL,
    salt: str = SALT,
    request_id: str = "req-h",
    tools: dict[str, Any] | None = None,
    erasure: ErasureStore | None = None,
    unavailable: dict[str, str] | None = None,
) -> Any:
    """Her erasure (or that of the person ``email`` names) on the kit's stores (or ``erasure``),
    asking ``tools``; ``unavailable``: the tools that could not be built, and why."""
    erasure = erasure or kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    suppression = kit.suppression or InMemorySuppressionStore(kit.profiles)
    return erase_person(
        Identifier.assemble(kind="email", value=email),
        profiles=kit.profiles,
        erasure=erasure,
        tools=tools or {},
        salt=salt,
        request_id=request_id,
        sync_state=kit.sync_state,
        suppression=suppression,
        policy=IdentityPolicy(),
        identity=settings,
        unavailable=unavailable,
    )


def _flows_again_and_erases(kit: StoreKit, settings: Any, before: set[frozenset[str]]) -> None:
    """Later versions of a record of each customer are stored; her erasure leaves nothing of hers."""
    store = kit.profiles
    _, quarantined = resolve_lines(
        [
            {**CRM, "updated_at": "2026-03-01T00:00:00Z", "job": "chemist"},
            {**NAMESAKE, "updated_at": "2026-03-01T00:00:00Z", "job": "vet"},
        ],
        store,
        settings=settings,
    )
    assert quarantined == []
    assert {p.traits["job"].value for p in store.iter_profiles() if "job" in p.traits} == {"chemist", "vet"}
    assert _frozen(store) == []
    assert groups(store) == before
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
    assert _erase_her(kit, settings).outcome == "erased"
    assert not [p for p in store.iter_profiles() if HER_EMAIL in p.model_dump_json()]
    assert groups(store) == {frozenset({"mail:3", *(f"mail:b{i}" for i in range(7))})}


@pytest.mark.parametrize("stop", STEPS)
def test_repair_lists_then_takes_back_a_merge_an_old_accept_froze(kit: StoreKit, stop: str) -> None:
    # GIVEN a store where the old version's accept froze one of the two customers
    settings, before = _broken(kit, stop=stop)
    frozen = _frozen(kit.profiles)
    # WHEN the operator runs the repair with --dry-run THEN it lists the customer, changing nothing
    found, problems = repair_frozen(kit.profiles, settings, dry_run=True)
    absorbed, survivor = next((cid, into) for cid, into, _ in frozen if into)
    assert [(f.absorbed, f.survivor, f.action, f.records) for f in found] == [(absorbed, survivor, "undo", 8)]
    assert problems == []
    assert _frozen(kit.profiles) == frozen
    # WHEN it runs for real, twice
    found, problems = repair_frozen(kit.profiles, settings)
    assert len(found) == 1
    assert problems == []
    assert repair_frozen(kit.profiles, settings) == ([], [])
    # THEN the customers are as before the accept, and the pair waits for a reviewer again
    assert _frozen(kit.profiles) == []
    assert groups(kit.profiles) == before
    assert store_problems(list(kit.profiles.iter_profiles()), kit.profiles.ident_owners()) == []
    assert _pair(kit.profiles).status == "pending"
    _flows_again_and_erases(kit, settings, before)


@pytest.mark.parametrize("stop", ["dropped", "handed"])
def test_the_first_ingest_that_meets_the_frozen_customer_takes_the_merge_back(
    kit: StoreKit, stop: str
) -> None:
    settings, before = _broken(kit, stop=stop)
    # WHEN a later version of her namesake's first record arrives, without any repair
    later = {**NAMESAKE, "updated_at": "2026-02-01T00:00:00Z", "job": "nurse"}
    _, quarantined = resolve_lines([later], kit.profiles, settings=settings)
    # THEN it is stored, the merge taken back and the pair pending again; and so on
    assert quarantined == []
    assert _frozen(kit.profiles) == []
    assert _pair(kit.profiles).status == "pending"
    _flows_again_and_erases(kit, settings, before)


def test_her_erasure_on_the_broken_store_takes_her_records_and_leaves_her_namesake(kit: StoreKit) -> None:
    settings, _before = _broken(kit)
    assert _erase_her(kit, settings).outcome == "erased"
    assert not [p for p in kit.profiles.iter_profiles() if HER_EMAIL in p.model_dump_json()]
    assert groups(kit.profiles) == {frozenset({"mail:3", *(f"mail:b{i}" for i in range(7))})}
    assert _frozen(kit.profiles) == []


def test_a_merge_cut_short_that_fits_is_finished_not_undone(kit: StoreKit) -> None:
    # 24 KB records: about 340 KB together, which fits; the old merge stopped after its copies (a crash)
    settings, before = _broken(kit, kilobytes=24, stop="copied")
    (found,) = find_frozen(kit.profiles, settings)
    assert found.action == "finish"
    repair_frozen(kit.profiles, settings)
    assert groups(kit.profiles) == {frozenset().union(*before)}
    assert _frozen(kit.profiles) == []
    assert _pair(kit.profiles).status == "accepted"


def test_repairs_and_an_ingest_racing_end_with_the_customers_apart(kit: StoreKit) -> None:
    settings, before = _broken(kit)
    later = [{**CRM, "updated_at": "2026-03-01T00:00:00Z", "job": "chemist"}]
    jobs: list[Callable[[], object]] = [
        lambda: repair_frozen(kit.profiles, settings),
        lambda: repair_frozen(kit.profiles, settings),
        lambda: resolve_lines(later, kit.profiles, settings=settings),
    ]
    errors = at_once(*jobs, timeout=600, together=False)
    # A writer that kept losing to the other two (no back-off here) gives up retryably, as ingest
    # does on a hot spot (the queue delivers its batch again): the next repair finds nothing left.
    assert [e for e in errors if not isinstance(e, ConflictError)] == []
    assert repair_frozen(kit.profiles, settings)[1] == []
    assert repair_frozen(kit.profiles, settings) == ([], [])
    _flows_again_and_erases(kit, settings, before)


class _CrashError(Exception):
    """The process running the repair killed between two of its writes."""


@pytest.mark.parametrize("name", sorted(KITS))
def test_a_repair_killed_after_any_write_is_finished_by_the_next_one(name: str) -> None:
    # The broken store built once, its items put back before each kill point (kit_copies)
    with kit_given_once(name, lambda kit: _broken(kit)[1]) as fresh:
        for writes in range(6):  # the repair of one customer writes 5 times
            kit, settings, before = fresh()
            _killed_then_repaired(kit, settings, before, writes)


def _killed_then_repaired(kit: StoreKit, settings: Any, before: set[frozenset[str]], writes: int) -> None:
    store = kit.profiles
    assert _frozen(store), writes  # the broken store, put back
    done = 0

    def crashing(write: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any) -> Any:
            nonlocal done
            if done >= writes:
                raise _CrashError
            done += 1
            return write(*args)

        return wrapped

    store.commit, store.requeue_review = crashing(store.commit), crashing(store.requeue_review)
    try:
        repair_frozen(store, settings)
    except _CrashError:
        pass
    finally:
        del store.commit, store.requeue_review
    # WHEN the repair runs again THEN it ends as one run would have
    repair_frozen(store, settings)
    assert _frozen(store) == [], writes
    assert groups(store) == before, writes
    assert store_problems(list(store.iter_profiles()), store.ident_owners()) == [], writes
    assert _pair(store).status == "pending", writes
