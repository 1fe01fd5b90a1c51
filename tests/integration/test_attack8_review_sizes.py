"""attack8: a reviewer accepts a pair whose two customers do not fit in one item together.

DynamoDB holds an item up to 400 KB, and every store refuses a profile past it
(core.storage.memory_sizes). Hana's CRM record and her namesake's mail record wait for review
(same name and address, other birth dates); each of the two customers holds eight records of
32 KB of traits (about 230 KB each, 450 KB together). Accepting the pair merged them in steps
(core.merge_steps.complete_merge: freeze the absorbed customer, copy its snapshots, hand over its
identifiers, delete its snapshots, write the survivor's profile), and the last step was refused:

* ``decide`` raised ``RecordRejectedError`` (not a refusal the CLI and the function report), with
  the pair stored as accepted and the customers apart;
* the absorbed customer stayed frozen half-merged: every later version of a record of either
  customer was quarantined ("could not be stored"), the ingest finishing the merge each time;
* her erasure, by her CRM address (handed to the survivor), erased the survivor and left the frozen
  customer's profile, which holds her name and email.

On the in-memory, SQLite and DynamoDB (moto) stores: the decision is refused before anything is
written, as one ingest refuses a record that would make a profile too large; the pair stays
pending, the customers as they were, a later version of their records is stored, and her erasure
leaves nothing of hers.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest

from core.errors import RecordRejectedError
from core.governance.history import whole_history
from core.identity import IdentityPolicy
from core.link_review import ReviewRefusedError, decide
from core.schema import Identifier
from tests.integration.identity_attack_records import HANA, Flat, flat, groups, ingest_settings, resolve_lines
from tests.integration.test_erasure_attacks import STORES, Stores

HOME = {**HANA, "city": "Manchester"}
CRM = flat("crm", "1", **HOME, email="hana.sato@corp.jp")
NAMESAKE = flat("mail", "3", **{**HOME, "date_of_birth": "1990-02-14"}, email="hana.s@example.com")
HER_EMAIL = "hana.sato@corp.jp"


def _heavy(source: str, i: int, email: str, kilobytes: int = 32) -> Flat:
    """A record of ``email``'s customer with eight traits of its own adding up to ``kilobytes``."""
    chars = kilobytes * 1000 // 8
    return flat(source, f"b{i}", day=1, email=email, **{f"{source}{i}_{j}": "x" * chars for j in range(8)})


def _lines(kilobytes: int) -> list[Flat]:
    return (
        [CRM, NAMESAKE]
        + [_heavy("crm", i, HER_EMAIL, kilobytes) for i in range(7)]
        + [_heavy("mail", i, "hana.s@example.com", kilobytes) for i in range(7)]
    )


def _frozen(stores: Stores) -> list[Any]:
    ids = [p.customer_id for p in stores.profiles.iter_profiles()]
    return [
        (cid, s.merging_into, s.absorbing)
        for cid, s in stores.profiles.get_customers(ids).items()
        if s.merging_into or s.absorbing
    ]


def _pair(stores: Stores) -> Any:
    (item,) = stores.profiles.pending_reviews()
    assert (item.a, item.b) == ("crm:contact:1", "mail:contact:3")
    return item


ON_EACH_STORE = pytest.mark.parametrize("stores_of", [STORES[n] for n in sorted(STORES)], ids=sorted(STORES))


@ON_EACH_STORE
def test_accepting_a_pair_whose_customers_do_not_fit_together_is_refused_changing_nothing(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    with stores_of() as stores:
        # GIVEN two customers of about 230 KB each and the pair of their first records in review
        settings = ingest_settings()
        resolve_lines(_lines(32), stores.profiles, settings=settings)
        before = groups(stores.profiles)
        assert len(before) == 2
        item = _pair(stores)
        # WHEN a reviewer accepts it THEN it is refused as too large, and nothing changed
        with pytest.raises(ReviewRefusedError, match="400 KB"):
            decide(stores.profiles, item.pair_id, "accepted", by="ops", settings=settings)
        assert groups(stores.profiles) == before
        assert _pair(stores).status == "pending"
        assert _frozen(stores) == []
        kinds = {
            e.kind
            for p in stores.profiles.iter_profiles()
            for e in whole_history(stores.profiles.history, p.customer_id)
        }
        assert not kinds & {"review_accepted", "merge"}
        # AND a later version of a record of each customer is stored
        _, quarantined = resolve_lines(
            [
                {**CRM, "updated_at": "2026-03-01T00:00:00Z", "job": "chemist"},
                {**NAMESAKE, "updated_at": "2026-03-01T00:00:00Z", "job": "vet"},
            ],
            stores.profiles,
            settings=settings,
        )
        assert quarantined == []
        jobs = {p.traits["job"].value for p in stores.profiles.iter_profiles() if "job" in p.traits}
        assert jobs == {"chemist", "vet"}


@ON_EACH_STORE
def test_her_erasure_after_a_refused_accept_leaves_nothing_of_hers(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    with stores_of() as stores:
        settings = ingest_settings()
        resolve_lines(_lines(32), stores.profiles, settings=settings)
        item = _pair(stores)
        with pytest.raises((ReviewRefusedError, RecordRejectedError)):
            decide(stores.profiles, item.pair_id, "accepted", by="ops", settings=settings)
        # WHEN Hana is erased by her CRM address
        erased = stores.erase(
            Identifier.assemble(kind="email", value=HER_EMAIL), "req-h", IdentityPolicy(), settings
        )
        assert erased.outcome == "erased"
        # THEN no profile holds her address, and her namesake's customer is left whole
        assert not [p for p in stores.profiles.iter_profiles() if HER_EMAIL in p.model_dump_json()]
        assert groups(stores.profiles) == {frozenset({"mail:3", *(f"mail:b{i}" for i in range(7))})}


@ON_EACH_STORE
def test_accepting_a_pair_whose_customers_fit_together_merges_them(
    stores_of: Callable[[], AbstractContextManager[Stores]],
) -> None:
    # The same with 24 KB records (about 340 KB together): merged, as before.
    with stores_of() as stores:
        settings = ingest_settings()
        resolve_lines(_lines(24), stores.profiles, settings=settings)
        item = _pair(stores)
        outcome = decide(stores.profiles, item.pair_id, "accepted", by="ops", settings=settings)
        assert outcome.together
        assert len(groups(stores.profiles)) == 1
        assert _frozen(stores) == []
