"""Salesforce push (custom fields set up once; known people updated by id, new ones created by external
id, 200 records a request) and erase (Contacts and Leads deleted, found or not)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from connectors.salesforce import EXTERNAL_ID, PUSH_FIELDS
from core.connector import PushOutcome
from core.schema import ComputedTraits, Identifier, Profile, SourceRef, TraitValue
from core.storage.memory import InMemorySyncStateStore
from core.sync import push_profiles

from .conftest import Connect, RecordingSandbox

T = datetime(2026, 3, 1, tzinfo=UTC)
FIELDS = [name for name, _ in PUSH_FIELDS.values()]


def _profile(
    n: int, *, contact: str | None = None, lead: str | None = None, email: str | None = None
) -> Profile:
    sources = (
        [SourceRef(source="salesforce", object_type="contact", id=contact, updated_at=T)] if contact else []
    )
    sources += [SourceRef(source="salesforce", object_type="lead", id=lead, updated_at=T)] if lead else []
    return Profile(
        customer_id=f"cus_{n:05d}",
        identifiers=(Identifier(kind="email", value=email or f"p{n}@example.com"),),
        traits={"last_name": TraitValue(value=f"Last{n}", source="shop", updated_at=T)},
        computed=ComputedTraits(
            lifetime_value={"GBP": Decimal("120.50")},
            order_count=3,
            last_order_at=T,
            average_order_value={"GBP": Decimal("40.17")},
            segment="repeat",
        ),
        sources=tuple(sources),
    )


def test_the_first_push_creates_the_missing_fields_in_two_calls_then_never_again(
    sandbox: RecordingSandbox, connect: Connect
) -> None:
    # GIVEN an org without the ProfileSync fields
    assert not any(f in sandbox.schema["Contact"] for f in FIELDS)
    connector = connect(sandbox)
    # WHEN the first batch is pushed
    (outcome,) = connector.push([connector.from_profile(_profile(1))])  # type: ignore[list-item]
    # THEN one composite describe and one Tooling composite created the 14 fields, then the batch went out
    assert outcome.ok, outcome.error
    assert len(sandbox.calls("POST", "/composite")) == 2
    assert sorted(sandbox.created_fields) == sorted(f"{o}.{f}" for o in ("Contact", "Lead") for f in FIELDS)
    assert EXTERNAL_ID in sandbox.external_ids["Contact"]
    # AND a new connector (a new Lambda) only checks, and creates nothing
    sandbox.exchanges.clear()
    again = connect(sandbox)
    again.push([again.from_profile(_profile(2))])  # type: ignore[list-item]
    assert len(sandbox.calls("POST", "/composite")) == 1
    assert not sandbox.calls("POST", "/tooling")


def test_known_people_are_updated_by_id_and_new_people_created_by_external_id(
    sandbox: RecordingSandbox, connect: Connect
) -> None:
    # GIVEN a profile holding a Salesforce contact, one holding only a lead, and one Salesforce lacks
    contact = next(r for r in sandbox.objects["Contact"].values())
    lead = next(r for r in sandbox.objects["Lead"].values())
    connector = connect(sandbox)
    before = len(sandbox.objects["Contact"])
    profiles = [
        _profile(1, contact=contact["Id"]),
        _profile(2, lead=lead["Id"]),
        _profile(3, email="new3@example.com"),
    ]
    payloads = [connector.from_profile(p) for p in profiles]
    assert [p.group for p in payloads if p] == ["update", "update", "create"]
    # WHEN they are pushed (core.sync batches each group apart)
    report = push_profiles(connector, profiles, InMemorySyncStateStore())
    # THEN the contact and the lead hold the traits, and one contact was created, keyed by the customer id
    assert report.failed == []
    assert report.pushed == 3
    assert contact["ProfileSync_Customer_Id__c"] == "cus_00001"
    assert contact["ProfileSync_Segment__c"] == "repeat"
    assert lead["ProfileSync_Lifetime_Value__c"] == 120.5
    assert lead["ProfileSync_Order_Count__c"] == 3
    assert lead["ProfileSync_Last_Order__c"].isoformat() == "2026-03-01"
    created = [
        r for r in sandbox.objects["Contact"].values() if r["ProfileSync_Customer_Id__c"] == "cus_00003"
    ]
    assert len(sandbox.objects["Contact"]) == before + 1
    assert created[0]["Email"] == "new3@example.com"
    assert created[0]["LastName"] == "Last3"
    updates = sandbox.calls("PATCH", "/composite/sobjects")
    paths = sorted(r.url.path.rsplit("/", 2)[-2:][-1] for r in updates)
    assert paths == [EXTERNAL_ID, "sobjects"]
    body = json.loads(next(r for r in updates if r.url.path.endswith("sobjects")).content)
    assert body["allOrNone"] is False


def test_a_create_sent_twice_creates_one_contact(sandbox: RecordingSandbox, connect: Connect) -> None:
    connector = connect(sandbox)
    payload = connector.from_profile(_profile(9, email="twice@example.com"))
    assert payload is not None
    connector.push([payload])
    connector.push([payload])
    matching = [r for r in sandbox.objects["Contact"].values() if r["Email"] == "twice@example.com"]
    assert len(matching) == 1


def test_two_hundred_records_a_request_and_per_record_failures_come_back_per_person(
    sandbox: RecordingSandbox, connect: Connect
) -> None:
    # GIVEN 450 new people, one of whose ids names a contact deleted in Salesforce
    connector = connect(sandbox)
    profiles = [_profile(n, email=f"bulk{n}@example.com") for n in range(450)]
    gone = next(iter(sandbox.objects["Contact"].values()))
    sandbox.delete("Contact", gone["Id"])
    profiles.append(_profile(999, contact=gone["Id"]))
    # WHEN pushed
    report = push_profiles(connector, profiles, InMemorySyncStateStore())
    # THEN creates went out 200, 200 and 50 a request, and the deleted contact failed alone, for good
    sizes = sorted(
        len(json.loads(r.content)["records"]) for r in sandbox.calls("PATCH", f"/Contact/{EXTERNAL_ID}")
    )
    assert sizes == [50, 200, 200]
    assert report.pushed == 450
    assert [(f.customer_id, f.retryable) for f in report.failed] == [("cus_00999", False)]
    assert "ENTITY_IS_DELETED" in (report.failed[0].error or "")


def test_a_locked_row_is_retried(sandbox: RecordingSandbox, connect: Connect, monkeypatch: object) -> None:
    from connectors.salesforce import _writes

    outcome = _writes._errors(
        {"errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "unable to obtain exclusive access"}]}
    )
    assert outcome == ("UNABLE_TO_LOCK_ROW: unable to obtain exclusive access", True)
    assert (
        _writes._errors({"errors": [{"statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "message": "no"}]})[1]
        is False
    )


def test_a_profile_without_email_or_salesforce_record_is_not_pushed(
    sandbox: RecordingSandbox, connect: Connect
) -> None:
    connector = connect(sandbox)
    nobody = Profile(customer_id="cus_x", identifiers=(Identifier(kind="phone", value="+442079460018"),))
    assert connector.from_profile(nobody) is None


def test_erase_deletes_every_contact_and_lead_with_the_email_whatever_its_case(
    sandbox: RecordingSandbox, connect: Connect
) -> None:
    # GIVEN a person held as a contact and as a lead, their email written in another case
    contact = next(r for r in sandbox.objects["Contact"].values() if r["Email"] and "@" in r["Email"])
    email = contact["Email"].strip().lower()
    lead = next(iter(sandbox.objects["Lead"].values()))
    lead["Email"] = contact["Email"].upper()
    connector = connect(sandbox)
    # WHEN they are erased
    (outcome,) = connector.erase([Identifier(kind="email", value=email)])
    # THEN both records are in the Recycle Bin, in one delete call, and the org no longer holds them
    assert outcome.found
    assert "deleted 2 of 2" in outcome.detail
    assert contact["IsDeleted"]
    assert lead["IsDeleted"]
    assert len(sandbox.calls("DELETE", "/composite/sobjects")) == 1
    assert not sandbox.holds(email)
    # AND erasing again finds nobody; a phone is not something Salesforce can erase by
    (again,) = connector.erase([Identifier(kind="email", value=email)])
    assert not again.found
    (phone,) = connector.erase([Identifier(kind="phone", value="+442079460018")])
    assert not phone.found
    assert "by email" in phone.detail


def test_an_email_with_a_quote_is_escaped_not_injected(sandbox: RecordingSandbox, connect: Connect) -> None:
    connector = connect(sandbox)
    (outcome,) = connector.erase([Identifier(kind="email", value="o'neil@example.com")])
    assert not outcome.found
    query = sandbox.calls("GET", "/query")[0].url.params["q"]
    assert "Email IN ('o\\'neil@example.com')" in query


def test_outcomes_are_one_per_payload_in_order(sandbox: RecordingSandbox, connect: Connect) -> None:
    connector = connect(sandbox)
    contacts = list(sandbox.objects["Contact"].values())[:3]
    payloads = [connector.from_profile(_profile(n, contact=c["Id"])) for n, c in enumerate(contacts)]
    outcomes = connector.push([p for p in payloads if p is not None])
    assert [o.customer_id for o in outcomes] == ["cus_00000", "cus_00001", "cus_00002"]
    assert all(
        isinstance(o, PushOutcome) and o.ok and o.remote_id == c["Id"]
        for o, c in zip(outcomes, contacts, strict=True)
    )


def test_a_profile_made_only_of_opportunities_never_creates_a_contact(
    sandbox: RecordingSandbox, connect: Connect
) -> None:
    # GIVEN a profile holding only a Salesforce opportunity (its contact resolved to another profile)
    opportunity = next(iter(sandbox.objects["Opportunity"].values()))
    profile = _profile(5, email="someone@example.com")
    profile = profile.model_copy(
        update={
            "sources": (
                SourceRef(source="salesforce", object_type="opportunity", id=opportunity["Id"], updated_at=T),
            )
        }
    )
    # THEN nothing is pushed for it: Salesforce holds the person already, as the opportunity's contact
    assert connect(sandbox).from_profile(profile) is None
