"""Attack: probabilistic customers are a function of the sources, whatever the order and batch size.

Every version of every record, FEBRL-style corrupted copies of one person across tools, a son and a
father of one name at one address bridged by records without a birth date, a family inbox and Gmail
variants, delivered shuffled into the embedded (SQLite) store in batches of 1, 7 and 500, must give
the customers one batch of the latest versions gives.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.identity_attack_records import (
    Flat,
    corrupt,
    flat,
    groups,
    latest,
    resolve_lines,
    sqlite_store,
)

PEOPLE: list[dict[str, str]] = [
    {
        "first_name": "Hana",
        "last_name": "Sato",
        "date_of_birth": "1992-11-30",
        "address": "8 Mill Lane",
        "postcode": "M4 5JD",
        "email": "hana.sato@corp.jp",
        "nickname": "",
    },
    {
        "first_name": "Robert",
        "last_name": "King",
        "date_of_birth": "1950-03-04",
        "address": "2 Low Street",
        "postcode": "YO1 7HH",
        "nickname": "Bob",
    },
    {
        "first_name": "Robert",
        "last_name": "King",
        "date_of_birth": "1981-07-19",
        "address": "2 Low Street",
        "postcode": "YO1 7HH",
        "nickname": "Rob",
        "email": "rob.king@gmail.com",
    },
    {
        "first_name": "Katherine",
        "last_name": "Okafor",
        "date_of_birth": "1988-06-05",
        "address": "27 Park Road",
        "postcode": "N1 9GU",
        "nickname": "Kate",
    },
    {
        "first_name": "Tom",
        "last_name": "Parker",
        "date_of_birth": "1975-03-02",
        "address": "3 Elm Road",
        "postcode": "BS1 4DJ",
        "email": "the.parkers@example.net",
        "nickname": "Tommy",
    },
    {
        "first_name": "Sue",
        "last_name": "Parker",
        "date_of_birth": "1977-09-21",
        "address": "3 Elm Road",
        "postcode": "BS1 4DJ",
        "email": "the.parkers@example.net",
        "nickname": "Susan",
    },
    {
        "first_name": "John",
        "last_name": "Smith",
        "date_of_birth": "1980-05-17",
        "address": "12 High Street",
        "postcode": "LS1 4AP",
        "email": "john.smith@gmail.com",
        "nickname": "Johnny",
    },
]
SOURCES = ("crm", "shop", "mail")
EMAIL_VARIANTS = {
    "john.smith@gmail.com": ["johnsmith+shop@gmail.com", "John.Smith@googlemail.com"],
    "rob.king@gmail.com": ["robking+news@gmail.com"],
}


def _version(person: int, source: str, number: int, day: int, rng: random.Random) -> Flat:
    base = corrupt(PEOPLE[person], rng, slips=rng.randint(0, 3))
    email = base.pop("email", None)
    if email is not None and rng.random() < 0.7:
        base["email"] = rng.choice([email, *EMAIL_VARIANTS.get(email, [])])
    return flat(source, str(number), day=day, **base)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Flat], int]:
    """Versions of up to 12 records; a later version may be another person (evidence changed)."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = random.Random(seed)
    record_keys = draw(
        st.sets(st.tuples(st.sampled_from(SOURCES), st.integers(0, 4)), min_size=2, max_size=12)
    )
    versions: list[Flat] = []
    for source, number in sorted(record_keys):
        person = draw(st.integers(0, len(PEOPLE) - 1))
        for n in range(draw(st.integers(1, 3))):
            if n and draw(st.integers(0, 3)) == 0:
                person = draw(st.integers(0, len(PEOPLE) - 1))
            versions.append(_version(person, source, number, day=n * 5 + rng.randint(0, 3), rng=rng))
    return versions, seed


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories())
def test_every_version_shuffled_in_batches_of_1_7_and_500_gives_the_customers_of_the_latest_versions(
    history: tuple[list[Flat], int],
) -> None:
    """GIVEN every version of records of people typed with FEBRL-style slips across tools (nicknames,
    name typos, swapped day and month, missing birth dates bridging a father and son, Gmail variants,
    a family inbox) WHEN delivered shuffled into the embedded store in batches of 1, 7 and 500 THEN
    each run gives the customers one batch of the latest versions gives."""
    versions, seed = history
    reference = sqlite_store()
    resolve_lines(latest(versions), reference, batch_size=500)
    expected = groups(reference)
    rng = random.Random(seed)
    for batch_size in (1, 7, 500):
        shuffled = list(versions)
        rng.shuffle(shuffled)
        store = sqlite_store()
        resolve_lines(shuffled, store, batch_size=batch_size)
        assert groups(store) == expected, (batch_size, shuffled)


ANN = {
    "first_name": "Ann",
    "last_name": "Lee",
    "address": "12 High Street",
    "postcode": "LS1 4AP",
    "city": "Leeds",
}


def _ann_and_her_namesakes() -> list[Flat]:
    """Eleven newsletter sign-ups of Ann Lee at one address (no birth date, an email each), three
    CRM records of an Ann Lee there born 2000-02-29, three shop records of one born 1975-06-15, and
    one more sign-up: every record scores above the link threshold with every other of no
    conflicting birth date, so the cap of fuzzy links per record (10) decides which links stay."""
    lines = [flat("news", f"n{i:02d}", **ANN, email=f"ann.n{i}@example.com") for i in range(11)]
    lines += [
        flat("crm", f"a{i}", **ANN, date_of_birth="2000-02-29", email=f"ann.a{i}@example.com")
        for i in range(3)
    ]
    lines += [
        flat("shop", f"b{i}", **ANN, date_of_birth="1975-06-15", email=f"ann.b{i}@example.com")
        for i in range(3)
    ]
    return [*lines, flat("zz", "x", **ANN, email="ann.x@example.com")]


def test_past_the_fuzzy_link_cap_the_customers_still_do_not_depend_on_order() -> None:
    """GIVEN eighteen records that all link with each other past the cap of fuzzy links per record
    WHEN delivered in six shuffles in batches of 1, 7 and 500 THEN every delivery gives one answer."""
    lines = _ann_and_her_namesakes()
    outcomes = set()
    for batch_size in (1, 7, 500):
        for seed in range(6):
            shuffled = list(lines)
            random.Random(seed).shuffle(shuffled)
            store = sqlite_store()
            resolve_lines(shuffled, store, batch_size=batch_size)
            outcomes.add(frozenset(groups(store)))
    assert len(outcomes) == 1


@pytest.mark.parametrize("batch_size", [1, 500])
def test_one_person_in_twelve_tools_without_a_shared_identifier_is_one_customer(batch_size: int) -> None:
    lines = [
        flat(f"tool{i:02d}", "1", **ANN, date_of_birth="1980-01-01", email=f"ann{i}@example.com")
        for i in range(12)
    ]
    store = sqlite_store()
    resolve_lines(lines, store, batch_size=batch_size)
    assert len(groups(store)) == 1
