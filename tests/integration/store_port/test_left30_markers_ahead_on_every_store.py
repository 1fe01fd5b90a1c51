"""left30: a record's holder markers written ahead of its changeset, on the three stores.

A contact whose dotted Gmail addresses all change in one version is a changeset of a claim, a release
and a mailbox marker an address: 40 of them are 124 operations, past the 100 one transaction holds,
and the version was quarantined (tests/unit/test_attack23_many_gmail_addresses.py). The markers are
now committed first, then the rest (core.ingest_markers). These tests hold the orders in between to
the stores' semantics, through ``ingest`` and ``erase_person``:

- the version is stored, and an erasure naming another spelling of a new address finds her;
- killed between the two commits, the old version stands (the markers written say nothing: their
  customer does not hold the values), and the next run stores the version;
- erased between them (by her record's id), the changeset fails, the version is dropped as
  suppressed, and the markers written ahead under her new addresses are deleted: nothing of hers is
  left (red with ``forget_ahead`` taken out of core.pipeline: the markers stayed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from core.mailbox import mailbox_key
from core.normalise import normalise_record
from core.pipeline import IngestResult, IngestSettings, ingest
from core.ports import Changeset
from core.privacy import erase_person, identifier_for
from core.privacy_store import ErasureStore
from core.schema import RecordDraft, SourceRecord
from core.storage.memory_privacy import InMemoryErasureStore
from core.suppression import SuppressionCheck
from tests.integration.store_port.conftest import StoreKit

SALT = "port-salt"
KEY = "crm:contact:1"


def _contact(prefix: str, count: int, day: int) -> SourceRecord:
    draft = RecordDraft(
        source="crm",
        object_type="contact",
        source_id="1",
        updated_at=datetime(2026, 1, day, tzinfo=UTC),
        emails=[f"{prefix}.{n}@gmail.com" for n in range(count)],
    )
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord), record
    return record


class Between:
    """The kit's profile store, running ``meanwhile`` once its first markers commit is written (before
    the changeset it goes ahead of); ``labels``: every changeset committed through it."""

    def __init__(self, store: Any, meanwhile: Callable[[], Any] | None = None) -> None:
        self.store = store
        self.meanwhile = meanwhile
        self.labels: list[str] = []

    def commit(self, changesets: Sequence[Changeset]) -> list[Changeset]:
        failed = self.store.commit(changesets)
        self.labels.extend(c.label for c in changesets)
        if self.meanwhile is not None and any(c.label.startswith("markers:") for c in changesets):
            run, self.meanwhile = self.meanwhile, None
            run()
        return failed

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def _erasure(kit: StoreKit) -> ErasureStore:
    return kit.erasure or InMemoryErasureStore(kit.profiles, kit.sync_state)


def _settings(kit: StoreKit) -> IngestSettings:
    assert kit.suppression is not None
    return IngestSettings(suppression=SuppressionCheck(kit.suppression, SALT), sleep=lambda _: None)


def _erase(kit: StoreKit, erasure: ErasureStore, **named: str) -> str:
    report = erase_person(
        identifier_for(**named),
        profiles=kit.profiles,
        erasure=erasure,
        tools={},
        salt=SALT,
        request_id="req-left30",
        sync_state=kit.sync_state,
        suppression=kit.suppression,
        sleep=lambda _: None,
    )
    return report.outcome


def _emails(kit: StoreKit) -> list[str]:
    (profile,) = kit.profiles.iter_profiles()
    return sorted(i.value for i in profile.identifiers if i.kind == "email")


def _nothing_of(kit: StoreKit, erasure: ErasureStore, *records: SourceRecord) -> None:
    """No customer, IDENT item or holder marker holds any value of ``records``."""
    keys = sorted({i.key for r in records for i in r.identifiers})
    mailboxes = sorted({m for k in keys if (m := mailbox_key(k)) is not None})
    assert list(kit.profiles.iter_profiles()) == []
    assert kit.profiles.get_owners(keys) == {}
    assert erasure.holders([*keys, *mailboxes]) == {}


@pytest.mark.parametrize("count", [33, 40])
def test_all_her_dotted_addresses_replaced_are_stored_and_another_spelling_finds_her(
    kit: StoreKit, count: int
) -> None:
    erasure = _erasure(kit)
    old, new = _contact("p", count, 1), _contact("q", count, 2)
    ingest([old], kit.profiles, IngestSettings(sleep=lambda _: None))
    store = Between(kit.profiles)
    # WHEN her next version replaces every address (before: ValueError, the version quarantined)
    result = ingest([new], store, IngestSettings(sleep=lambda _: None))  # type: ignore[arg-type]
    # THEN it is stored, its markers committed ahead of it
    assert result.written == 1
    assert _emails(kit) == sorted(f"q.{n}@gmail.com" for n in range(count))
    assert [label.partition("#")[0] for label in store.labels] == [f"markers:{KEY}", KEY]
    # AND an erasure naming another spelling of a new address (no dot) finds her and leaves nothing
    assert _erase(kit, erasure, email="q0@gmail.com") == "erased"
    _nothing_of(kit, erasure, new)


def test_killed_between_the_two_commits_the_next_run_stores_the_version(kit: StoreKit) -> None:
    erasure = _erasure(kit)
    old, new = _contact("p", 40, 1), _contact("q", 40, 2)
    ingest([old], kit.profiles, IngestSettings(sleep=lambda _: None))

    def killed() -> None:
        raise KeyboardInterrupt  # the process killed once the markers are written

    # WHEN the run is killed between the markers' commit and the changeset's
    with pytest.raises(KeyboardInterrupt):
        ingest([new], Between(kit.profiles, killed), IngestSettings(sleep=lambda _: None))  # type: ignore[arg-type]
    # THEN the old version stands: the markers written name a customer holding none of their values
    assert _emails(kit) == sorted(f"p.{n}@gmail.com" for n in range(40))
    (customer,) = (p.customer_id for p in kit.profiles.iter_profiles())
    assert erasure.holders(["mailbox#q0@gmail.com"]) == {"mailbox#q0@gmail.com": {customer}}
    # WHEN the next run pulls the version again THEN it is stored
    assert ingest([new], kit.profiles, IngestSettings(sleep=lambda _: None)).written == 1
    assert _emails(kit) == sorted(f"q.{n}@gmail.com" for n in range(40))
    # AND her erasure by another spelling of a new address leaves nothing of the version (the old
    # version's markers stay, as every record that drops a value leaves its marker: docs/privacy.md)
    assert _erase(kit, erasure, email="q39@gmail.com") == "erased"
    _nothing_of(kit, erasure, new)


def test_erased_between_the_two_commits_nothing_of_hers_is_left(kit: StoreKit) -> None:
    # With suppression on, each new address is guarded by its own and its mailbox's suppression
    # entries: past the limit they are one condition on the erasure epoch (left31,
    # core.ingest_epoch_guard): 40 claims, 40 releases, 40 markers, 1 and 4 are 125, 85 without the
    # markers, which go ahead (before left31: 20 addresses, 104 with their 40 guards)
    erasure = _erasure(kit)
    old, new = _contact("p", 40, 1), _contact("q", 40, 2)
    ingest([old], kit.profiles, _settings(kit))
    outcomes: list[str] = []
    store = Between(kit.profiles, lambda: outcomes.append(_erase(kit, erasure, source=KEY)))
    # WHEN she is erased by her record's id once the markers of her next version are written
    result: IngestResult = ingest([new], store, _settings(kit))  # type: ignore[arg-type]
    # THEN the erasure erased her stored customer, the version is dropped as suppressed
    assert outcomes == ["erased"]
    assert (result.written, result.suppressed) == (0, 1)
    # AND nothing of hers is left: not her old addresses, nor the markers under her new ones
    _nothing_of(kit, erasure, old, new)
