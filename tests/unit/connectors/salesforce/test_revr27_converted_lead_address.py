"""revR27: a converted Salesforce lead's own address still names her (fix21m made it a child).

fix21m maps a converted lead as a child of the contact it became (``owner_type: contact``), so it
joins her profile by the contact's id; but core normalisation gives a child with an owner no email
or phone identifiers ("its email may be a gift's", core/normalise/_record.py ``if owner is None``),
so the lead's own address (her work address from a webinar form) stopped naming her. Before, the
lead's profile held that address: a Mailchimp member of the same address joined it, and an erasure
request naming the address found and erased the lead. Now the member stays a profile of its own,
still subscribed although she opted out on the lead, and the erasure leaves the lead where it is.

Fixed by left28: the Salesforce mapping marks a converted lead ``same_person_as_owner`` (the contact
is her own record, not a buyer of it), and normalisation keeps such a child's emails and phones
beside the owner link (tests/unit/test_left28_same_person_child.py).
"""

from __future__ import annotations

from connectors.salesforce import SalesforceSandbox
from core.identity import IdentityPolicy
from core.normalise import normalise_record
from core.privacy import erase_person
from core.schema import Identifier, RecordDraft, SourceRecord
from core.testing.clock import days_ago
from tests.unit.test_erasure import World

from .conftest import Connect

T = days_ago(3)
WORK = "ihalvorsen@fjordtech.example"


def test_a_converted_leads_own_address_joins_her_member_and_finds_her_for_an_erasure(
    sandbox: SalesforceSandbox, connect: Connect
) -> None:
    # GIVEN a webinar lead (her work address, opted out of email) converted into the contact sales had
    contact = sandbox._new("Contact", {"Email": "ingrid@example.no", "LastName": "Halvorsen"}, T)
    values = {"Email": WORK, "LastName": "Halvorsen", "Company": "Fjordtech AS", "HasOptedOutOfEmail": True}
    converted = {"IsConverted": True, "ConvertedContactId": contact["Id"]}
    lead = sandbox._new("Lead", {**values, **converted}, T)
    connector = connect(sandbox)
    drafts = [d for page in connector.pull(None) for d in connector.to_records(page)]
    ours = [d for d in drafts if d.source_id in (contact["Id"], lead["Id"])]
    # AND the Mailchimp member of her work address, subscribed before she opted out
    member = RecordDraft(
        source="mailchimp",
        object_type="member",
        source_id="m1",
        updated_at=days_ago(5),
        emails=[WORK],
        consent={"email": {"granted": True, "changed_at": days_ago(5)}},
    )
    records = [normalise_record(d) for d in [*ours, member]]
    assert all(isinstance(r, SourceRecord) for r in records), records
    world = World.empty()
    world.ingest([r for r in records if isinstance(r, SourceRecord)], policy=IdentityPolicy())
    # THEN her member is in the lead's profile, opted out (before fix21m: so, as the lead's profile)
    (hers,) = [p for p in world.profiles.iter_profiles() if any(s.id == lead["Id"] for s in p.sources)]
    assert "m1" in {s.id for s in hers.sources}
    assert hers.consent["email"].granted is False
    # AND an erasure naming her work address takes the lead out of the store
    erase_person(
        Identifier(kind="email", value=WORK),
        profiles=world.profiles,
        erasure=world.erasure,
        tools={},
        salt="unit-salt",
        request_id="req-1",
        sync_state=world.state,
        suppression=world.suppression,
    )
    assert not any(s.id == lead["Id"] for p in world.profiles.iter_profiles() for s in p.sources)
