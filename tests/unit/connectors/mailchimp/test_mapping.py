"""Mapping both ways: members to drafts (with the population's variation), profiles to payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.mailchimp import (
    MERGE_FIELDS,
    STATUS_TRAIT,
    MailchimpSandbox,
    member_to_draft,
    plan_status,
    profile_to_payload,
    subscriber_hash,
)
from connectors.mailchimp._mapping import MEMBER_ID_TRAIT, StatusPlan
from core.normalise import normalise_email, normalise_record
from core.schema import (
    ComputedTraits,
    ConsentValue,
    Identifier,
    Profile,
    Quarantined,
    SourceRecord,
    SourceRef,
    TraitValue,
)
from core.testing.population import people, population

T0 = datetime(2026, 3, 1, tzinfo=UTC)
CONTACT_ID = "5e7a0c2b9d1f4e3a8b6c0d2f4a6b8c0e"


def member(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": subscriber_hash("Ann.Lee@Example.com"),
        "contact_id": CONTACT_ID,
        "email_address": "Ann.Lee@Example.com",
        "status": "subscribed",
        "merge_fields": {
            "FNAME": "ANN",
            "LNAME": "lee",
            "PHONE": "+44 20 7946 0018",
            "ADDRESS": {"addr1": "", "city": "", "state": "", "zip": "", "country": "United Kingdom"},
            "BIRTHDAY": "",
            "PSLTV": "120.5",
            "PSSEGMENT": "vip",
        },
        "language": "fr",
        "timestamp_signup": "",
        "timestamp_opt": "2026-01-05T10:00:00+00:00",
        "last_changed": "2026-02-01T09:30:00+00:00",
    }
    base.update(overrides)
    return base


def test_a_subscriber_maps_to_the_persons_own_fields_and_an_opt_in() -> None:
    # GIVEN a subscribed member holding merge fields profilesync pushed earlier
    # WHEN it is mapped
    draft = member_to_draft(member())
    # THEN identifiers, names, country and language are the person's own; the PS* fields are not read
    assert draft.source == "mailchimp"
    assert draft.object_type == "member"
    assert draft.source_id == CONTACT_ID  # the id that stays when the address changes
    assert draft.emails == ["Ann.Lee@Example.com"]
    assert draft.phones == ["+44 20 7946 0018"]
    assert draft.traits == {
        "first_name": "ANN",
        "last_name": "lee",
        "country": "United Kingdom",
        "language": "fr",
        STATUS_TRAIT: "subscribed",
        MEMBER_ID_TRAIT: subscriber_hash("ann.lee@example.com"),
    }
    # AND the consent is granted as of the opt-in time, and the record is dated by last_changed
    assert draft.consent == {"email": {"granted": True, "changed_at": "2026-01-05T10:00:00+00:00"}}
    assert draft.updated_at == "2026-02-01T09:30:00+00:00"
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord)
    assert record.traits["first_name"] == "Ann"
    assert record.traits["country"] == "GB"
    assert record.consent["email"].granted is True
    assert record.consent["email"].changed_at == datetime(2026, 1, 5, 10, tzinfo=UTC)


_LAST = "2026-02-01T09:30:00+00:00"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        # no unsubscribe time: dated by last_changed and marked so (fix21s, core.consent_carry)
        ("unsubscribed", {"email": {"granted": False, "changed_at": _LAST, "dated_by_record": True}}),
        ("cleaned", {"email": {"granted": False, "changed_at": _LAST, "dated_by_record": True}}),
        ("pending", {}),
        ("transactional", {}),
    ],
)
def test_statuses_map_to_email_consent(status: str, expected: dict[str, Any]) -> None:
    # GIVEN a member with this status WHEN it is mapped THEN opt-outs are dated by last_changed
    # and statuses that decide nothing give no consent
    draft = member_to_draft(member(status=status))
    assert draft.consent == expected
    assert draft.traits[STATUS_TRAIT] == status


def test_an_archived_member_is_a_tombstone_dated_by_last_changed_not_a_consent_change() -> None:
    # GIVEN a member the business archived (removed from the audience)
    draft = member_to_draft(member(status="archived"))
    # THEN it is a deletion of that member, holding nothing of the person and deciding no consent
    assert draft.deleted is True
    assert (draft.source_id, draft.updated_at) == (CONTACT_ID, "2026-02-01T09:30:00+00:00")
    assert (draft.emails, draft.traits, draft.consent) == ([], {}, {})


def test_a_subscriber_without_opt_in_time_falls_back_to_signup_then_last_changed() -> None:
    draft = member_to_draft(member(timestamp_opt="", timestamp_signup="2026-01-02T00:00:00+00:00"))
    assert draft.consent["email"]["changed_at"] == "2026-01-02T00:00:00+00:00"
    draft = member_to_draft(member(timestamp_opt="", timestamp_signup=""))
    assert draft.consent["email"]["changed_at"] == "2026-02-01T09:30:00+00:00"


def test_bad_vendor_data_never_raises_and_is_quarantined_by_normalise() -> None:
    # GIVEN members with wrong types, an empty ADDRESS (Mailchimp's "" for no address) and no email
    odd = [
        member(merge_fields="not an object", email_address=None),
        member(merge_fields={"ADDRESS": "", "PHONE": 12}, status=7, last_changed=None),
        member(id=None, email_address="bad3@example", merge_fields={"PHONE": "12"}),
        {},
    ]
    # WHEN they are mapped and normalised
    drafts = [member_to_draft(m) for m in odd]
    outcomes = [normalise_record(d) for d in drafts]
    # THEN nothing raised, and each unusable one is quarantined with a reason
    assert all(isinstance(o, Quarantined) and o.reason for o in outcomes)
    assert drafts[1].traits.get("country") is None
    assert STATUS_TRAIT not in drafts[1].traits


def test_the_sandbox_population_maps_with_its_variation_and_the_malformed_are_quarantined(
    sandbox: MailchimpSandbox,
) -> None:
    # GIVEN the sandbox seeded from the population's email records (upper case, padded addresses,
    # national and international phones, country names, every status)
    with sandbox.lock:
        members = [sandbox._view(m) for m in sandbox.members.values()]
    assert {m["status"] for m in members} >= {
        "subscribed",
        "unsubscribed",
        "cleaned",
        "pending",
        "transactional",
    }
    assert any(m["email_address"] != m["email_address"].lower() for m in members)
    # WHEN each is mapped and normalised
    outcomes = [normalise_record(member_to_draft(m)) for m in members]
    # THEN the malformed ones are quarantined (no usable identifier) and every other one is a record
    # whose email is the population person's own
    bad = [o for o in outcomes if isinstance(o, Quarantined)]
    good = [o for o in outcomes if isinstance(o, SourceRecord)]
    expected_bad = sum(1 for i, r in population(120, 7, 0.02) if i is None and r["source"] == "email")
    assert len(bad) == expected_bad
    assert all("no usable identifier" in q.reason for q in bad)
    known = {normalise_email(p.email) for p in people(120, 7)}
    assert all({i.value for i in rec.identifiers if i.kind == "email"} <= known for rec in good), (
        "a sandbox email does not belong to a population person"
    )
    assert len(good) + len(bad) == len(members)


# --- push -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("consent", "known", "expected"),
    [
        (False, None, StatusPlan("unsubscribed", True)),
        (False, "subscribed", StatusPlan("unsubscribed", True)),
        (False, "cleaned", StatusPlan("cleaned", True)),
        (True, None, StatusPlan("subscribed", False)),
        (None, None, StatusPlan("transactional", False)),
        (True, "unsubscribed", StatusPlan("unsubscribed", True)),
        (True, "cleaned", StatusPlan("cleaned", True)),
        (True, "transactional", StatusPlan("subscribed", True)),
        (True, "pending", StatusPlan("subscribed", True)),
        (None, "transactional", StatusPlan("transactional", True)),
        (None, "subscribed", StatusPlan("subscribed", True)),
        (None, "pending", None),
        (True, "archived", None),
    ],
)
def test_the_status_plan_spreads_opt_outs_and_never_resubscribes(
    consent: bool | None, known: str | None, expected: StatusPlan | None
) -> None:
    assert plan_status(consent, known) == expected


def profile(
    email: str | None = "ann@example.com",
    *,
    consent: bool | None = True,
    status: str | None = "subscribed",
    mailchimp_ids: tuple[str, ...] | None = None,
) -> Profile:
    identifiers = [Identifier(kind="email", value=email)] if email else []
    ids = (
        mailchimp_ids
        if mailchimp_ids is not None
        else ((subscriber_hash(email),) if email and status else ())
    )
    traits = {"first_name": TraitValue(value="Ann", source="crm:contact:1", updated_at=T0)}
    if status:
        traits[STATUS_TRAIT] = TraitValue(value=status, source="mailchimp:member:x", updated_at=T0)
    return Profile(
        customer_id="cust-1",
        identifiers=tuple(identifiers),
        traits=traits,
        computed=ComputedTraits(
            lifetime_value={"GBP": Decimal("120.5")},
            order_count=3,
            average_order_value={"GBP": Decimal("40.17")},
            last_order_at=datetime(2026, 2, 3, 4, 5, tzinfo=UTC),
            segment="repeat",
        ),
        consent={}
        if consent is None
        else {"email": ConsentValue(granted=consent, changed_at=T0, source="crm")},
        sources=tuple(SourceRef(source="mailchimp", object_type="member", id=i, updated_at=T0) for i in ids),
    )


def test_a_profile_becomes_a_batch_member_with_its_enriched_merge_fields() -> None:
    # GIVEN a subscribed member's profile WHEN it is turned into a payload
    payload = profile_to_payload(profile())
    # THEN it updates the existing member, keeps them subscribed and carries every enriched trait
    assert payload is not None
    assert payload.match_key == "ann@example.com"
    assert payload.body["update_existing"] is True
    member_body = payload.body["member"]
    assert member_body["email_address"] == "ann@example.com"
    assert member_body["status"] == "subscribed"
    assert member_body["merge_fields"] == {
        "FNAME": "Ann",
        "PSCUSTID": "cust-1",
        "PSLTV": "120.5",
        "PSLTVCUR": "GBP",
        "PSORDERS": "3",
        "PSAOV": "40.17",
        "PSLASTORD": "2026-02-03",
        "PSSEGMENT": "repeat",
    }
    assert {f.tag for f in MERGE_FIELDS} <= set(member_body["merge_fields"])
    # AND equal profiles give equal hashes (nothing volatile in the body)
    again = profile_to_payload(profile())
    assert again is not None
    assert again.hash == payload.hash


def test_payloads_follow_the_consent_rules() -> None:
    # An opt-out elsewhere spreads to a subscribed member
    out = profile_to_payload(profile(consent=False))
    assert out is not None
    assert out.body["member"]["status"] == "unsubscribed"
    assert out.body["update_existing"]
    # An opt-in elsewhere never re-subscribes a member Mailchimp holds as unsubscribed
    kept = profile_to_payload(profile(consent=True, status="unsubscribed"))
    assert kept is not None
    assert kept.body["member"]["status"] == "unsubscribed"
    # Someone new to Mailchimp is added only if new: subscribed with consent, else transactional
    new_yes = profile_to_payload(profile(consent=True, status=None))
    new_none = profile_to_payload(profile(consent=None, status=None))
    assert new_yes is not None
    assert new_yes.body == {**new_yes.body, "update_existing": False}
    assert new_yes.body["member"]["status"] == "subscribed"
    assert new_none is not None
    assert new_none.body["member"]["status"] == "transactional"
    assert new_none.body["update_existing"] is False
    # A pending member with no consent decision, and anyone without an email, are left alone
    assert profile_to_payload(profile(consent=None, status="pending")) is None
    assert profile_to_payload(profile(email=None, status=None)) is None


def test_a_status_from_another_member_of_the_profile_is_not_trusted() -> None:
    # GIVEN a profile with two Mailchimp members (two addresses): the status trait may be the other's
    two = profile(status="unsubscribed", mailchimp_ids=(subscriber_hash("ann@example.com"), "f" * 32))
    # WHEN it is turned into a payload THEN the member is treated as not known: added only if new
    payload = profile_to_payload(two)
    assert payload is not None
    assert payload.body["update_existing"] is False
