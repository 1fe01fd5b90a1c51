"""left30: with suppression on, a record's 40 addresses do not fit one transaction with their guards.

core/normalise/_limits.py keeps 40 emails and phones a record so that its worst update fits one
100-item transaction: 40 claims, 40 releases and 5 more. With suppression checked at merge (the
merge function, ``sync`` and ``resolve`` on a store with erasures), each email or phone whose IDENT
item a changeset creates is guarded by an ``Unsuppressed`` condition (core.ports, docs/privacy.md "A
merge racing an erasure"), and a Gmail-style address by its mailbox's too: one more item an address
(two for a dotted Gmail address). 40 plain addresses replaced are 124 operations; a new contact
holding 33 dotted Gmail addresses is 136 (103 with its markers committed ahead, core.ingest_markers).
The version was refused with ValueError, which the merge function's isolation quarantined.

The markers could go ahead because a marker is unconditional and says nothing until its customer
holds the value; a guard is a condition of the very commit that creates the item, so it cannot.
left31 fixed it: past the limit, the guards are one condition on the store's erasure epoch, read
before a second suppression check of the guarded hashes (core.ingest_epoch_guard), and every
store writes suppression entries in the same transaction as a bump of the epoch (DynamoDB's
``suppress`` bumped first and wrote the entries after: core.storage.dynamodb_suppression). The
races are tests/integration/store_port/test_left31_epoch_guard_on_every_store.py.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck


def _contact(addresses: list[str], day: int) -> SourceRecord:
    draft = RecordDraft(
        source="crm",
        object_type="contact",
        source_id="1",
        updated_at=datetime(2026, 1, day, tzinfo=UTC),
        emails=addresses,
    )
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord), record
    return record


def _emails_after(*versions: list[str]) -> list[str]:
    store = InMemoryProfileStore(max_items_per_commit=100)
    settings = IngestSettings(
        suppression=SuppressionCheck(InMemorySuppressionStore(store), "salt"), sleep=lambda _: None
    )
    for day, addresses in enumerate(versions, start=1):
        ingest([_contact(addresses, day)], store, settings)
    (profile,) = store.iter_profiles()
    return sorted(i.value for i in profile.identifiers if i.kind == "email")


def test_control_twenty_dotted_addresses_replaced_with_suppression_on_are_stored() -> None:
    # 20 claims, 20 releases, 40 guards and 4: 84 with the 20 markers committed ahead (104 before)
    new = [f"q.{n}@gmail.com" for n in range(20)]
    assert _emails_after([f"p.{n}@gmail.com" for n in range(20)], new) == sorted(new)


@pytest.mark.parametrize(
    "versions",
    [
        [[f"p{n}@example.com" for n in range(40)], [f"q{n}@example.com" for n in range(40)]],
        [[f"p.{n}@gmail.com" for n in range(33)]],
    ],
    ids=["40-plain-replaced", "33-dotted-new"],
)
def test_a_record_within_the_identifier_bound_is_stored_with_suppression_on(
    versions: list[list[str]],
) -> None:
    # GIVEN suppression checked at merge WHEN a record within MAX_IDENTIFIERS is stored (or all its
    # addresses replaced) THEN its profile holds them
    assert _emails_after(*versions) == sorted(versions[-1])
