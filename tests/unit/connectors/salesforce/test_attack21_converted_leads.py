"""attack21: a Salesforce lead converted into an existing contact stays a second person.

Lead conversion (Salesforce SOAP API Developer Guide, ``convertLead()``; Change Data Capture, "Change
Events for Lead Conversion") turns a qualified Lead into an Account and a Contact, or merges it into a
Contact that already exists; the Lead stays, read-only, with ``IsConverted = true`` and
``ConvertedContactId`` naming the Contact it became. "If data is merged into existing account,
contact, and opportunity objects, then only empty fields in the target object are overwritten --
existing data aren't overwritten": a lead who wrote her work address on a webinar form and is converted
into the contact sales already had with her own address keeps both records, with no shared email.
After conversion "you can only reference the convertedAccountId or convertedContactId fields" (Salesforce
Help 000384333): an update of the Lead is refused ``CANNOT_UPDATE_CONVERTED_LEAD``.

``connectors/salesforce/_declaration.py:120`` (``LEAD_SOQL``) asks for ``IsConverted`` and nothing in
the connector reads it, nor asks for ``ConvertedContactId``: the converted Lead is a person of its own
(``LEAD_FIELDS``), so one person is two profiles (each with half her consent and traits), and the
profile holding only the Lead is pushed as an update of it (``shape``), which Salesforce refuses on
every run.

Other integrations leave converted leads out: Mautic's Salesforce plugin (mautic/mautic,
``plugins/MauticCrmBundle/Api/SalesforceApi.php``: ``getLeads`` and the lookup before a push) add
``ConvertedContactId = NULL`` to every Lead query.

Promise: one person, one profile (and a push that can succeed).
Fix: ask for ``ConvertedContactId`` on leads and map a converted lead as joined to that contact (an
owner link like an opportunity's ``ContactId``, or the contact's source key as an identifier) or retire
it (a tombstone: its data lives on in the contact), and never push to a converted lead.
"""

from __future__ import annotations

from typing import Any

from connectors.salesforce import SalesforceConnector
from core.connector import ConnectorSettings, RawPage
from core.normalise import normalise_record
from core.pipeline import ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore

CONTACT_ID = "0035g00000XyZ1aAAF"
LEAD_ID = "00Q5g00000AbC2dEAF"


def _connector() -> SalesforceConnector:
    return SalesforceConnector(
        ConnectorSettings(
            credentials={"salesforce_client_id": "id", "salesforce_client_secret": "secret"},
            base_url="https://acme.my.salesforce.com",
        )
    )


def _contact() -> dict[str, Any]:
    """The contact sales created first, as the REST query answers it."""
    return {
        "attributes": {"type": "Contact", "url": f"/services/data/v66.0/sobjects/Contact/{CONTACT_ID}"},
        "Id": CONTACT_ID,
        "IsDeleted": False,
        "SystemModstamp": "2026-09-01T08:00:00.000+0000",
        "Email": "ingrid.halvorsen@example.no",
        "Phone": None,
        "MobilePhone": "+47 412 34 567",
        "FirstName": "Ingrid",
        "LastName": "Halvorsen",
        "Title": None,
        "MailingCity": "Bergen",
        "MailingState": None,
        "MailingPostalCode": "5003",
        "MailingCountry": "Norway",
        "HasOptedOutOfEmail": False,
    }


def _lead(converted: bool) -> dict[str, Any]:
    """Her webinar lead (work address, desk phone), converted into that contact or not."""
    return {
        "attributes": {"type": "Lead", "url": f"/services/data/v66.0/sobjects/Lead/{LEAD_ID}"},
        "Id": LEAD_ID,
        "IsDeleted": False,
        "SystemModstamp": "2026-10-14T12:30:00.000+0000",
        "Email": "ihalvorsen@fjordtech.example",
        "Phone": "+47 55 12 34 56",
        "MobilePhone": None,
        "FirstName": "Ingrid",
        "LastName": "Halvorsen",
        "Title": "Head of Operations",
        "Company": "Fjordtech AS",
        "City": "Bergen",
        "State": None,
        "PostalCode": "5008",
        "Country": "Norway",
        "HasOptedOutOfEmail": False,
        "IsConverted": converted,
        "ConvertedContactId": CONTACT_ID if converted else None,
        "ConvertedDate": "2026-10-14" if converted else None,
    }


def _profiles(converted: bool) -> list[Any]:
    connector = _connector()
    drafts = [
        *connector.to_records(RawPage(records=[_contact()], cursor=None, object_type="contact")),
        *connector.to_records(RawPage(records=[_lead(converted)], cursor=None, object_type="lead")),
    ]
    records = [normalise_record(d) for d in drafts]
    assert all(isinstance(r, SourceRecord) for r in records), records
    store = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord)], store)
    return list(store.iter_profiles())


def test_an_open_lead_with_other_addresses_is_its_own_record() -> None:
    """The guard (green before and after): an unconverted lead sharing no email or phone with the
    contact is not joined to it by name alone (a fix must use ConvertedContactId, not the name)."""
    assert len(_profiles(converted=False)) == 2


def test_a_lead_converted_into_a_contact_is_that_contact_s_person() -> None:
    # GIVEN Ingrid's contact and her webinar lead, converted into that contact (ConvertedContactId)
    # WHEN both are pulled and resolved
    profiles = _profiles(converted=True)
    # THEN she is one profile: her contact's, the lead joined to it (or, read-only since it became the
    # contact, left out as Mautic's integration does) and never a profile of its own
    assert len(profiles) == 1
    assert ("contact", CONTACT_ID) in {(s.object_type, s.id) for s in profiles[0].sources}
