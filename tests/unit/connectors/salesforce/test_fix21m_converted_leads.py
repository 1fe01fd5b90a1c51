"""fix21m: a converted Salesforce lead joins the contact it became, pulled through the connector's own
SOQL from the sandbox (which answers only the fields the query names, as Salesforce does), and the
lead alone is never pushed to (Salesforce refuses an update of a converted lead)."""

from __future__ import annotations

from connectors.salesforce import SalesforceSandbox
from connectors.salesforce._declaration import LEAD_SOQL
from core.normalise import normalise_record
from core.pipeline import ingest
from core.schema import SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.clock import days_ago

from .conftest import Connect

T = days_ago(3)


def _lead_into_contact(org: SalesforceSandbox) -> tuple[str, str]:
    """A webinar lead (her work address) converted into the contact sales already had."""
    contact = org._new("Contact", {"Email": "ingrid@example.no", "LastName": "Halvorsen"}, T)
    lead = org._new(
        "Lead",
        {
            "Email": "ihalvorsen@fjordtech.example",
            "LastName": "Halvorsen",
            "Company": "Fjordtech AS",
            "IsConverted": True,
            "ConvertedContactId": contact["Id"],
            "ConvertedDate": T.date().isoformat(),
        },
        T,
    )
    return str(contact["Id"]), str(lead["Id"])


def test_the_lead_query_asks_which_contact_a_lead_became() -> None:
    assert {"IsConverted", "ConvertedContactId"} <= set(LEAD_SOQL)


def test_a_pulled_converted_lead_is_its_contacts_person_and_never_pushed_alone(
    sandbox: SalesforceSandbox, connect: Connect
) -> None:
    contact_id, lead_id = _lead_into_contact(sandbox)
    connector = connect(sandbox)
    # WHEN the org is pulled and resolved
    drafts = [d for page in connector.pull(None) for d in connector.to_records(page)]
    ours = [d for d in drafts if d.source_id in (contact_id, lead_id)]
    records = [normalise_record(d) for d in ours]
    assert all(isinstance(r, SourceRecord) for r in records), records
    store = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord)], store)
    # THEN she is one profile, her contact's, the lead joined to it
    (profile,) = store.iter_profiles()
    assert {(s.object_type, s.id) for s in profile.sources} == {("contact", contact_id), ("lead", lead_id)}
    # AND a push updates the contact only
    payload = connector.from_profile(profile)
    assert payload is not None
    assert payload.body["update"] == [{"type": "Contact", "id": contact_id}]
    # AND the lead resolved alone (its contact not pulled yet) is not pushed to
    lead_only = InMemoryProfileStore()
    ingest([r for r in records if isinstance(r, SourceRecord) and r.source_id == lead_id], lead_only)
    (alone,) = lead_only.iter_profiles()
    assert connector.from_profile(alone) is None
