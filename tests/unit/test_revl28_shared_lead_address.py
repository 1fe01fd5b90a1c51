"""revL28: converted leads of several people on one office inbox are held to the email guardrail.

left28 gave a converted Salesforce lead (``RecordDraft.same_person_as_owner``) its own emails as
identifiers but left it out of the holders the guardrail counts (core.identity_holders: "a child
object with an owner never counts"). Ten colleagues who gave the company's shared inbox on a webinar
form, each lead converted into that colleague's own contact, were then glued into one profile (ten
people's traits, consent and orders in one, pushed to every tool, erased together): the address had
no holder, so the email limit (8 people) never refused it. Contacts holding that inbox are refused
it past the limit; the leads now count as the people they are, so the same holds for them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from core.identity import DEFAULT_LIMITS
from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OFFICE = "info@fjordtech.example"
PEOPLE = [
    ("Ingrid", "Halvorsen"),
    ("Ola", "Nordmann"),
    ("Kari", "Berg"),
    ("Lars", "Dahl"),
    ("Nina", "Lie"),
    ("Per", "Moe"),
    ("Siri", "Bakke"),
    ("Tor", "Vik"),
    ("Eva", "Strand"),
    ("Jon", "Haug"),
]
NO_SLEEP = IngestSettings(sleep=lambda _: None)


def _record(draft: RecordDraft) -> SourceRecord:
    record = normalise_record(draft)
    assert isinstance(record, SourceRecord), record
    return record


def _colleague(n: int, named: bool = True) -> list[SourceRecord]:
    """Her contact (her own address) and her lead on the office inbox, converted into it."""
    first, last = PEOPLE[n]
    traits = {"first_name": first, "last_name": last} if named else {}
    contact = RecordDraft(
        source="salesforce",
        object_type="contact",
        source_id=f"003{n}",
        updated_at=T,
        emails=[f"{first.lower()}@home{n}.example"],
        traits=traits,
    )
    lead = RecordDraft(
        source="salesforce",
        object_type="lead",
        source_id=f"00Q{n}",
        updated_at=T,
        emails=[OFFICE],
        owner_type="contact",
        owner_id=f"003{n}",
        same_person_as_owner=True,
        traits=traits,
    )
    return [_record(contact), _record(lead)]


def _people_per_profile(store: InMemoryProfileStore) -> list[int]:
    return sorted(sum(s.object_type == "contact" for s in p.sources) for p in store.iter_profiles())


def test_ten_colleagues_leads_on_the_office_inbox_in_one_batch_stay_ten_people() -> None:
    # GIVEN ten colleagues, each with her contact and her converted lead on the office inbox
    store = InMemoryProfileStore()
    # WHEN they arrive in one batch
    ingest([r for n in range(len(PEOPLE)) for r in _colleague(n)], store, NO_SLEEP)
    # THEN ten holders are past the email limit: the inbox joins nobody, each is her own profile
    assert _people_per_profile(store) == [1] * len(PEOPLE)


def test_colleagues_leads_arriving_one_by_one_join_no_more_people_than_the_email_limit() -> None:
    # GIVEN the same colleagues, one batch each (a pull a day), named or not
    for named in (True, False):
        store = InMemoryProfileStore()
        for n in range(len(PEOPLE)):
            ingest(_colleague(n, named), store, NO_SLEEP)
        # THEN no profile holds more people than the email limit lets share an address
        assert max(_people_per_profile(store)) <= DEFAULT_LIMITS["email"], _people_per_profile(store)


def test_one_persons_lead_and_contact_on_one_address_still_join() -> None:
    # GIVEN one colleague whose contact also holds the office inbox her lead gave
    contact, lead = _colleague(0)
    contact = contact.model_copy(update={"identifiers": (*contact.identifiers, *lead.identifiers[:1])})
    store = InMemoryProfileStore()
    ingest([contact, lead], store, NO_SLEEP)
    # THEN she is one profile (one holder: she is one person)
    assert _people_per_profile(store) == [1]
