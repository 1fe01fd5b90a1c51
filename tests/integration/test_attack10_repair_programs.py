"""attack10: the repair of a frozen merge (core.merge_undo) against every writer that meets either
customer, the survivor's erasure and retirements included, on the three stores.

test_frozen_merge_repair_interleavings.py runs a repair beside ingests, a second repair and the
erasure of Hana (her CRM customer) on the in-memory and SQLite stores. Here the programs also hold
the erasure of her namesake (whichever of the two the old merge kept as the survivor), the retirement
of one heavy record of either customer (a vendor deletion, core.retirement) and a kill: a
``BaseException`` raised after the k-th store call of the first writer, which the next repair must
finish. Each other writer runs after the k-th store call of what runs inside it (every point of the
repair's reads, copies, handovers, deletes, requeue and last write), on memory, SQLite and DynamoDB
(moto). Whatever the program: nothing stays frozen, no record is quarantined, each erased person has
nothing left in the store (no record, no identifier), the customers are the two people as before less
what was erased or retired, and the store is consistent.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.merge_undo import repair_frozen
from core.retirement import SourceDeletion, retire_records
from core.storage.memory_privacy import InMemoryErasureStore
from core.suppression import SuppressionCheck
from core.testing.invariants import store_problems
from tests.hypothesis_profiles import examples
from tests.integration.identity_attack_records import groups, resolve_lines
from tests.integration.store_port.conftest import StoreKit
from tests.integration.store_port.test_frozen_merge_repair import SALT, STEPS, _broken, _erase_her, _frozen
from tests.integration.test_attack8_review_sizes import HER_EMAIL
from tests.integration.test_frozen_merge_repair_interleavings import CALLS, LATER, _interleaved, _kit

EXAMPLES = int(os.environ.get("REPAIR_EXAMPLES", examples(ci=6, deep=12)))
NAMESAKE_EMAIL = "hana.s@example.com"
HERS = frozenset({"crm:1", *(f"crm:b{i}" for i in range(7))})
THEIRS = frozenset({"mail:3", *(f"mail:b{i}" for i in range(7))})
ACTIONS = ("crm", "mail", "repair", "erase_her", "erase_namesake", "retire_crm", "retire_mail")
OTHER = st.tuples(st.sampled_from(ACTIONS), st.integers(0, 30))
DELETED_AT = datetime(2026, 6, 1, tzinfo=UTC)
#: The store calls another writer runs after: ingest's owner read too (core.ingest_plan reads the
#: retired records' tombstones with the owners).
READS_AND_WRITES = (*CALLS, "get_owners_and_tombstones")


class Killed(BaseException):
    """The process running a writer ended after one of its store calls (not an Exception: no
    ``except Exception`` in the product catches it)."""


def _erase(kit: StoreKit, settings: Any, email: str, salt: str = SALT) -> str:
    return str(_erase_her(kit, settings, email, salt, f"req-{email}").outcome)


def _retire(kit: StoreKit, settings: Any, source: str) -> None:
    erasure = kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)
    gone = SourceDeletion(source=source, object_type="contact", source_id="b3", deleted_at=DELETED_AT)
    retire_records([gone], kit.profiles, erasure, settings)


def _expected(before: set[frozenset[str]], done: set[str]) -> set[frozenset[str]]:
    out: set[frozenset[str]] = set()
    for group in before:
        mine = "erase_her" if group == HERS else "erase_namesake"
        if mine in done:
            continue
        source = "crm" if group == HERS else "mail"
        out.add(group - {f"{source}:b3"} if f"retire_{source}" in done else group)
    return out


def _names_nobody_erased(store: Any, emails: set[str]) -> list[str]:
    """The store's items that still name an erased person's email (identifier items, profiles)."""
    left = [key for key in store.ident_owners() if any(e in key for e in emails)]
    left += [
        f"{profile.customer_id}: {ident.value}"
        for profile in store.iter_profiles()
        for ident in profile.identifiers
        if ident.kind == "email" and ident.value in emails
    ]
    return left


def _program(name: str, stop: str, first: str, kill_at: int | None, others: list[tuple[str, int]]) -> None:
    with _kit(name) as kit:
        ingest_settings, before = _broken(kit, stop=stop)
        assert before == {HERS, THEIRS}
        assert kit.suppression is not None
        checked = replace(ingest_settings, suppression=SuppressionCheck(kit.suppression, SALT))
        quarantined: list[Any] = []
        done: set[str] = set()

        def act(action: str) -> None:
            if action == "repair":
                assert repair_frozen(kit.profiles, ingest_settings)[1] == []
            elif action.startswith("erase_"):
                email = HER_EMAIL if action == "erase_her" else NAMESAKE_EMAIL
                assert _erase(kit, ingest_settings, email) in {"erased", "not_found"}
            elif action.startswith("retire_"):
                _retire(kit, checked, action.removeprefix("retire_"))
            else:
                quarantined.extend(resolve_lines([LATER[action]], kit.profiles, settings=checked)[1])
            done.add(action)

        if kill_at is not None:
            # The first writer is killed after its kill_at-th store call; the others run after theirs.
            others = [*others, ("kill", kill_at)]

        running = [True]

        def act_or_kill(action: str) -> None:
            if action != "kill":
                act(action)
            elif running[0]:
                raise Killed

        try:
            with _interleaved(kit, others, act_or_kill, READS_AND_WRITES):
                act(first)
                running[0] = False
        except Killed:
            running[0] = False
            act("repair")  # what the killed writer left is finished or undone
            act(first)  # sent again, as a queue redelivers a message whose handler died
        act("repair")
        store = kit.profiles
        assert quarantined == []
        assert _frozen(store) == []
        assert store_problems(list(store.iter_profiles()), store.ident_owners()) == []
        erased = {e for a, e in (("erase_her", HER_EMAIL), ("erase_namesake", NAMESAKE_EMAIL)) if a in done}
        assert _names_nobody_erased(store, erased) == []
        assert groups(store) == _expected(before, done)


PROGRAM = {
    "stop": st.sampled_from(STEPS),
    "first": st.sampled_from(["repair", "crm", "mail", "erase_her", "erase_namesake", "retire_crm"]),
    "kill_at": st.none() | st.integers(1, 30),
    "others": st.lists(OTHER, min_size=1, max_size=3),
}


@pytest.mark.parametrize("name", ["memory", "sqlite"])
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(**PROGRAM)
# The namesake's erasure between the first writer's read of the frozen customer and what it does next
# takes the merge back and erases the survivor: her later version went on to merge into a customer
# that no longer exists (quarantined, a ValueError), and the repair reported the customer it found
# frozen as unrepairable, taken back meanwhile.
@example(stop="frozen", first="crm", kill_at=None, others=[("erase_namesake", 1)])
@example(stop="frozen", first="repair", kill_at=None, others=[("erase_namesake", 1)])
def test_a_repair_among_erasures_of_either_person_retirements_and_kills_ends_apart(
    name: str, stop: str, first: str, kill_at: int | None, others: list[tuple[str, int]]
) -> None:
    _program(name, stop, first, kill_at, others)


@pytest.mark.slow
@settings(
    max_examples=max(2, EXAMPLES // 3),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(**PROGRAM)
def test_a_repair_among_erasures_of_either_person_retirements_and_kills_ends_apart_on_dynamodb(
    stop: str, first: str, kill_at: int | None, others: list[tuple[str, int]]
) -> None:
    _program("dynamodb", stop, first, kill_at, others)
