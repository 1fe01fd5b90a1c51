"""attack23: an erasure by a converted lead's own address asks Salesforce for the contact she became.

left28 marks a converted lead ``same_person_as_owner``: its owner, the contact the lead became, is her
own record, not a buyer of it, and the lead's own address (her webinar address) names her. When the
profile holds the lead without its contact (the contact not pulled yet: docs/connectors.md names
that state, "a profile holding the converted lead without its contact is not pushed"), an erasure
request naming her webinar address finds the lead's customer and asks Salesforce to erase the
records of that customer (core/person_scope.py ``tool_targets``: ``self.sources``), the lead alone.
The contact's id is only suppressed here (``suppression_keys``: "her account at the tool, which a
pull may read after the erasure"); Salesforce is never asked, so her contact (her home address, her
name) stays in the org, and the receipt calls the erasure complete.

Fixed: core/person_scope.py tool_targets asks for the owners of her same-person children.
"""

from __future__ import annotations

from connectors.salesforce import SalesforceSandbox
from core.identity import IdentityPolicy
from core.normalise import normalise_record
from core.schema import Identifier, RecordDraft, SourceRecord
from core.testing.clock import days_ago
from tests.unit.test_erasure import World

from .conftest import Connect

T = days_ago(3)
WORK = "ihalvorsen@fjordtech.example"
HOME = "ingrid@example.no"


def _world(sandbox: SalesforceSandbox, connect: Connect, *, with_contact: bool) -> tuple[World, str, str]:
    # GIVEN her contact and her webinar lead converted into it, in the org
    contact = sandbox._new("Contact", {"Email": HOME, "FirstName": "Ingrid", "LastName": "Halvorsen"}, T)
    values = {"Email": WORK, "FirstName": "Ingrid", "LastName": "Halvorsen", "Company": "Fjordtech AS"}
    lead = sandbox._new("Lead", {**values, "IsConverted": True, "ConvertedContactId": contact["Id"]}, T)
    connector = connect(sandbox)
    drafts = [d for page in connector.pull(None) for d in connector.to_records(page)]
    wanted = {lead["Id"], *([contact["Id"]] if with_contact else [])}
    ours = [d for d in drafts if d.source_id in wanted]
    # AND her Mailchimp member of the webinar address
    member = RecordDraft(
        source="mailchimp", object_type="member", source_id="m1", updated_at=T, emails=[WORK]
    )
    records = [normalise_record(d) for d in [*ours, member]]
    assert all(isinstance(r, SourceRecord) for r in records), records
    world = World.empty()
    world.ingest([r for r in records if isinstance(r, SourceRecord)], policy=IdentityPolicy())
    return world, contact["Id"], lead["Id"]


def _live_ids(sandbox: SalesforceSandbox) -> set[str]:
    return {key.split(":", 1)[1] for key in sandbox.record_keys()}


def test_control_with_her_contact_stored_both_are_erased_at_the_tool(
    sandbox: SalesforceSandbox, connect: Connect
) -> None:
    world, contact, lead = _world(sandbox, connect, with_contact=True)
    # WHEN she is erased by her webinar address, Salesforce asked
    report = world.erase(Identifier(kind="email", value=WORK), tools={"salesforce": connect(sandbox)})
    # THEN neither her contact nor her lead is left in the org
    assert report.outcome == "erased"
    assert {contact, lead} & _live_ids(sandbox) == set()


def test_her_erasure_by_the_leads_address_erases_the_contact_she_became_at_the_tool(
    sandbox: SalesforceSandbox, connect: Connect
) -> None:
    # GIVEN her lead and member stored, her contact not pulled yet
    world, contact, lead = _world(sandbox, connect, with_contact=False)
    # WHEN she is erased by her webinar address, Salesforce asked
    report = world.erase(Identifier(kind="email", value=WORK), tools={"salesforce": connect(sandbox)})
    assert report.outcome == "erased"
    assert lead not in _live_ids(sandbox)
    # THEN the contact the lead says is her own record is erased at Salesforce too
    assert contact not in _live_ids(sandbox)
