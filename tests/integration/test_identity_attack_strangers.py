"""Attack: one person one profile, strangers apart, and no chaining, on the embedded store.

Each case is resolved through the product's path (flat lines, normalisation, ``resolve`` into the
SQLite store) with ``identity: {mode: probabilistic}`` and the shipped model, in batches of 1 and
of 500 (one record at a time finds its candidates through the index; one batch decides them all
at once).
"""

from __future__ import annotations

import itertools

import pytest

from connectors.jsonl import draft_from_flat
from core.linkage import conflict_evidence, from_source_record
from core.normalise import normalise_record
from core.schema import SourceRecord
from tests.integration.identity_attack_records import Flat, flat, groups, resolve_lines, sqlite_store

BATCHES = pytest.mark.parametrize("batch_size", [1, 500])
#: Twins' shared fields: surname, birth date, address.
TWIN = {"last_name": "Jones", "date_of_birth": "1990-04-12", "address": "7 Mill Lane", "postcode": "M4 5JD"}

KATHERINE = {
    "first_name": "Katherine",
    "last_name": "Okafor",
    "date_of_birth": "1988-06-05",
    "address": "27 Park Road",
    "postcode": "N1 9GU",
    "city": "London",
}


def _resolved(lines: list[Flat], batch_size: int) -> set[frozenset[str]]:
    store = sqlite_store()
    _, quarantined = resolve_lines(lines, store, batch_size=batch_size)
    assert quarantined == [], [q.reason for q in quarantined]
    return groups(store)


def _apart(lines: list[Flat]) -> set[frozenset[str]]:
    return {frozenset({f"{line['source']}:{line['id']}"}) for line in lines}


@BATCHES
def test_one_person_typed_seven_ways_in_seven_tools_is_one_profile(batch_size: int) -> None:
    """GIVEN Katherine Okafor in seven tools with no identifier in common: a nickname and a surname
    typo, day and month swapped, an abbreviated street, a postcode one edit off, no birth date,
    first and last name swapped, a first-name typo with the birth date a day off WHEN resolved THEN
    one profile holds all seven."""
    lines = [
        flat("crm", "1", **KATHERINE, email="k.okafor@work.example"),
        flat(
            "shop", "2", **{**KATHERINE, "first_name": "Kate", "last_name": "Okafr"}, email="kate88@gmail.com"
        ),
        flat("mail", "3", **{**KATHERINE, "date_of_birth": "1988-05-06", "address": "27 Park Rd"}),
        flat(
            "stripe",
            "4",
            **{**KATHERINE, "first_name": "KATHERINE", "postcode": "N1 9GV"},
            phone="+442079460555",
        ),
        flat(
            "desk",
            "5",
            **{k: v for k, v in KATHERINE.items() if k != "date_of_birth"},
            email="ko@hotmail.com",
        ),
        flat("pos", "6", **{**KATHERINE, "first_name": "Okafor", "last_name": "Katherine"}),
        flat("app", "7", **{**KATHERINE, "first_name": "Kathrine", "date_of_birth": "1988-06-06"}),
    ]
    assert _resolved(lines, batch_size) == {frozenset(f"{x['source']}:{x['id']}" for x in lines)}


@BATCHES
def test_a_family_on_one_inbox_stays_three_people_with_a_nameless_record_of_the_inbox(
    batch_size: int,
) -> None:
    """GIVEN a mother, father and daughter on one email at one address, and a newsletter record of the
    inbox with no name WHEN resolved THEN four profiles: the inbox joins nobody."""
    home = {
        "last_name": "Smith",
        "address": "4 Oak Road",
        "postcode": "LS2 9JT",
        "email": "smiths@example.net",
    }
    lines = [
        flat("crm", "f1", first_name="Anna", date_of_birth="1975-03-02", **home),
        flat("shop", "f2", first_name="Peter", date_of_birth="1973-11-20", **home),
        flat("shop", "f3", first_name="Lucy", date_of_birth="2004-06-01", **home),
        flat("mail", "f4", email="smiths@example.net"),
    ]
    assert _resolved(lines, batch_size) == _apart(lines)


