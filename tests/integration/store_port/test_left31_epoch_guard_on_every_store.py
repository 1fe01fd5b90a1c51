"""left31: a record's suppression guards folded into one erasure-epoch condition, on the three stores.

With suppression on, 40 addresses replaced made 40 guards (80 for dotted Gmail addresses) beside 40
claims and 40 releases: past the 100 operations of one transaction, and the version was quarantined
(tests/unit/test_left30_many_addresses_suppression_guards.py, a strict xfail until now). Past the
limit the guards are now one ``NoErasureSince`` condition (core.ingest_epoch_guard): the epoch read,
then every guarded hash checked again, then the commit held to the epoch unchanged. These tests hold
the orders of an erasure racing it to the stores' semantics, through ``ingest`` and ``erase_person``:

- the version is stored, and her erasure afterwards finds her by a new address;
- erased by a new address between the epoch read and the commit: the commit is refused (the erasure
  moved the epoch), the version is planned again and dropped as suppressed: none of her new
  addresses is stored (red with the store's epoch condition taken out: ``_holds_epoch`` answering
  True in core.storage.memory, the memory case stored them all);
- erased between the plan's check and the epoch read: the second check finds her and the version is
  dropped;
- somebody else erased in between: the commit is refused too, planned again and stored (no change
  lost, one re-plan).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.ports import Changeset, NoErasureSince, Unsuppressed
from core.privacy import erase_person, identifier_for
from core.privacy_store import ErasureStore
from core.schema import RecordDraft, SourceRecord
from core.storage.memory_privacy import InMemoryErasureStore
from core.suppression import SuppressionCheck
from tests.integration.store_port.conftest import StoreKit
from tests.integration.test_erasure_attacks import CheckedJustBefore

SALT = "port-salt"


def _contact(addresses: list[str], day: int, source_id: str = "1") -> SourceRecord:
    draft = RecordDraft(
        source="crm",
        object_type="contact",
        source_id=source_id,
        updated_at=datetime(2026, 1, day, tzinfo=UTC),
        emails=addresses,
    )
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord), record
    return record


OLD = [f"p{n}@example.com" for n in range(40)]
NEW = [f"q{n}@example.com" for n in range(40)]


def _erasure(kit: StoreKit) -> ErasureStore:
    return kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)


def _settings(kit: StoreKit, check: Any = None) -> IngestSettings:
    return IngestSettings(suppression=SuppressionCheck(check or kit.suppression, SALT), sleep=lambda _: None)


def _erase(kit: StoreKit, erasure: ErasureStore, request: str, **named: str) -> str:
    report = erase_person(
        identifier_for(**named),
        profiles=kit.profiles,
        erasure=erasure,
        tools={},
        salt=SALT,
        request_id=request,
        sync_state=kit.sync_state,
        suppression=kit.suppression,
        sleep=lambda _: None,
    )
    return report.outcome


class BeforeEpochCommit:
    """Runs ``meanwhile`` once, just before the first commit holding a ``NoErasureSince`` (after the
    epoch was read and the guarded hashes checked again); records the operations committed."""

    def __init__(self, kit: StoreKit, meanwhile: Callable[[], Any] | None = None) -> None:
        self.commit = kit.profiles.commit
        self.meanwhile = meanwhile
        self.kinds: list[set[type]] = []

    def __call__(self, changesets: Sequence[Changeset]) -> list[Changeset]:
        ops = [op for c in changesets for op in c.operations]
        self.kinds.append({type(op) for op in ops})
        if self.meanwhile is not None and any(isinstance(op, NoErasureSince) for op in ops):
            run, self.meanwhile = self.meanwhile, None
            run()
        failed: list[Changeset] = self.commit(changesets)
        return failed


def _emails(kit: StoreKit) -> list[str]:
    (profile,) = kit.profiles.iter_profiles()
    return sorted(i.value for i in profile.identifiers if i.kind == "email")


@pytest.mark.parametrize(
    ("old", "new"),
    [(OLD, NEW), ([f"p.{n}@gmail.com" for n in range(40)], [f"q.{n}@gmail.com" for n in range(40)])],
    ids=["plain", "dotted-gmail"],
)
def test_forty_addresses_replaced_with_suppression_on_are_stored_and_erasable(
    kit: StoreKit, monkeypatch: pytest.MonkeyPatch, old: list[str], new: list[str]
) -> None:
    erasure = _erasure(kit)
    ingest([_contact(old, 1)], kit.profiles, _settings(kit))
    spy = BeforeEpochCommit(kit)
    monkeypatch.setattr(kit.profiles, "commit", spy)
    # WHEN all 40 of her addresses are replaced, suppression checked at merge (before: ValueError)
    result = ingest([_contact(new, 2)], kit.profiles, _settings(kit))
    # THEN the version is stored, its commit held to the erasure epoch in place of 40 (80) guards
    assert (result.written, result.retries) == (1, 0)
    assert _emails(kit) == sorted(new)
    guarded = [kinds for kinds in spy.kinds if NoErasureSince in kinds]
    assert len(guarded) == 1
    assert Unsuppressed not in guarded[0]
    # AND her erasure by a new address finds her
    monkeypatch.undo()
    assert _erase(kit, erasure, "req-1", email=new[7]) == "erased"
    assert list(kit.profiles.iter_profiles()) == []
    assert kit.profiles.get_owners([f"email#{a}" for a in new]) == {}


def test_erased_between_the_epoch_read_and_the_commit_none_of_her_new_addresses_is_stored(
    kit: StoreKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    erasure = _erasure(kit)
    ingest([_contact(OLD, 1)], kit.profiles, _settings(kit))
    outcomes: list[str] = []
    # GIVEN an erasure naming one of her new addresses (nobody holds it yet: it suppresses it) that
    # lands after the epoch was read and her hashes checked again, before the commit
    spy = BeforeEpochCommit(kit, lambda: outcomes.append(_erase(kit, erasure, "req-2", email=NEW[3])))
    monkeypatch.setattr(kit.profiles, "commit", spy)
    # WHEN her next version replaces every address
    result = ingest([_contact(NEW, 2)], kit.profiles, _settings(kit))
    # THEN the erasure ran, the commit was refused (the epoch moved), and the version planned again
    # is dropped as suppressed
    assert len(outcomes) == 1
    assert (result.written, result.suppressed, result.retries) == (0, 1, 1)
    # AND none of her new addresses is stored; the version stored before stands
    assert kit.profiles.get_owners([f"email#{a}" for a in NEW]) == {}
    assert _emails(kit) == sorted(OLD)


def test_erased_between_the_plans_check_and_the_epoch_read_the_second_check_drops_her(
    kit: StoreKit,
) -> None:
    erasure = _erasure(kit)
    ingest([_contact(OLD, 1)], kit.profiles, _settings(kit))
    assert kit.suppression is not None
    # GIVEN an erasure of a new address of hers right after the plan's check answered (unsuppressed)
    racing = CheckedJustBefore(kit.suppression, lambda: _erase(kit, erasure, "req-3", email=NEW[0]))
    # WHEN her next version replaces every address
    result = ingest([_contact(NEW, 2)], kit.profiles, _settings(kit, racing))
    # THEN the second check (after the epoch read) finds her: planned again, dropped as suppressed
    assert (result.written, result.suppressed, result.retries) == (0, 1, 1)
    assert kit.profiles.get_owners([f"email#{a}" for a in NEW]) == {}
    assert _emails(kit) == sorted(OLD)


def test_somebody_else_erased_in_between_costs_one_replan_and_loses_nothing(
    kit: StoreKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    erasure = _erasure(kit)
    ingest([_contact(OLD, 1), _contact(["bob@example.com"], 1, "2")], kit.profiles, _settings(kit))
    outcomes: list[str] = []
    spy = BeforeEpochCommit(
        kit, lambda: outcomes.append(_erase(kit, erasure, "req-4", email="bob@example.com"))
    )
    monkeypatch.setattr(kit.profiles, "commit", spy)
    # WHEN Bob is erased between her version's epoch read and its commit
    result = ingest([_contact(NEW, 2)], kit.profiles, _settings(kit))
    # THEN her commit was refused once (the epoch moved), planned again and stored
    assert outcomes == ["erased"]
    assert (result.written, result.retries) == (1, 1)
    assert _emails(kit) == sorted(NEW)
