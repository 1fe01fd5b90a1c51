"""left28: a child that is its owner's own person keeps its emails and phones (``same_person_as_owner``).

A child with an owner id joins by that id alone: an order's email may be a gift recipient's
(tests/unit/test_child_records.py guards that). A converted Salesforce lead is a child of the
contact it became, and its address is her own: with ``RecordDraft.same_person_as_owner`` it keeps
its emails and phones beside the owner link, so her other tools' records of that address join her,
in any order and batch size, and a gift order beside it still glues nobody.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from core.normalise import normalise_record
from core.pipeline import IngestSettings, ingest
from core.schema import RecordDraft, SourceRecord
from core.storage.memory import InMemoryProfileStore
from core.testing.invariants import store_problems

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WORK = "ihalvorsen@fjordtech.example"
NO_SLEEP = IngestSettings(sleep=lambda _: None)


def _lead(**extra: object) -> RecordDraft:
    fields: dict[str, object] = {
        "source": "salesforce",
        "object_type": "lead",
        "source_id": "00Q1",
        "updated_at": T,
        "emails": [WORK],
        "phones": ["+47 412 34 567"],
        "traits": {"last_name": "Halvorsen"},
        "owner_type": "contact",
        "owner_id": "0031",
    }
    return RecordDraft.model_validate(fields | extra)


def _record(draft: RecordDraft) -> SourceRecord:
    result = normalise_record(draft)
    assert isinstance(result, SourceRecord), result
    return result


def test_a_child_of_its_own_person_keeps_its_address_beside_the_owner_link() -> None:
    # GIVEN the same lead, once as a plain child of its contact and once as the contact's own person
    plain = _record(_lead())
    own = _record(_lead(same_person_as_owner=True))
    # THEN the plain child joins by the owner link alone (an order's email may be a gift's)
    assert [i.key for i in plain.identifiers] == [
        "source#salesforce:contact:0031",
        "source#salesforce:lead:00Q1",
    ]
    # AND the lead keeps her address and phone too, and is still a child of that contact
    assert [i.key for i in own.identifiers] == [
        f"email#{WORK}",
        "phone#+4741234567",
        "source#salesforce:contact:0031",
        "source#salesforce:lead:00Q1",
    ]
    assert (own.level, own.owner) == ("child", "salesforce:contact:0031")


def test_a_child_of_its_own_person_with_no_usable_address_is_kept_by_its_owner_link() -> None:
    # GIVEN the lead with an address that is no address
    result = _record(_lead(same_person_as_owner=True, emails=["not an address"], phones=[]))
    # THEN it is kept (its owner names her), the bad address dropped with its reason
    assert [i.kind for i in result.identifiers] == ["source", "source"]
    assert [d.field for d in result.dropped] == ["email"]


def _drafts() -> list[RecordDraft]:
    contact = RecordDraft(
        source="salesforce",
        object_type="contact",
        source_id="0031",
        updated_at=T,
        emails=["ingrid@example.no"],
    )
    member = RecordDraft(
        source="mailchimp",
        object_type="member",
        source_id="m1",
        updated_at=T,
        emails=[WORK],
        consent={"email": {"granted": True, "changed_at": datetime(2026, 2, 1, tzinfo=UTC)}},
    )
    lead = _lead(
        same_person_as_owner=True,
        consent={"email": {"granted": False, "changed_at": datetime(2026, 3, 1, tzinfo=UTC)}},
    )
    # AND a gift order of her contact, carrying the address of the friend it went to, and that
    # friend's own newsletter member
    gift = RecordDraft(
        source="salesforce",
        object_type="order",
        source_id="801",
        updated_at=T,
        emails=["friend@example.no"],
        owner_type="contact",
        owner_id="0031",
    )
    friend = RecordDraft(
        source="mailchimp", object_type="member", source_id="m2", updated_at=T, emails=["friend@example.no"]
    )
    return [contact, member, lead, gift, friend]


@pytest.mark.parametrize("order", list(itertools.permutations(range(5)))[::7])
@pytest.mark.parametrize("size", [1, 2, 5])
def test_her_member_of_the_leads_address_joins_her_in_any_order_and_the_gift_glues_nobody(
    order: tuple[int, ...], size: int
) -> None:
    drafts = _drafts()
    records = [_record(drafts[i]) for i in order]
    store = InMemoryProfileStore()
    # WHEN they are ingested in that order, in batches of `size`
    for start in range(0, len(records), size):
        ingest(records[start : start + size], store, NO_SLEEP)
    profiles = list(store.iter_profiles())
    assert store_problems(profiles, store.ident_owners()) == []
    # THEN she is one profile: contact, lead, gift order and the member of her work address, opted out
    people = {frozenset(s.id for s in p.sources): p for p in profiles}
    assert set(people) == {frozenset({"0031", "00Q1", "801", "m1"}), frozenset({"m2"})}
    hers = people[frozenset({"0031", "00Q1", "801", "m1"})]
    assert hers.consent["email"].granted is False
    assert "email#friend@example.no" not in {i.key for i in hers.identifiers}