@BATCHES
def test_six_colleagues_on_one_switchboard_phone_stay_six(batch_size: int) -> None:
    lines = [
        flat(
            "crm",
            f"c{i}",
            phone="+442079460000",
            first_name=name,
            last_name=last,
            email=f"{name.lower()}@acme.com",
        )
        for i, (name, last) in enumerate(
            [("Ann", "Lee"), ("Bob", "Lee"), ("Cara", "Wu"), ("Dev", "Rao"), ("Eli", "Cohen"), ("Fay", "Ng")]
        )
    ]
    assert _resolved(lines, batch_size) == _apart(lines)


@BATCHES
@pytest.mark.xfail(
    strict=True,
    reason="core/linkage/conflicts.py shared_identifier_conflicts: holders of one phone conflict only "
    "when their first names differ, so two colleagues named Ann (Ann Lee 1970, Ann Wu 1990: other "
    "surname, other birth date) are joined by their switchboard number (fuzzyacc)",
)
def test_two_colleagues_of_one_first_name_on_a_switchboard_stay_apart(batch_size: int) -> None:
    lines = [
        flat(
            "crm", "c1", phone="+442079460000", first_name="Ann", last_name="Lee", date_of_birth="1970-01-01"
        ),
        flat(
            "crm", "c2", phone="+442079460000", first_name="Ann", last_name="Wu", date_of_birth="1990-05-05"
        ),
    ]
    assert _resolved(lines, batch_size) == _apart(lines)


@BATCHES
def test_two_john_smiths_born_the_same_year_in_one_city_stay_apart(batch_size: int) -> None:
    """GIVEN two John Smiths of Leeds born in 1980 (other days), and a third record of the name and city
    without a birth date WHEN resolved THEN three profiles."""
    lines = [
        flat(
            "crm",
            "j1",
            first_name="John",
            last_name="Smith",
            date_of_birth="1980-02-03",
            city="Leeds",
            postcode="LS1 1AA",
        ),
        flat(
            "shop",
            "j2",
            first_name="John",
            last_name="Smith",
            date_of_birth="1980-09-14",
            city="Leeds",
            postcode="LS1 1AA",
        ),
        flat("mail", "j3", first_name="John", last_name="Smith", city="Leeds", email="js@gmail.com"),
    ]
    assert _resolved(lines, batch_size) == _apart(lines)


@BATCHES
def test_twins_with_different_first_names_stay_apart(batch_size: int) -> None:
    lines = [flat("crm", "t1", first_name="Emma", **TWIN), flat("shop", "t2", first_name="Grace", **TWIN)]
    assert _resolved(lines, batch_size) == _apart(lines)


def _records(lines: list[Flat]) -> dict[str, SourceRecord]:
    out = {}
    for line in lines:
        record = normalise_record(draft_from_flat(dict(line)))
        assert isinstance(record, SourceRecord)
        out[f"{record.source}:{record.source_id}"] = record
    return out


