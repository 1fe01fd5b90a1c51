"""HubSpot contact <-> canonical mapping, both ways, on the population's realistic variation."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from connectors.hubspot import (
    CUSTOM_PROPERTIES,
    HubSpotConnector,
    HubSpotSandbox,
    contact_to_draft,
    payload_for,
)
from connectors.hubspot._mapping import format_timestamp, hubspot_email, timestamp_ms, upsert_input
from core.connector import RawPage
from core.normalise import normalise_email, normalise_record
from core.push import enriched_traits
from core.schema import ComputedTraits, Identifier, Profile, Quarantined, SourceRecord
from core.testing.population import people, population
from profilesync.testing.specs import OpenApiSpec

from .conftest import CONTACTS_SPEC, PROPERTIES_SPEC


def _pulled(hubspot: HubSpotConnector) -> list[dict[str, object]]:
    return [record for page in hubspot.pull(None) for record in page.records]


def test_seeded_contacts_map_to_the_population_people_they_came_from(hubspot: HubSpotConnector) -> None:
    # GIVEN the sandbox's contacts, seeded from the population's crm records (case, spacing, phone formats)
    contacts = _pulled(hubspot)
    by_email = {normalise_email(p.email): p for p in people(60, 7)}
    # WHEN each is mapped and normalised
    records = [normalise_record(contact_to_draft(c)) for c in contacts]
    good = [r for r in records if isinstance(r, SourceRecord)]
    # THEN every good record carries its person's email and E.164 phone, nothing else
    assert len(good) >= 0.9 * len(records)
    for record in good:
        assert record.source == "hubspot"
        assert record.object_type == "contact"
        assert record.source_id.isdigit()
        emails = [i.value for i in record.identifiers if i.kind == "email"]
        phones = [i.value for i in record.identifiers if i.kind == "phone"]
        person = by_email[emails[0]] if emails else None
        if person is not None:
            assert set(phones) <= {person.phone_e164}
            assert record.traits.get("first_name", person.first.title()).lower() == person.first.lower()
    # AND names keep HubSpot's raw case in the draft (normalisation happens later)
    assert any((c["properties"].get("firstname") or "").isupper() for c in contacts)  # type: ignore[union-attr]


def test_malformed_contacts_are_quarantined_with_a_reason(hubspot: HubSpotConnector) -> None:
    # GIVEN the population's malformed crm records, seeded as HubSpot mess (no email and no phone, or junk)
    malformed = [
        f for person, f in population(60, 7, malformed_share=0.02) if person is None and f["source"] == "crm"
    ]
    assert malformed
    # WHEN everything is pulled and normalised
    results = [normalise_record(contact_to_draft(c)) for c in _pulled(hubspot)]
    quarantined = [r for r in results if isinstance(r, Quarantined)]
    # THEN exactly those are quarantined, each saying why
    assert len(quarantined) == len(malformed)
    assert all("no usable identifier" in q.reason and q.source == "hubspot" for q in quarantined)


def test_a_contact_maps_every_person_field_and_ignores_profilesync_properties() -> None:
    # GIVEN a HubSpot contact with additional emails, two phones, an opt-out, and pushed custom properties
    contact = {
        "id": "512",
        "properties": {
            "email": "ann@example.com",
            "hs_additional_emails": "ann.lee@work.example;ann@old.example",
            "firstname": "ANN",
            "lastname": "o'neil",
            "phone": "+44 20 3000 0097",
            "mobilephone": "(201) 200-0001",
            "country": "United Kingdom",
            "city": "London",
            "state": "Greater London",
            "zip": "N1 9GU",
            "company": "Acme",
            "jobtitle": "Buyer",
            "hs_email_optout": "true",
            "lastmodifieddate": "2026-03-04T05:06:07.089Z",
            "profilesync_lifetime_value": "120.50",
            "profilesync_segment": "vip",
        },
        "createdAt": "2026-01-01T00:00:00.000Z",
        "updatedAt": "2026-03-04T05:06:07.089Z",
        "archived": False,
    }
    # WHEN it is mapped
    draft = contact_to_draft(contact)
    # THEN the person's own fields are there under canonical names, and nothing profilesync wrote
    assert draft.source_id == "512"
    assert draft.updated_at == "2026-03-04T05:06:07.089Z"
    assert draft.emails == ["ann@example.com", "ann.lee@work.example", "ann@old.example"]
    assert draft.phones == ["+44 20 3000 0097", "(201) 200-0001"]
    assert draft.traits == {
        "first_name": "ANN",
        "last_name": "o'neil",
        "country": "United Kingdom",
        "city": "London",
        "region": "Greater London",
        "postal_code": "N1 9GU",
        "company": "Acme",
        "job_title": "Buyer",
    }
    assert draft.consent == {"email": {"granted": False, "changed_at": "2026-03-04T05:06:07.089Z"}}
    assert draft.raw == contact
    # AND the same contact without the pushed properties maps to the same content (the echo rule)
    bare = {
        **contact,
        "properties": {k: v for k, v in contact["properties"].items() if not k.startswith("profilesync_")},
    }  # type: ignore[union-attr]
    assert contact_to_draft(bare).model_dump(exclude={"raw"}) == draft.model_dump(exclude={"raw"})


def test_not_opted_out_claims_no_consent() -> None:
    # GIVEN contacts whose hs_email_optout is false or unset (HubSpot records no opt-in there)
    for value in ("false", None, ""):
        contact = {"id": "1", "properties": {"email": "a@example.com", "hs_email_optout": value}}
        # WHEN mapped, THEN no consent decision is claimed
        assert contact_to_draft(contact).consent == {}


def test_garbage_never_raises_and_ends_quarantined() -> None:
    # GIVEN things that are not HubSpot contacts at all
    for junk in (
        None,
        "x",
        {"properties": "nope"},
        {"id": 7, "properties": {"email": 3, "phone": ["x"]}},
        {"id": True},
    ):
        # WHEN mapped through the connector's to_records
        (draft,) = HubSpotConnector.to_records(None, RawPage(records=[junk], cursor=None))  # type: ignore[arg-type, list-item]
        # THEN a draft comes back and normalisation quarantines it
        assert isinstance(normalise_record(draft), Quarantined)


def test_timestamps_keep_milliseconds_both_ways() -> None:
    # GIVEN HubSpot timestamps with milliseconds, without, with an offset, and as epoch milliseconds
    assert timestamp_ms("1970-01-01T00:00:01.001Z") == 1001
    assert timestamp_ms("2026-11-20T12:00:00Z") == timestamp_ms("2026-11-20T13:00:00+01:00")
    assert timestamp_ms("1795176000123") == 1795176000123
    assert timestamp_ms("yesterday") is None
    assert timestamp_ms(None) is None
    # WHEN a datetime is formatted, THEN it is HubSpot's form and reads back to the same millisecond
    at = datetime(2026, 11, 20, 12, 0, 0, 123456, tzinfo=UTC)
    assert format_timestamp(at) == "2026-11-20T12:00:00.123Z"
    assert timestamp_ms(format_timestamp(at)) == 1795176000123


def _profile(email: str | None, customer_id: str = "cus_1") -> Profile:
    identifiers = (
        (Identifier(kind="email", value=email),)
        if email
        else (Identifier(kind="phone", value="+442030000097"),)
    )
    return Profile(
        customer_id=customer_id,
        identifiers=identifiers,
        computed=ComputedTraits(
            lifetime_value={"GBP": Decimal("120.50"), "EUR": Decimal("3.00")},
            order_count=3,
            first_order_at=datetime(2026, 1, 2, tzinfo=UTC),
            last_order_at=datetime(2026, 3, 4, 10, 0, tzinfo=UTC),
            average_order_value={"GBP": Decimal("60.25"), "EUR": Decimal("3.00")},
            segment="repeat",
        ),
    )


def test_a_profile_becomes_an_upsert_by_email_of_the_enriched_traits() -> None:
    # GIVEN a profile with orders and an internationalised email domain (IDNA form, as normalised)
    profile = _profile("ann@xn--bcher-kva.example")
    # WHEN the payload is built
    payload = payload_for(profile)
    # THEN it matches on the email as HubSpot stores it, and carries every enriched trait
    assert payload is not None
    assert payload.match_key == "ann@bücher.example"
    assert payload.customer_id == "cus_1"
    properties = payload.body["properties"]
    assert properties == {
        "profilesync_customer_id": "cus_1",
        "profilesync_lifetime_value": "120.50",
        "profilesync_lifetime_value_currency": "GBP",
        "profilesync_order_count": "3",
        "profilesync_average_order_value": "60.25",
        "profilesync_last_order_at": "2026-03-04",
        "profilesync_segment": "repeat",
    }
    assert set(properties) == {p.name for p in CUSTOM_PROPERTIES}
    assert {p.trait for p in CUSTOM_PROPERTIES} == set(enriched_traits(profile))
    # AND equal profiles hash equally (nothing volatile in the body), a change changes the hash
    assert payload.hash == payload_for(_profile("ann@xn--bcher-kva.example")).hash  # type: ignore[union-attr]
    assert payload.hash != payload_for(_profile("ann@xn--bcher-kva.example", "cus_2")).hash  # type: ignore[union-attr]
    # AND the upsert input it makes is what HubSpot's spec accepts
    OpenApiSpec.load(CONTACTS_SPEC).validate_request(
        "POST", "/crm/v3/objects/contacts/batch/upsert", {"inputs": [upsert_input(payload)]}
    )


def test_a_profile_without_email_gives_no_payload() -> None:
    assert payload_for(_profile(None)) is None


def test_hubspot_email_turns_idna_domains_back_to_unicode_only() -> None:
    assert hubspot_email("Ann@Example.com") == "ann@example.com"
    assert hubspot_email("x@xn--bcher-kva.example") == "x@bücher.example"
    assert hubspot_email("x@xn--invalid--.example") == "x@xn--invalid--.example"


def test_custom_property_definitions_are_valid_property_creates() -> None:
    spec = OpenApiSpec.load(PROPERTIES_SPEC)
    for prop in CUSTOM_PROPERTIES:
        spec.validate_request("POST", "/crm/v3/properties/contacts", prop.definition())
    spec.validate_request(
        "POST",
        "/crm/v3/properties/contacts/batch/create",
        {"inputs": [p.definition() for p in CUSTOM_PROPERTIES]},
    )


def test_sandbox_stores_emails_lower_cased_and_trimmed() -> None:
    # GIVEN population crm records whose emails vary in case and spacing
    sandbox = HubSpotSandbox(people=60, seed=7)
    flats = [f for p, f in population(60, 7) if p is not None and f["source"] == "crm" and f.get("email")]
    assert any(f["email"] != f["email"].strip().lower() for f in flats)
    # THEN HubSpot holds each lower-cased and trimmed, as HubSpot normalises emails
    for flat in flats:
        stored = sandbox.contact(flat["email"])
        assert stored is not None
        assert stored["email"] == flat["email"].strip().lower()
