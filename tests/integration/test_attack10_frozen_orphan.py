"""attack10: a customer an older version froze into a survivor that an older version's erasure then
deleted (the upgrade's leftover the repair did not take).

core/merge_undo.py says what the versions before it left: a merge in steps stopped at its last step
(the absorbed customer frozen, ``merging_into``), and "an erasure found the survivor through the
handed-over identifiers and left the frozen customer's profile". Such a store holds a frozen customer
whose survivor is gone. Here that store is made as they made it (``old_accept`` stops the merge where
it stopped; the erasure of either person runs with the step that settles a merge first switched off,
as before it existed), on the in-memory, SQLite and DynamoDB (moto) stores. Then, on this version,
``profilesync repair`` runs and both people are erased. The promise: nothing frozen is left and no
profile names either person.

Before the fix: ``find_frozen`` reported the customer ``unrepairable`` (its survivor is gone) and
``repair`` left it; no identifier item led to it any more (the old erasure deleted those handed
over), so each new erasure answered ``not_found``; the frozen profile, with her name and email,
stayed for good. Now ``repair_orphan`` (core.merge_undo) rebuilds it from its own records (or, with
none left, leaves a tombstone), and an erasure that finds nobody looks for it among the frozen
customers (core.privacy), before or after a repair.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import pytest

from core.identity import IdentityPolicy
from core.merge_undo import repair_frozen
from core.privacy import erase_person
from core.schema import Identifier
from core.storage.memory_privacy import InMemoryErasureStore, InMemorySuppressionStore
from core.testing.invariants import store_problems
from tests.integration.identity_attack_records import groups, ingest_settings
from tests.integration.store_copies import Restore, store_copy
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_frozen_merge_repair import SALT, _broken, _frozen
from tests.integration.test_attack8_review_sizes import HER_EMAIL
from tests.integration.test_attack10_repair_programs import NAMESAKE_EMAIL, _erase, _names_nobody_erased
from tests.integration.test_frozen_merge_repair_interleavings import _kit


@pytest.mark.parametrize("first", [HER_EMAIL, NAMESAKE_EMAIL], ids=["her-first", "namesake-first"])
@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_a_frozen_customer_whose_survivor_an_older_erasure_deleted_is_repaired_and_erased(
    name: str, first: str
) -> None:
    with _made(name, "broken") as (kit, settings, _):
        # GIVEN the merge an older version froze, and an older version's erasure of one of them
        with (
            mock.patch("core.privacy_customer.finish_merges", return_value=False),
            mock.patch("core.privacy.settle_merges", return_value=False),
        ):
            assert _erase(kit, settings, first) == "erased"
        assert len(_frozen(kit.profiles)) == 1
        # WHEN this version repairs the store and both people ask to be erased
        repair_frozen(kit.profiles, settings)
        for email in (HER_EMAIL, NAMESAKE_EMAIL):
            _erase(kit, settings, email)
        # THEN nothing is frozen and nothing names either of them
        assert _frozen(kit.profiles) == []
        assert _names_nobody_erased(kit.profiles, {HER_EMAIL, NAMESAKE_EMAIL}) == []
        assert list(kit.profiles.iter_profiles()) == []


#: The steps an older version's merge stopped at that its erasure of the survivor's person leaves an
#: orphan after (stopped once the records were copied, the survivor held hers too: the erasure took
#: the absorbed customer as one split off from the person, core.scope_splinters).
STOPS = ["frozen", "handed", "dropped"]


def _orphaned(kit: Any, stop: str) -> tuple[Any, str, str, frozenset[str]]:
    """The merge an older version froze at ``stop``, then an older version's erasure of the
    survivor's person (found through her identifier items, the merge not settled first): the
    absorbed customer is left frozen into a customer that is gone. The settings, the email of the
    absorbed customer's person, that of the erased one, and the absorbed customer's records."""
    settings, before = _broken(kit, stop=stop)
    [(absorbed, survivor, _)] = [f for f in _frozen(kit.profiles) if f[1]]
    read = kit.profiles.get_customers([absorbed, survivor])
    emails = {HER_EMAIL, NAMESAKE_EMAIL}
    hers = {i.value for i in read[absorbed].profile.identifiers if i.kind == "email"} & emails
    [email] = hers
    [erased] = emails - hers
    [records] = [g for g in before if g & {f"{s.source}:{s.id}" for s in read[absorbed].profile.sources}]
    with (
        mock.patch("core.privacy_customer.finish_merges", return_value=False),
        mock.patch("core.privacy.settle_merges", return_value=False),
    ):
        assert _erase(kit, settings, erased) == "erased"
    assert kit.profiles.get_customers([survivor]) == {}
    assert [f[0] for f in _frozen(kit.profiles)] == [absorbed]
    return settings, email, erased, records


#: Each store's state once made in this process (``_made``): what puts its items into a new kit of
#: the store (tests/integration/store_copies.store_copy), and what making it returned.
_MADE: dict[tuple[str, str], tuple[Restore, Any]] = {}


@contextmanager
def _made(name: str, stop: str) -> Iterator[tuple[StoreKit, Any, Any]]:
    """A new kit of ``name`` holding the store ``_orphaned(kit, stop)`` makes (``"broken"``: the
    frozen merge ``_broken`` makes, nobody erased), new settings, and what making it returned
    beyond its settings. SQLite and DynamoDB stores are made once in the process and their items
    put into each new kit (the resolve, the old merge and the old erasure took most of a
    DynamoDB test's time, the same calls made again); the in-memory store is made each time.
    Kept in the process, not in a module fixture: test_orph17_orphans and test_privacy18_orphan_tools
    make the same stores. Items, not a kit (store_port/kit_copies.kit_given_once keeps its kit open,
    and a DynamoDB kit's moto with it, for as long as it is used): each test opens a kit of its own."""
    given = (lambda kit: _broken(kit)[1]) if stop == "broken" else (lambda kit: _orphaned(kit, stop)[1:])
    with _kit(name) as kit:
        if name == "memory":
            yield kit, ingest_settings(), given(kit)
            return
        if (name, stop) in _MADE:
            put, made = _MADE[name, stop]
            put(kit.profiles)
        else:
            made = given(kit)
            _MADE[name, stop] = (store_copy(name, kit.profiles), made)
        # New settings: those ``given`` used hold the linkage's caches, which a new process lacks.
        yield kit, ingest_settings(), made


def _nothing_left(kit: Any) -> None:
    assert _frozen(kit.profiles) == []
    assert _names_nobody_erased(kit.profiles, {HER_EMAIL, NAMESAKE_EMAIL}) == []
    assert list(kit.profiles.iter_profiles()) == []


@pytest.mark.parametrize("stop", STOPS)
@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_repair_rebuilds_an_orphan_from_its_own_records_and_her_erasure_then_finds_it(
    name: str, stop: str
) -> None:
    with _made(name, stop) as (kit, settings, (email, _, records)):
        # GIVEN a customer frozen into one an older version's erasure deleted
        # WHEN this version repairs the store
        found, problems = repair_frozen(kit.profiles, settings)
        # THEN it is rebuilt from the records it still holds, owning their identifiers (the merge
        # dropped them from it at its "dropped" step: nothing of it is left, no personal data)
        assert [f.action for f in found] == ["rebuild"]
        assert problems == []
        assert _frozen(kit.profiles) == []
        left = groups(kit.profiles)
        assert left == (set() if stop == "dropped" else {records})
        assert store_problems(list(kit.profiles.iter_profiles()), kit.profiles.ident_owners()) == []
        assert repair_frozen(kit.profiles, settings) == ([], [])
        # and her erasure finds and erases it
        assert _erase(kit, settings, email) == ("not_found" if stop == "dropped" else "erased")
        _nothing_left(kit)


@pytest.mark.parametrize("stop", STOPS)
@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_her_erasure_before_any_repair_finds_and_erases_an_orphan(name: str, stop: str) -> None:
    with _made(name, stop) as (kit, settings, (email, erased, _)):
        # GIVEN a customer frozen into one an older version's erasure deleted, never repaired
        # WHEN this version erases her (by her email), then the other person again
        outcome = _erase(kit, settings, email)
        again = _erase(kit, settings, erased)
        # THEN she was found and nothing of either is left
        assert (outcome, again) == ("erased", "not_found")
        _nothing_left(kit)
        assert repair_frozen(kit.profiles, settings) == ([], [])


@pytest.mark.parametrize("stop", ["handed", "dropped"])
@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_her_erasure_by_a_record_id_finds_an_orphan_no_identifier_item_leads_to(name: str, stop: str) -> None:
    with _made(name, stop) as (kit, settings, (email, _, _)):
        # GIVEN an orphan whose identifier items went with the survivor (handed over, then erased)
        [(orphan, _, _)] = _frozen(kit.profiles)
        profile = kit.profiles.get_customers([orphan])[orphan].profile
        record = Identifier.assemble(kind="source", value=profile.sources[0].key)
        assert kit.profiles.get_owners([record.key, f"email#{email}"]) == {}
        # WHEN this version erases her by the id of one of her records
        erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
        report = erase_person(
            record,
            profiles=kit.profiles,
            erasure=erasure,
            tools={},
            salt=SALT,
            request_id="req-record",
            sync_state=kit.sync_state,
            suppression=kit.suppression or InMemorySuppressionStore(kit.profiles),
            policy=IdentityPolicy(),
            identity=settings,
        )
        # THEN she is found and nothing of her is left
        assert report.outcome == "erased"
        _nothing_left(kit)


@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_an_erasure_of_a_value_nobody_held_reads_the_frozen_list_once_and_erases_nobody(name: str) -> None:
    """Changed in privacy17: an erasure that finds nobody reads the frozen list (an older erasure
    may have suppressed nothing: tests/integration/test_privacy17_orphans.py), once; a value no
    frozen customer holds erases nobody and leaves the orphan to repair."""
    with _made(name, "dropped") as (kit, settings, _):
        # GIVEN an orphan (the frozen list holds it)
        # WHEN a value nobody ever held is erased
        with mock.patch.object(
            type(kit.profiles),
            "frozen_customers",
            autospec=True,
            side_effect=type(kit.profiles).frozen_customers,
        ) as listed:
            outcome = _erase(kit, settings, "never.stored@example.com")
        # THEN the frozen list was read once (one Scan on DynamoDB), nobody found, the orphan left
        assert outcome == "not_found"
        assert listed.call_count == 1
        assert len(_frozen(kit.profiles)) == 1


class _Killed(BaseException):
    """The repair's process ended after a write (no ``except Exception`` in the product catches it)."""


@pytest.mark.parametrize("then", ["repair", "erase"])
@pytest.mark.parametrize("kill_after", [0, 1])
@pytest.mark.parametrize("name", ["memory", "sqlite", "dynamodb"])
def test_a_repair_of_an_orphan_killed_after_a_write_is_finished_by_the_next_or_her_erasure(
    name: str, kill_after: int, then: str
) -> None:
    with _made(name, "handed") as (kit, settings, (email, _, records)):
        # GIVEN an orphan holding its records, its identifier items gone with the survivor
        store = kit.profiles
        commit = type(store).commit
        done: list[int] = []

        def dies(self: Any, changesets: Any) -> Any:
            if len(done) == kill_after:
                raise _Killed
            done.append(1)
            return commit(self, changesets)

        # WHEN a repair dies after its ``kill_after``-th write (1: its identifiers claimed, its
        # profile not rebuilt yet), and the next repair runs, or her erasure before it
        with mock.patch.object(type(store), "commit", dies), pytest.raises(_Killed):
            repair_frozen(store, settings)
        if then == "erase":
            assert _erase(kit, settings, email) == "erased"
            _nothing_left(kit)
            return
        assert repair_frozen(store, settings)[1] == []
        # THEN it is as one repair leaves it, and her erasure takes it all
        assert _frozen(store) == []
        assert groups(store) == {records}
        assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
        assert _erase(kit, settings, email) == "erased"
        _nothing_left(kit)