@BATCHES
def test_a_vague_record_matching_fifteen_smiths_joins_no_two_people_who_conflict(batch_size: int) -> None:
    """GIVEN fifteen Smiths on one street and postcode (other first names, birth dates, house numbers)
    and vague records ("J Smith, High Street", a surname and house, an initial and a birth date),
    each scoring above the link threshold with many of them WHEN resolved THEN no profile holds two
    records with different birth dates, and each vague record is in a profile with at most one Smith."""
    firsts = [
        "John",
        "James",
        "Jack",
        "Jane",
        "Joan",
        "Jill",
        "Joe",
        "Julia",
        "Jason",
        "Jean",
        "Jerry",
        "Joyce",
        "Justin",
        "Jade",
        "Jonah",
    ]
    people = [
        flat(
            "crm",
            f"p{i}",
            first_name=name,
            last_name="Smith",
            date_of_birth=f"19{50 + i * 3}-{1 + i % 12:02d}-{1 + (i * 7) % 27:02d}",
            address=f"{i + 1} High Street",
            postcode="LS1 4AP",
        )
        for i, name in enumerate(firsts)
    ]
    vague = [
        flat(
            "shop",
            "v1",
            first_name="J",
            last_name="Smith",
            address="High Street",
            postcode="LS1 4AP",
            email="j@example.com",
        ),
        flat(
            "shop",
            "v2",
            last_name="Smith",
            address="1 High Street",
            postcode="LS1 4AP",
            email="smith.family@example.com",
        ),
        flat(
            "mail",
            "v3",
            first_name="J",
            last_name="Smith",
            postcode="LS1 4AP",
            date_of_birth="1956-03-15",
            email="j56@example.com",
        ),
    ]
    customers = _resolved(people + vague, batch_size)
    records = _records(people + vague)
    for customer in customers:
        for a, b in itertools.combinations(sorted(customer), 2):
            fields = {
                c.field
                for c in conflict_evidence(from_source_record(records[a]), from_source_record(records[b]))
            }
            assert "date_of_birth" not in fields, (a, b)
        assert len({k for k in customer if k.startswith("crm:")}) <= 1, customer


@BATCHES
def test_john_and_jean_smith_a_birth_year_digit_apart_stay_apart(batch_size: int) -> None:
    lines = [
        flat(
            "crm",
            "p0",
            first_name="John",
            last_name="Smith",
            date_of_birth="1950-01-10",
            address="1 High Street",
            postcode="LS1 4AP",
        ),
        flat(
            "crm",
            "p9",
            first_name="Jean",
            last_name="Smith",
            date_of_birth="1959-01-10",
            address="10 High Street",
            postcode="LS1 4AP",
        ),
    ]
    assert _resolved(lines, batch_size) == _apart(lines)


@BATCHES
def test_a_fuzzy_link_never_overrides_two_different_national_ids(batch_size: int) -> None:
    lines = [
        flat("crm", "1", first_name="Emma", national_id="123456789", **TWIN),
        flat("shop", "2", first_name="Emma", national_id="987654321", **TWIN),
    ]
    assert _resolved(lines, batch_size) == _apart(lines)


PARKERS_HOME = {"last_name": "Parker", "address": "3 Elm Road", "postcode": "BS1 4DJ"}


@BATCHES
@pytest.mark.xfail(
    strict=True,
    reason="core/linkage/graph.py checks a component for conflicting records only when it adds a fuzzy "
    "link; identifier edges are added without that check, so a nameless record holding Tom's email and "
    "Sue's email (or Tom's email and Sue's phone) joins Tom and Sue Parker, whose first names and birth "
    "dates both differ, through two values neither of which is shared by conflicting holders (fuzzyacc)",
)
@pytest.mark.parametrize("bridge", ["two emails", "an email and a phone"])
def test_a_nameless_record_holding_two_peoples_identifiers_does_not_join_them(
    batch_size: int, bridge: str
) -> None:
    """GIVEN Tom and Sue Parker (other first names, other birth dates) with an email each, and a
    household newsletter record with no name holding Tom's email and Sue's email (or phone) WHEN
    resolved THEN Tom and Sue are not one customer."""
    held = (
        {"email": ["tom.parker@example.net", "sue.parker@example.net"]}
        if bridge == "two emails"
        else {"email": "tom.parker@example.net", "phone": "+442079460101"}
    )
    sue = {"email": "sue.parker@example.net"} if bridge == "two emails" else {"phone": "+442079460101"}
    lines = [
        flat(
            "crm",
            "tom",
            first_name="Tom",
            date_of_birth="1975-03-02",
            email="tom.parker@example.net",
            **PARKERS_HOME,
        ),
        flat("mail", "news", **held),
        flat("shop", "sue", first_name="Sue", date_of_birth="1977-09-21", **sue, **PARKERS_HOME),
    ]
    customers = _resolved(lines, batch_size)
    assert not any({"crm:tom", "shop:sue"} <= c for c in customers), customers
