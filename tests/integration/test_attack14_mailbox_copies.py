"""attack14: her copies outside her customer, in another spelling of her own Gmail mailbox.

Her erasure finds her quarantined records and her dead letters by her *finding keys*
(core/person_scope.py ``finding_keys``: her ``email#`` keys, her record ids, and the ``mailbox#`` key of
each address of hers at a provider that folds spellings). A record pulled before her erasure in
another spelling of that mailbox (``a.nn.smith+shop@googlemail.com`` for ``ann.smith@gmail.com``: one
inbox, Google says so) is hers for every check after her erasure (pull, merge and push look the mailbox
up, tests/integration/test_erasure_attacks.py), but its copies are keyed by its own spelling only:

* the quarantine entry a pull writes (core/sync.py ``quarantine_entries``: hashes of
  core/quarantine.py ``identifier_keys``, the ``email#`` key of each address, no ``mailbox#`` key);
* a dead letter, matched by core/privacy_request.py ``record_matcher``: ``i.key in keys`` compares the
  record's ``email#`` key with her keys, never its mailbox.

So after ``erase`` answers ``erased``, the quarantine keeps her name and address for its 30 days, the
dead-letter queue for its 14 (and a redrive drops it then, but the erasure said it took it), and her
export before the erasure listed neither. On the in-memory, SQLite and DynamoDB (moto) stores.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from core.normalise import normalise_record
from core.privacy import PrivacyStores, erase_person, export_person
from core.schema import Identifier, Quarantined, RecordDraft, SourceRecord
from core.suppression import SuppressionCheck
from core.sync import quarantine_entries
from core.testing.records import make_record
from tests.integration.test_erasure_attacks import SALT, Stores, stores

__all__ = ["stores"]  # the fixture (every store of test_erasure_attacks), imported for pytest

HER = "ann.smith@gmail.com"
SPELLING = "A.Nn.Smith+shop@googlemail.com"  # one inbox with hers (Gmail drops dots, +tags; googlemail)
AT = datetime(2026, 3, 1, tzinfo=UTC)


class _DeadLetters:
    """A dead-letter queue of one message per record (core.privacy_store.DeadLetterQueue)."""

    def __init__(self, records: list[SourceRecord]) -> None:
        self.kept = records

    def records(self) -> list[SourceRecord]:
        return list(self.kept)

    def remove(self, matches: Callable[[SourceRecord], bool]) -> int:
        kept = [r for r in self.kept if not matches(r)]
        removed, self.kept = len(self.kept) - len(kept), kept
        return removed


def _draft(source_id: str, email: str, problem: str | None = None) -> RecordDraft:
    name = ("Ann", "Smith") if "smith" in email.lower() else ("Bob", "Jones")
    return RecordDraft(
        source="hubspot",
        source_id=source_id,
        updated_at=AT,
        emails=[email],
        traits={"first_name": name[0], "last_name": name[1]},
        problem=problem,
    )


def _erase(stores: Stores, dead: _DeadLetters | None = None) -> dict[str, int]:
    report = erase_person(
        Identifier(kind="email", value=HER),
        profiles=stores.profiles,
        erasure=stores.erasure,
        tools={},
        salt=SALT,
        request_id="req-ann",
        sync_state=stores.sync_state,
        suppression=stores.suppression,
        dead_letters=dead,
        quarantine_of=("hubspot", "crm"),
    )
    assert (report.found, report.outcome) == (True, "erased")
    return dict(report.counts)


def test_her_quarantined_record_in_another_spelling_of_her_mailbox_goes_with_her(stores: Stores) -> None:
    # GIVEN Ann stored by her address, and a HubSpot contact of hers quarantined by a pull (a bad
    # date) holding her mailbox in another spelling, beside Bob's quarantined contact
    stores.ingest([make_record("crm", "1", email=HER)])
    check = SuppressionCheck(stores.suppression, SALT)
    bad = [
        _draft("77", SPELLING, problem="updatedAt 'yesterday' is not a time"),
        _draft("78", "bob.jones@example.com", problem="updatedAt 'yesterday' is not a time"),
    ]
    outcomes = [normalise_record(d) for d in bad]
    assert all(isinstance(o, Quarantined) for o in outcomes)
    pairs = [(o, d) for o, d in zip(outcomes, bad, strict=True) if isinstance(o, Quarantined)]
    stores.sync_state.put_quarantined(quarantine_entries("hubspot", pairs, AT, check))
    assert len(stores.erasure.quarantined_items("hubspot")) == 2
    # WHEN she is erased by her address
    counts = _erase(stores)
    # THEN her quarantined contact went with her; Bob's stays
    left = [i.raw for i in stores.erasure.quarantined_items("hubspot")]
    assert counts.get("quarantined") == 1, counts
    assert [r for r in left if "smith" in r.lower()] == [], left
    assert len(left) == 1


def test_her_dead_letter_in_another_spelling_of_her_mailbox_is_exported_and_erased(stores: Stores) -> None:
    # GIVEN Ann stored by her address, and in the ingest dead-letter queue a record of hers in another
    # spelling of her mailbox beside Bob's
    stores.ingest([make_record("crm", "1", email=HER)])
    letters = [
        normalise_record(_draft("77", SPELLING)),
        normalise_record(_draft("78", "bob.jones@example.com")),
    ]
    dead = _DeadLetters([r for r in letters if isinstance(r, SourceRecord)])
    assert len(dead.kept) == 2
    # WHEN she asks for her data THEN her dead letter is listed
    privacy = PrivacyStores(
        stores.profiles, stores.erasure, stores.sync_state, stores.suppression, dead, ("hubspot", "crm")
    )
    exported = export_person(stores.profiles, Identifier(kind="email", value=HER), stores=privacy, salt=SALT)
    assert exported is not None
    assert [r.key for r in exported.dead_letters] == ["hubspot:contact:77"]
    # WHEN she is erased THEN it leaves the queue; Bob's stays
    counts = _erase(stores, dead)
    assert counts.get("dead_letter_records") == 1, counts
    assert [r.key for r in dead.kept] == ["hubspot:contact:78"]
