"""attack23: a record whose Gmail addresses all change at once outgrows one transaction.

core/normalise/_limits.py bounds a record to ``MAX_IDENTIFIERS`` (40) emails and phones so that its
worst update fits one 100-item transaction ("every one released and as many new ones claimed (2 x
40), plus its own source id, an owner link, the snapshot and the profile: 85 writes"), and
core/normalise/_record.py promises every record "fits one stored item and one transaction". A Gmail
address written with dots (``p.0@gmail.com``) also has a mailbox marker item (core.mailbox), which
that budget leaves out: a contact holding 33 such addresses, all replaced in its next version (an
import that rewrote them, a shared mailbox's aliases rotated), makes a changeset of 103 operations,
40 of them 124. ``ingest`` raises ValueError ("split it before committing"); sync, resolve and the
merge function isolate the record (core.isolation) and quarantine its new version with that
programmer's message, every later version too: the profile keeps the old addresses for good.

Fixed (left30): a changeset too large with its holder markers has them committed first, then the
rest in one transaction (core.ingest_markers; the orders in between on the three stores:
tests/integration/store_port/test_left30_markers_ahead_on_every_store.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore

NO_SLEEP = IngestSettings(sleep=lambda _: None)


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


def _replace_all(count: int) -> list[str]:
    # a store that holds DynamoDB's 100 items a transaction (the in-memory store's default)
    store = InMemoryProfileStore(max_items_per_commit=100)
    ingest([_contact("p", count, 1)], store, NO_SLEEP)
    ingest([_contact("q", count, 2)], store, NO_SLEEP)
    (profile,) = store.iter_profiles()
    return sorted(i.value for i in profile.identifiers if i.kind == "email")


def test_control_thirty_two_dotted_addresses_replaced_fit_one_transaction() -> None:
    assert _replace_all(32) == sorted(f"q.{n}@gmail.com" for n in range(32))


@pytest.mark.parametrize("count", [33, 40])
def test_a_contact_whose_dotted_gmail_addresses_all_change_is_stored(count: int) -> None:
    # GIVEN a contact holding `count` dotted Gmail addresses (within MAX_IDENTIFIERS), stored
    # WHEN its next version holds as many other ones THEN it is stored, its profile holding them
    assert _replace_all(count) == sorted(f"q.{n}@gmail.com" for n in range(count))
