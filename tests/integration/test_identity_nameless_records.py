"""Attack: a record with no name, kept for its birth date and full address, never joins two people.

A registry or a form that leaves the names out still names one person by a birth date at one address
(core.normalise has_other_identity); the matcher finds them by those. The people it could bridge are
those who share the address: a household, a parent and child of one name, twins (one birth date).
Each case is resolved through the product's path (flat lines, normalisation, ``resolve`` into the
SQLite store) with ``identity: {mode: probabilistic}`` and the shipped model, in batches of 1 and 500.
"""

from __future__ import annotations

import pytest

from tests.integration.identity_attack_records import Flat, flat, groups, resolve_lines, sqlite_store

BATCHES = pytest.mark.parametrize("batch_size", [1, 500])
HOME = {"last_name": "Jones", "address": "7 Mill Lane", "postcode": "M4 5JD", "city": "Manchester"}
NAMELESS_HOME = {k: v for k, v in HOME.items() if k != "last_name"}


def _customers(lines: list[Flat], batch_size: int) -> set[frozenset[str]]:
    store = sqlite_store()
    _, quarantined = resolve_lines(lines, store, batch_size=batch_size)
    assert quarantined == [], [q.reason for q in quarantined]
    return groups(store)


def _named_together(customers: set[frozenset[str]]) -> list[frozenset[str]]:
    """Customers holding two named records (the named records here are all different people)."""
    return [c for c in customers if len({k for k in c if not k.startswith("form:")}) > 1]


@BATCHES
def test_a_nameless_record_of_one_twins_birth_date_joins_at_most_one_twin(batch_size: int) -> None:
    """GIVEN twins Emma and Grace Jones (one birth date, one address) and a nameless form with that
    birth date and address WHEN resolved THEN Emma and Grace are two customers; the form joins one of
    them at most."""
    twins = {**HOME, "date_of_birth": "1990-04-12"}
    lines = [
        flat("crm", "emma", first_name="Emma", **twins),
        flat("shop", "grace", first_name="Grace", **twins),
        flat("form", "1", date_of_birth="1990-04-12", **NAMELESS_HOME),
    ]
    customers = _customers(lines, batch_size)
    assert _named_together(customers) == []
    assert len(customers) in (2, 3)


@BATCHES
def test_nameless_records_of_a_household_join_only_the_one_born_that_day(batch_size: int) -> None:
    """GIVEN a household at one address (a father and son both named John, a mother, a daughter, each
    with their own birth date) and nameless forms of that address with the son's birth date, the
    mother's birth date a day off, a birth date nobody there has, and a placeholder birth date WHEN
    resolved THEN no two of the family are one customer, the son's form joins the son, the mother's
    joins the mother, and the other two join nobody."""
    lines = [
        flat("crm", "father", first_name="John", date_of_birth="1950-06-01", **HOME),
        flat("crm", "son", first_name="John", date_of_birth="1980-03-15", **HOME),
        flat("shop", "mother", first_name="Mary", date_of_birth="1952-11-20", **HOME),
        flat("shop", "daughter", first_name="Lucy", date_of_birth="1984-08-08", **HOME),
        flat("form", "son", date_of_birth="1980-03-15", **NAMELESS_HOME),
        flat("form", "mother", date_of_birth="1952-11-21", **NAMELESS_HOME),
        flat("form", "stranger", date_of_birth="1971-01-30", **NAMELESS_HOME),
    ]
    customers = _customers(lines, batch_size)
    assert _named_together(customers) == []
    assert frozenset({"crm:son", "form:son"}) in customers
    assert frozenset({"shop:mother", "form:mother"}) in customers
    assert frozenset({"form:stranger"}) in customers


@BATCHES
def test_a_nameless_record_with_a_placeholder_birth_date_is_quarantined(batch_size: int) -> None:
    """GIVEN a nameless form whose birth date is the placeholder 1900-01-01 WHEN resolved THEN it is
    quarantined with its reason (an address alone names nobody), not joined to anyone."""
    lines = [
        flat("crm", "father", first_name="John", date_of_birth="1950-06-01", **HOME),
        flat("form", "x", date_of_birth="1900-01-01", **NAMELESS_HOME),
    ]
    store = sqlite_store()
    _, quarantined = resolve_lines(lines, store, batch_size=batch_size)
    assert [q.reason.split(" (")[0] for q in quarantined] == ["no usable identifier"]
    assert groups(store) == {frozenset({"crm:father"})}
