"""fix19b: exact mode's guardrail limits count people, not records (``core.identity.limit_holder``).

The rule: a record that names its person in full (a first and a last name, or a full name of two
words or more) holds a value as that person: its folded name (case, accents, dots and spaces), with
its birth date and national id when it gives them. A people-level record without a full name holds
as itself (its source key); a guest child (no owner) naming nobody holds as its phone, or not at all;
a child with an owner never holds. So one person in every tool is one holder of her email, while an
office switchboard (colleagues, other names) or a family inbox (other first names) is one holder per
person, and a value held by more people than its kind's limit still joins nobody new.
"""

from __future__ import annotations

import random

import pytest

from connectors.jsonl import draft_from_flat
from core.identity import IdentityPolicy, group_records, limit_holder
from core.normalise import normalise_record
from core.schema import SourceRecord
from core.testing.records import make_record

EMAIL = "giulia.ferri@example.it"
PHONE = "+442079460000"


def _person(source: str, rid: str, **traits: str) -> SourceRecord:
    return make_record(source, rid, email=EMAIL, phone=PHONE, traits=traits)


def test_records_naming_one_person_in_full_are_one_holder() -> None:
    # GIVEN her records in three tools, her name typed three ways (case, accents, dots, spacing)
    records = [
        _person("crm", "1", first_name="Giulia", last_name="Ferri"),
        _person("shop", "2", full_name="GIULIA  FERRI"),
        _person("mail", "3", first_name="Giúlia.", last_name="Ferri"),
    ]
    # THEN they are one holder (on main: three, one per source key)
    assert len({limit_holder(r) for r in records}) == 1


@pytest.mark.parametrize(
    ("other", "why"),
    [
        ({"first_name": "Marco", "last_name": "Ferri"}, "another first name: her brother on the inbox"),
        ({"first_name": "Giulia", "last_name": "Ferri", "date_of_birth": "1990-01-01"}, "a birth date"),
        ({"first_name": "Giulia", "last_name": "Ferri", "national_id": "RSSMRA80A01H501U"}, "a national id"),
        ({"first_name": "Giulia"}, "a first name alone says too little"),
        ({}, "no name"),
    ],
)
def test_records_not_evidently_one_person_are_two_holders(other: dict[str, str], why: str) -> None:
    # GIVEN her record, and another one that differs as ``why`` says
    her = _person("crm", "1", first_name="Giulia", last_name="Ferri")
    them = _person("shop", "2", **other)
    # THEN they hold the values as two
    assert limit_holder(her) != limit_holder(them), why


def test_the_same_birth_date_and_id_written_alike_keep_one_holder() -> None:
    a = _person("crm", "1", full_name="Ann Lee", date_of_birth="1980-02-03", national_id="AB 12 34 56 C")
    b = _person("shop", "2", full_name="ann lee", date_of_birth="1980-02-03", national_id="ab123456c")
    c = _person("mail", "3", full_name="Ann Lee", date_of_birth="1981-02-03", national_id="ab123456c")
    assert limit_holder(a) == limit_holder(b) != limit_holder(c)


def test_a_guest_order_naming_her_is_the_same_holder_as_her_contact() -> None:
    contact = _person("crm", "1", first_name="Giulia", last_name="Ferri")
    guest = _order("9", full_name="Giulia Ferri")
    owned = _order("8", owner_id="1", full_name="Giulia Ferri")
    assert guest.level == "child"
    assert guest.owner is None
    assert owned.owner == "crm:contact:1"
    assert limit_holder(guest) == limit_holder(contact)
    assert limit_holder(owned) is None


def _order(rid: str, **fields: str) -> SourceRecord:
    line = {"source": "crm", "object_type": "order", "id": rid, "updated_at": "2026-01-01T00:00:00Z"}
    record = normalise_record(draft_from_flat({**line, "email": EMAIL, **fields}))
    assert isinstance(record, SourceRecord)
    return record


#: One person in each of nine tools (the attack19 case): past the email limit of 8 as records.
NINE = [_person(f"tool{n}", str(n), first_name="Giulia", last_name="Ferri") for n in range(9)]


def test_one_person_in_nine_tools_is_one_component_with_no_refusal() -> None:
    components, hits = group_records(NINE, {}, {}, IdentityPolicy())
    assert [len(c.records) for c in components] == [9]
    assert hits == []


def test_colleagues_on_a_switchboard_past_the_phone_limit_stay_apart() -> None:
    # GIVEN six colleagues (other names, own emails) on one office phone, each in two tools
    names = [("Ann", "Lee"), ("Bob", "Lee"), ("Cara", "Wu"), ("Dev", "Rao"), ("Eli", "Cohen"), ("Fay", "Ng")]
    records = [
        make_record(
            tool,
            f"{first}{tool}",
            email=f"{first.lower()}@acme.com",
            phone=PHONE,
            traits={"first_name": first, "last_name": last},
        )
        for first, last in names
        for tool in ("crm", "mail")
    ]
    # WHEN grouped in exact mode (phone limit 5: six people)
    components, hits = group_records(records, {}, {}, IdentityPolicy())
    # THEN each colleague is one component of her two records, and the phone was refused to all 12
    assert sorted(len(c.records) for c in components) == [2] * 6
    assert {h.record_key for h in hits if h.identifier_key == f"phone#{PHONE}"} == {r.key for r in records}


def test_a_family_inbox_past_a_limit_of_two_people_joins_no_one() -> None:
    # GIVEN three of a family (other first names) on one inbox, each in two tools, limit 2 people
    records = [
        make_record(
            tool, f"{first}{tool}", email="smiths@example.net", traits={"full_name": f"{first} Smith"}
        )
        for first in ("Anna", "Peter", "Lucy")
        for tool in ("crm", "shop")
    ]
    policy = IdentityPolicy(max_records_per_identifier={"email": 2})
    # WHEN grouped THEN nobody is joined by the inbox (three people past a limit of two)
    components, _ = group_records(records, {}, {}, policy)
    assert len(components) == 6
    # AND one of them alone in both tools is two records, one person: joined
    components, hits = group_records(records[:2], {}, {}, policy)
    assert [len(c.records) for c in components] == [2]
    assert hits == []


def test_the_answer_is_the_same_in_any_order() -> None:
    # GIVEN her nine records and six colleagues-like strangers on her phone, shuffled
    strangers = [
        make_record("crm", f"s{n}", phone=PHONE, traits={"full_name": f"Stranger{n} Lee"}) for n in range(6)
    ]
    records = NINE + strangers
    expected = None
    for seed in range(5):
        shuffled = records[:]
        random.Random(seed).shuffle(shuffled)
        components, _ = group_records(shuffled, {}, {}, IdentityPolicy())
        found = sorted(tuple(r.key for r in c.records) for c in components)
        assert expected is None or found == expected
        expected = found
    # THEN she is one (her email within its limit), and the phone (seven people) joins nobody else
    assert expected is not None
    assert sorted(len(keys) for keys in expected) == [1] * 6 + [9]
