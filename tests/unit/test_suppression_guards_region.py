"""A commit guards the refused phone values ``split`` reads, in the deployment's region.

``SuppressionCheck.split`` reads a refused phone value (``020 7946 0018 (mobile)``) in the check's
region (and the record's country), as core.quarantine does; ``guards``, the keys a commit must find
unsuppressed, read it in the US region whatever the check's: in a GB deployment a national number
gave no key there, so an erasure between the check and the commit let the record through (under a
household's customer, by its phone). Both read it in the same region now.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.schema import DroppedValue, SourceRecord
from core.storage.memory_privacy import InMemorySuppressionStore
from core.suppression import SuppressionCheck, SuppressionEntry
from core.testing.records import make_record

HER_NATIONAL = "020 7946 0018 (mobile)"
HER_KEY = "phone#+442079460018"


def _household_record(phone_value: str) -> SourceRecord:
    """A record of the household's address, her phone refused in it (a note beside the number)."""
    record = make_record("crm", "1", email="olu.adeyemi@example.com")
    dropped = (DroppedValue(field="phone", value=phone_value, reason="not a phone number"),)
    return record.model_copy(update={"dropped": dropped})


def test_a_refused_national_phone_is_guarded_in_the_checks_region() -> None:
    # GIVEN a check of a GB deployment, and a record whose refused phone value is her national number
    check = SuppressionCheck(InMemorySuppressionStore(), "salt", region="GB")
    record = _household_record(HER_NATIONAL)
    # WHEN a commit writing it asks what it must find unsuppressed
    guarded = check.guards([], [record])
    # THEN her number, read in GB as split reads it, is among them (red before: [] , read in the US)
    assert check.hash(HER_KEY) in guarded


def test_split_and_guards_read_a_refused_phone_alike_in_each_region() -> None:
    for region, value in [("GB", HER_NATIONAL), ("US", "+44 20 7946 0018 (mobile)"), ("US", HER_NATIONAL)]:
        store = InMemorySuppressionStore()
        check = SuppressionCheck(store, "salt", region=region)
        record = _household_record(value)
        guarded = check.hash(HER_KEY) in set(check.guards([], [record]))
        # what split finds of her in the record, by suppressing her number and splitting
        store.suppress(
            [SuppressionEntry(check.hash(HER_KEY), "phone", "r1", datetime(2026, 1, 1, tzinfo=UTC))]
        )
        kept, dropped = check.split([record])
        assert guarded == (kept != [record] or dropped != []), (region, value)
