"""Records deleted at the vendor are retired (core.retirement), on the three stores: the record goes
from its customer, the person's other records stay, a customer whose records no longer hang together
is split, one left with nothing is gone, nothing is suppressed, and a re-created record comes back."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import pytest

from core.batch_ingest import ingest_batch
from core.pipeline import IngestSettings, ingest
from core.ports import RETIRED_HASH
from core.retirement import SourceDeletion, retire_records, split_tombstones
from core.schema import RecordDraft
from core.testing.invariants import store_problems
from core.testing.records import T0, make_record
from tests.integration.test_privacy_stores import PrivacyStoreSet, stores  # noqa: F401 - the fixture

SETTINGS = IngestSettings(sleep=lambda _: None)


def _deleted(source: str, source_id: str, day: int) -> SourceDeletion:
    return SourceDeletion(
        source=source, object_type="contact", source_id=source_id, deleted_at=T0 + timedelta(days=day)
    )


def _two_records(s: PrivacyStoreSet, email: str) -> None:
    """A person with a HubSpot contact (1) and a Salesforce contact (2) sharing ``email``."""
    ingest(
        [make_record("hubspot", "1", email=email), make_record("salesforce", "2", email=email)],
        s.profiles,
        SETTINGS,
    )


def _owners(s: PrivacyStoreSet, keys: list[str]) -> dict[str, str]:
    return {k: o.customer_id for k, o in s.profiles.get_owners(keys).items()}


def _consistent(s: PrivacyStoreSet, keys: list[str]) -> None:
    assert store_problems(list(s.profiles.iter_profiles()), _owners(s, keys)) == []


def test_a_deleted_record_leaves_the_profile_and_the_persons_other_records_stay(
    stores: PrivacyStoreSet,  # noqa: F811
) -> None:
    # GIVEN one person from three tools: a HubSpot contact, a Salesforce contact and a Stripe customer
    ann = [
        make_record("hubspot", "1", email="ann@example.com", traits={"first_name": "Ann"}),
        make_record("salesforce", "003A", email="ann@example.com", phone="+14155550100", day=1),
        make_record("stripe", "cus_1", email="ann@example.com", traits={"city": "Oslo"}, day=2),
    ]
    ingest(ann, stores.profiles, SETTINGS)
    (before,) = list(stores.profiles.iter_profiles())
    # WHEN Salesforce reports its contact deleted
    result = retire_records([_deleted("salesforce", "003A", 3)], stores.profiles, stores.erasure, SETTINGS)
    # THEN the profile no longer holds it, nor the phone only it held; the other two records stay
    (after,) = list(stores.profiles.iter_profiles())
    assert (result.retired, result.absent, result.stale) == (1, 0, 0)
    assert after.customer_id == before.customer_id
    assert {s.key for s in after.sources} == {"hubspot:contact:1", "stripe:contact:cus_1"}
    assert "phone#+14155550100" not in {i.key for i in after.identifiers}
    assert after.traits["city"].value == "Oslo"
    keys = ["source#salesforce:contact:003A", "phone#+14155550100", "email#ann@example.com"]
    assert _owners(stores, keys) == {"email#ann@example.com": after.customer_id}
    _consistent(stores, [*keys, "source#hubspot:contact:1", "source#stripe:contact:cus_1"])


def test_the_same_deletion_twice_or_an_unknown_record_changes_nothing(
    stores: PrivacyStoreSet,  # noqa: F811
) -> None:
    # GIVEN a person with two records, one of which was retired
    _two_records(stores, "bo@example.com")
    retire_records([_deleted("salesforce", "2", 5)], stores.profiles, stores.erasure, SETTINGS)
    (profile,) = list(stores.profiles.iter_profiles())
    # WHEN the deletion comes again, with one for a record never pulled
    again = retire_records(
        [_deleted("salesforce", "2", 5), _deleted("salesforce", "404", 5)],
        stores.profiles,
        stores.erasure,
        SETTINGS,
    )
    # THEN both are absent and the profile is as it was
    assert (again.retired, again.absent) == (0, 2)
    assert list(stores.profiles.iter_profiles()) == [profile]


def test_a_deletion_older_than_the_stored_version_is_stale(stores: PrivacyStoreSet) -> None:  # noqa: F811
    # GIVEN a record restored at the vendor after a deletion, stored at day 9
    ingest([make_record("salesforce", "2", email="cy@example.com", day=9)], stores.profiles, SETTINGS)
    # WHEN the deletion of day 5 arrives late
    result = retire_records([_deleted("salesforce", "2", 5)], stores.profiles, stores.erasure, SETTINGS)
    # THEN it is stale: the record stays
    assert (result.retired, result.stale) == (0, 1)
    assert len(list(stores.profiles.iter_profiles())) == 1


def test_a_customer_whose_last_record_is_retired_is_gone_and_comes_back_when_recreated(
    stores: PrivacyStoreSet,  # noqa: F811
) -> None:
    # GIVEN a person known from one Salesforce contact only, next to someone else
    dee = make_record("salesforce", "9", email="dee@example.com", phone="+14155550199")
    ingest([dee, make_record("hubspot", "7", email="eve@example.com")], stores.profiles, SETTINGS)
    # WHEN the contact is deleted
    result = retire_records([_deleted("salesforce", "9", 1)], stores.profiles, stores.erasure, SETTINGS)
    # THEN the customer is gone with every identifier it owned; the other person stays
    assert (result.retired, result.removed_customers) == (1, 1)
    assert [p.traits == {} for p in stores.profiles.iter_profiles()] == [True]
    keys = ["source#salesforce:contact:9", "email#dee@example.com", "phone#+14155550199"]
    assert _owners(stores, keys) == {}
    # AND the contact restored at the vendor (same id, same content, newer time) is a profile again
    back = make_record("salesforce", "9", email="dee@example.com", phone="+14155550199", day=2)
    outcome = ingest([back], stores.profiles, SETTINGS)
    assert outcome.new_customers == 1
    emails = sorted(
        i.value for p in stores.profiles.iter_profiles() for i in p.identifiers if i.kind == "email"
    )
    assert emails == ["dee@example.com", "eve@example.com"]
    _consistent(stores, [*keys, "source#hubspot:contact:7", "email#eve@example.com"])


def test_records_joined_only_through_the_retired_one_are_split(stores: PrivacyStoreSet) -> None:  # noqa: F811
    # GIVEN a Salesforce contact holding a work and a home email, each shared with another record
    records = [
        make_record("salesforce", "1", email=["fay@work.example.com", "fay@home.example.com"]),
        make_record("hubspot", "2", email="fay@work.example.com", day=1),
        make_record("mailchimp", "3", email="fay@home.example.com", day=2),
    ]
    ingest(records, stores.profiles, SETTINGS)
    assert len(list(stores.profiles.iter_profiles())) == 1
    # WHEN the contact that joined them is deleted
    result = retire_records([_deleted("salesforce", "1", 4)], stores.profiles, stores.erasure, SETTINGS)
    # THEN the two records left are two customers, as resolution would make them today
    assert (result.retired, result.split_customers) == (1, 1)
    sources = sorted(sorted(s.key for s in p.sources) for p in stores.profiles.iter_profiles())
    assert sources == [["hubspot:contact:2"], ["mailchimp:contact:3"]]
    keys = ["email#fay@work.example.com", "email#fay@home.example.com"]
    _consistent(stores, [*keys, "source#hubspot:contact:2", "source#mailchimp:contact:3"])


def test_an_order_keeps_its_owner_link_and_the_owner_recreated_with_the_same_content_comes_back(
    stores: PrivacyStoreSet,  # noqa: F811
) -> None:
    # GIVEN a Shopify customer and an order of hers, joined by the owner link
    from core.normalise import normalise_record

    owner = normalise_record(
        RecordDraft(
            source="shopify", object_type="customer", source_id="1", updated_at=T0, emails=["gi@example.com"]
        )
    )
    order = normalise_record(
        RecordDraft(
            source="shopify",
            object_type="order",
            source_id="5",
            updated_at=T0,
            owner_type="customer",
            owner_id="1",
        )
    )
    ingest([owner, order], stores.profiles, SETTINGS)  # type: ignore[list-item]
    # WHEN the customer record is deleted
    deletion = SourceDeletion(
        source="shopify", object_type="customer", source_id="1", deleted_at=T0 + timedelta(days=1)
    )
    retire_records([deletion], stores.profiles, stores.erasure, SETTINGS)
    # THEN the order stays, the email only she held is released, and the link is kept with the
    # tombstone's hash and the deletion's time
    (profile,) = list(stores.profiles.iter_profiles())
    assert [s.key for s in profile.sources] == ["shopify:order:5"]
    link = stores.profiles.get_owners(["source#shopify:customer:1"])["source#shopify:customer:1"]
    assert (link.customer_id, link.record_hash, link.updated_at) == (
        profile.customer_id,
        RETIRED_HASH,
        deletion.deleted_at,
    )
    # AND the customer record's version from before the deletion, sent again late, is stale
    result = ingest([owner], stores.profiles, SETTINGS)  # type: ignore[list-item]
    assert (result.written, result.unchanged, result.stale) == (0, 0, 1)
    # AND the record re-created with the same content (a newer time) joins her order as new, not
    # as unchanged
    recreated = normalise_record(
        RecordDraft(
            source="shopify",
            object_type="customer",
            source_id="1",
            updated_at=T0 + timedelta(days=2),
            emails=["gi@example.com"],
        )
    )
    result = ingest([recreated], stores.profiles, SETTINGS)  # type: ignore[list-item]
    assert (result.written, result.unchanged) == (1, 0)
    (again,) = list(stores.profiles.iter_profiles())
    assert {s.key for s in again.sources} == {"shopify:order:5", "shopify:customer:1"}


def test_tombstone_drafts_are_split_from_records_and_one_naming_nothing_is_quarantined() -> None:
    drafts = [
        RecordDraft(source="stripe", source_id="cus_1", updated_at=T0, emails=["a@example.com"]),
        RecordDraft(source="stripe", source_id="cus_2", updated_at=T0, deleted=True),
        RecordDraft(source="stripe", source_id="", updated_at=T0, deleted=True),
        RecordDraft(source="stripe", source_id="cus_3", updated_at="yesterday", deleted=True),
    ]
    records, deletions, bad = split_tombstones(drafts)
    assert [d.source_id for d in records] == ["cus_1"]
    assert [d.key for d in deletions] == ["stripe:contact:cus_2"]
    assert [q.reason.split(":")[0] for q, _ in bad] == [
        "a deleted record without a source id",
        "a deleted record without a valid time of deletion (updated_at)",
    ]


@pytest.mark.parametrize("order", ["records first", "deletions first"])
def test_a_deletion_and_a_new_record_of_the_same_person_in_one_page(
    stores: PrivacyStoreSet,  # noqa: F811
    order: str,
) -> None:
    # GIVEN a person with a HubSpot and a Salesforce record
    _two_records(stores, "ha@example.com")
    # WHEN Salesforce deletes the contact and a new one is made for her, applied in either order
    new = make_record("salesforce", "3", email="ha@example.com", day=2)
    steps = [
        lambda: ingest([new], stores.profiles, SETTINGS),
        lambda: retire_records([_deleted("salesforce", "2", 2)], stores.profiles, stores.erasure, SETTINGS),
    ]
    for step in steps if order == "records first" else steps[::-1]:
        step()
    # THEN she is one profile with the HubSpot record and the new contact
    (profile,) = list(stores.profiles.iter_profiles())
    assert sorted(s.key for s in profile.sources) == ["hubspot:contact:1", "salesforce:contact:3"]


def test_a_customer_removed_in_steps_that_lose_a_race_half_way_leaves_nothing_behind() -> None:
    # GIVEN a person known from one record with several identifiers, and an erasure store that
    # deletes two items a step and loses a race on its second step
    from core.errors import ConflictError
    from core.storage.memory import InMemoryProfileStore, InMemorySyncStateStore
    from core.storage.memory_privacy import InMemoryErasureStore

    profiles, state = InMemoryProfileStore(), InMemorySyncStateStore()
    erasure = InMemoryErasureStore(profiles, state, max_items_per_step=2)
    record = make_record("salesforce", "9", email=["a@example.com", "b@example.com"], phone="+14155550199")
    ingest([record], profiles, SETTINGS)
    (profile,) = list(profiles.iter_profiles())
    apply, calls = erasure.apply, []

    def flaky(step: object) -> None:
        calls.append(step)
        if len(calls) == 2:
            raise ConflictError("a concurrent writer")
        apply(step)  # type: ignore[arg-type]

    erasure.apply = flaky  # type: ignore[method-assign]
    # WHEN its record is retired
    result = retire_records([_deleted("salesforce", "9", 1)], profiles, erasure, SETTINGS)
    # THEN the customer is gone whole: no profile, no identifier, no snapshot left behind
    assert result.removed_customers == 1
    assert list(profiles.iter_profiles()) == []
    assert erasure.customer_items(profile.customer_id) == []
    assert profiles.get_owners([i.key for i in record.identifiers]) == {}
    # AND a record holding one of those values later founds a customer of its own at once
    later = ingest([make_record("hubspot", "1", email="b@example.com")], profiles, SETTINGS)
    assert (later.new_customers, later.retries) == (1, 0)


@pytest.mark.parametrize("ingesting", [ingest, ingest_batch], ids=["ingest", "ingest_batch"])
@pytest.mark.parametrize("whole", [False, True], ids=["one-of-two-records", "the-last-record"])
def test_a_late_older_version_of_a_retired_record_does_not_bring_it_back(
    stores: PrivacyStoreSet,  # noqa: F811
    whole: bool,
    ingesting: Any,
) -> None:
    # GIVEN a Salesforce contact (with the person's HubSpot contact, or alone) retired on day 5
    if whole:
        ingest([make_record("salesforce", "2", email="fay@example.com", day=3)], stores.profiles, SETTINGS)
    else:
        _two_records(stores, "fay@example.com")
    retire_records([_deleted("salesforce", "2", 5)], stores.profiles, stores.erasure, SETTINGS)
    # WHEN an older version of it arrives late (an ingest message SQS delivered after the deletion)
    late = make_record("salesforce", "2", email="fay@example.com", phone="+14155550123", day=4)
    # (through the planner, or resolve's batch path that founds fresh groups without it)
    outcome = ingesting([late], stores.profiles, SETTINGS)
    # THEN it is stale: the record stays retired, and nobody holds it or the phone only it had
    assert (outcome.stale, outcome.written) == (1, 0)
    assert "salesforce:contact:2" not in {s.key for p in stores.profiles.iter_profiles() for s in p.sources}
    assert _owners(stores, ["source#salesforce:contact:2", "phone#+14155550123"]) == {}
    # AND the record re-created at the vendor after its deletion (a newer time) comes back
    again = make_record("salesforce", "2", email="fay@example.com", phone="+14155550123", day=6)
    assert ingesting([again], stores.profiles, SETTINGS).written == 1
    owner = _owners(stores, ["source#salesforce:contact:2"])
    assert owner["source#salesforce:contact:2"] in {p.customer_id for p in stores.profiles.iter_profiles()}
    keys = {i.key for p in stores.profiles.iter_profiles() for i in p.identifiers}
    _consistent(stores, sorted({*keys, "source#salesforce:contact:2", "phone#+14155550123"}))


class _Crm:
    """A CRM destination that upserts (creates the people it does not hold), recording what it is sent."""

    def __init__(self, name: str) -> None:
        from core.connector import ConnectorSpec, PushRules

        rules = PushRules(mode="upsert", channel=None, holder_types=frozenset())
        self.spec = ConnectorSpec(name=name, kind="crm", description="a crm", default_base_url="https://x")
        self.spec = dataclasses.replace(self.spec, push_rules=rules)
        self.sent: list[Any] = []

    def from_profile(self, profile: Any) -> Any:
        from core.connector import Payload

        email = next(i.value for i in profile.identifiers if i.kind == "email")
        return Payload(profile.customer_id, email, {"email": email, "name": profile.traits.get("x")})

    def push(self, payloads: Any) -> list[Any]:
        from core.connector import PushOutcome

        self.sent.extend(payloads)
        return [PushOutcome(p.customer_id, ok=True, remote_id=f"r-{p.customer_id}") for p in payloads]


def test_an_upsert_push_does_not_create_again_a_record_retired_at_the_vendor(
    stores: PrivacyStoreSet,  # noqa: F811
) -> None:
    from core.sync import push_profiles

    # GIVEN a person with a HubSpot and a Salesforce contact, pushed to Salesforce (an upsert CRM)
    _two_records(stores, "gus@example.com")
    crm = _Crm("salesforce")
    assert push_profiles(crm, stores.profiles.iter_profiles(), stores.sync_state).updated == 1
    # WHEN Salesforce deletes its contact, which is retired, and the profile is pushed again
    retire_records(
        [_deleted("salesforce", "2", 5)], stores.profiles, stores.erasure, SETTINGS, pushed=stores.sync_state
    )
    crm.sent.clear()
    report = push_profiles(crm, stores.profiles.iter_profiles(), stores.sync_state, mode="upsert")
    # THEN the push does not create them there again: skipped as retired, and counted so
    assert crm.sent == []
    assert (report.created, report.skipped_retired) == (0, 1)
    # AND once the contact is re-created at Salesforce (a newer version pulled), pushes resume
    ingest([make_record("salesforce", "2", email="gus@example.com", day=6)], stores.profiles, SETTINGS)
    again = push_profiles(crm, stores.profiles.iter_profiles(), stores.sync_state, mode="upsert")
    assert (again.updated, again.skipped_retired) == (1, 0)
