"""Attack (attack4): the vendor deletes a record the store only knows as the owner of other records.

A Stripe charge names its customer, a Salesforce Opportunity its Contact: the child's record holds
the owner's ``source#`` key as a link, so that key has an owner in the store (the child's customer)
without a record of its own (no record hash). Two ways to get there: the customer was deleted
before a pull read it (created, charged and deleted between two syncs, or while a full pull paged),
or its record was retired once already and the deletion comes again (a replayed event, a resumed
pull). Retiring then found the key's customer without the record, took it for a move half-read,
planned again 12 times and raised ConflictError: the pull failed on that page, and every pull after
it too (the cursor never moved past the deletion).
"""

from __future__ import annotations

from datetime import timedelta

from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.retirement import SourceDeletion, retire_records
from core.schema import RecordDraft, SourceRecord
from core.testing.records import T0
from tests.integration.test_privacy_stores import PrivacyStoreSet, stores  # noqa: F401 - the fixture

SETTINGS = IngestSettings(sleep=lambda _: None)


def _record(draft: RecordDraft) -> SourceRecord:
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord), record
    return record


def _charge(charge_id: str, customer_id: str) -> SourceRecord:
    return _record(
        RecordDraft(
            source="stripe",
            object_type="charge",
            source_id=charge_id,
            updated_at=T0,
            owner_type="customer",
            owner_id=customer_id,
            orders=[{"id": charge_id, "total": "9.99", "currency": "GBP", "created_at": T0}],
        )
    )


def _deleted(customer_id: str, day: int = 1) -> SourceDeletion:
    return SourceDeletion(
        source="stripe", object_type="customer", source_id=customer_id, deleted_at=T0 + timedelta(days=day)
    )


def test_the_deletion_of_a_customer_known_only_by_its_charges_changes_nothing(
    stores: PrivacyStoreSet,  # noqa: F811
) -> None:
    # GIVEN two charges of a Stripe customer whose own record never reached the store
    ingest([_charge("ch_1", "cus_gone"), _charge("ch_2", "cus_gone")], stores.profiles, SETTINGS)
    before = list(stores.profiles.iter_profiles())
    # WHEN Stripe reports the customer deleted
    result = retire_records([_deleted("cus_gone")], stores.profiles, stores.erasure, SETTINGS, max_attempts=2)
    # THEN there was nothing to retire, and the charges stay one customer, as they were
    assert (result.retired, result.absent) == (0, 1)
    assert list(stores.profiles.iter_profiles()) == before


def test_the_deletion_of_a_customer_retired_already_applies_again_as_nothing(
    stores: PrivacyStoreSet,  # noqa: F811
) -> None:
    # GIVEN a Stripe customer and a charge of hers, and the customer retired (deleted at Stripe)
    customer = _record(
        RecordDraft(
            source="stripe",
            object_type="customer",
            source_id="cus_1",
            updated_at=T0,
            emails=["hal@example.com"],
        )
    )
    ingest([customer, _charge("ch_1", "cus_1")], stores.profiles, SETTINGS)
    first = retire_records([_deleted("cus_1")], stores.profiles, stores.erasure, SETTINGS)
    assert first.retired == 1
    after = list(stores.profiles.iter_profiles())
    # WHEN the same deletion comes again (a replayed event, a pull resumed before its cursor)
    again = retire_records([_deleted("cus_1")], stores.profiles, stores.erasure, SETTINGS, max_attempts=2)
    # THEN it is applied as nothing
    assert again.retired == 0
    assert list(stores.profiles.iter_profiles()) == after
