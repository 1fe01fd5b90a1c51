"""Erasing people: HubSpot's GDPR delete, after a lookup so an absent person is reported as such."""

from __future__ import annotations

from connectors.hubspot import HubSpotConnector, HubSpotSandbox
from core.normalise import normalise_email
from core.schema import Identifier

from .conftest import SpecChecked

LOOKUP_PREFIX = "GET /crm/v3/objects/contacts/"
DELETE = "POST /crm/v3/objects/contacts/gdpr-delete"


def _some_email(hubspot: HubSpotConnector, domain: str = "") -> tuple[str, str]:
    contact = next(
        r
        for page in hubspot.pull(None)
        for r in page.records
        if r["properties"].get("email", "").endswith(domain) and r["properties"].get("email")
    )
    return contact["id"], contact["properties"]["email"]


def test_erasing_an_email_deletes_the_contact_and_a_second_erase_finds_nothing(
    sandbox: HubSpotSandbox, checked: SpecChecked, hubspot: HubSpotConnector
) -> None:
    # GIVEN a person HubSpot holds, known to profilesync by their normalised email
    record_id, email = _some_email(hubspot)
    checked.exchanges.clear()
    # WHEN erased
    (outcome,) = hubspot.erase([Identifier(kind="email", value=normalise_email(email))])
    # THEN the contact was looked up by email, then GDPR-deleted by its id, and is gone
    assert outcome.found
    assert record_id in outcome.detail
    assert [route.split("?")[0] for route in checked.routes()] == [LOOKUP_PREFIX + email, DELETE]
    assert not sandbox.holds(email)
    assert f"contact:{record_id}" not in sandbox.record_keys()
    # AND erasing again reports nothing found, without another delete
    checked.exchanges.clear()
    (again,) = hubspot.erase([Identifier(kind="email", value=email)])
    assert not again.found
    assert checked.routes() == [LOOKUP_PREFIX + email]


def test_an_internationalised_email_finds_the_contact_hubspot_holds_in_unicode(
    sandbox: HubSpotSandbox, hubspot: HubSpotConnector
) -> None:
    # GIVEN a contact at an internationalised domain, which profiles hold in IDNA form
    _, email = _some_email(hubspot, "bücher.example")
    normalised = normalise_email(email)
    assert "xn--" in normalised
    # WHEN erased by the normalised form
    (outcome,) = hubspot.erase([Identifier(kind="email", value=normalised)])
    # THEN HubSpot's contact is found and deleted
    assert outcome.found
    assert not sandbox.holds(email)


def test_an_absent_email_is_not_blocklisted(
    sandbox: HubSpotSandbox, checked: SpecChecked, hubspot: HubSpotConnector
) -> None:
    # GIVEN an email HubSpot never held (HubSpot's GDPR delete would blocklist it forever)
    # WHEN erased
    (outcome,) = hubspot.erase([Identifier(kind="email", value="nobody@example.com")])
    # THEN it is reported absent and no delete was sent
    assert not outcome.found
    assert DELETE not in checked.routes()
    assert not sandbox.blocklisted("nobody@example.com")


def test_erasing_by_hubspot_record_id(sandbox: HubSpotSandbox, hubspot: HubSpotConnector) -> None:
    # GIVEN the source identifier profilesync keeps for a HubSpot contact
    record_id, email = _some_email(hubspot)
    ident = Identifier(kind="source", value=f"hubspot:contact:{record_id}")
    # WHEN erased twice
    (first,) = hubspot.erase([ident])
    (second,) = hubspot.erase([ident])
    # THEN the first deletes it, the second finds nothing (HubSpot answers 404 for an unknown id)
    assert first.found
    assert not second.found
    assert not sandbox.holds(email)


def test_identifiers_hubspot_cannot_erase_by_are_reported_absent_without_a_request(
    checked: SpecChecked, hubspot: HubSpotConnector
) -> None:
    outcomes = hubspot.erase(
        [
            Identifier(kind="phone", value="+442030000097"),
            Identifier(kind="source", value="shopify:customer:1"),
        ]
    )
    assert [o.found for o in outcomes] == [False, False]
    assert checked.exchanges == []
