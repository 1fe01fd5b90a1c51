"""Names as tools write them beyond plain Latin first and last names: titles typed before a name,
a business's name in a one-field name (Stripe's ``name``: "full name or business name"), and first
names in other scripts (attack21's findings: tests/integration/test_attack21_titles_in_full_names.py,
test_attack21_shared_inbox_other_scripts.py)."""

from __future__ import annotations

import pytest

from core.linkage import conflict_evidence, linkage_record


@pytest.mark.parametrize(
    ("full", "expected"),
    [
        ("Klaus Becker", ("klaus", "becker")),
        ("Dr. Klaus Becker", ("klaus", "becker")),
        ("Prof. Dr. Klaus Becker", ("klaus", "becker")),
        ("Herr Klaus Becker", ("klaus", "becker")),
        ("Mme Léa Martin", ("lea", "martin")),
        ("Mr Smith", (None, "smith")),  # a title before one word: a surname
        ("Don Smith", ("don", "smith")),  # a title in some languages, a first name in others: kept
        ("Maria Sá", ("maria", "sa")),  # a surname folded like a legal form, not written as one
        ("Becker Consulting GmbH", (None, None)),
        ("Praxis Dr. Becker", (None, None)),
        ("Kovač & Becker OG", (None, None)),
        ("Silva S.A.", (None, None)),
        ("Becker AG", (None, None)),
    ],
)
def test_a_one_field_name_gives_a_person_s_names_or_none(full: str, expected: tuple[str | None, ...]) -> None:
    # GIVEN a one-field name WHEN prepared THEN its person's first and last name, titles left out,
    # and nothing for a business's name
    record = linkage_record("k", {"full_name": full})
    assert (record.first_name, record.last_name) == expected


def test_a_title_in_a_first_name_field_is_left_out() -> None:
    # GIVEN a tool's first-name field holding a title WHEN prepared THEN the first name alone
    assert linkage_record("k", {"first_name": "Dr. Klaus", "last_name": "Becker"}).first_name == "klaus"
    assert linkage_record("k", {"first_name": "Dr", "last_name": "Becker"}).first_name == "dr"


def _conflicting(one: dict[str, str], other: dict[str, str]) -> set[str]:
    a, b = linkage_record("a", one), linkage_record("b", other)
    assert {c.field for c in conflict_evidence(a, b)} == {c.field for c in conflict_evidence(b, a)}
    return {c.field for c in conflict_evidence(a, b)}


@pytest.mark.parametrize(
    ("one", "other", "conflict"),
    [
        ("Анна", "Мария", True),  # two sisters in Cyrillic
        ("Ελένη", "Σοφία", True),  # in Greek
        ("美咲", "陽菜", True),  # in Japanese
        ("Анна", "Анна", False),
        ("Наталья", "Наталия", False),  # one name, two spellings (within a slip)
        ("Дмитрий", "Dmitry", False),  # one person in two scripts: no evidence
        ("美咲", "Misaki", False),
        ("Анна", "美咲", False),  # two scripts: cannot be compared
    ],
)
def test_first_names_in_one_non_latin_script_are_compared(one: str, other: str, conflict: bool) -> None:
    # GIVEN two records on one inbox with first names as written WHEN weighed for conflict
    # THEN names of one script conflict when they differ beyond a slip; across scripts never
    found = _conflicting({"first_name": one, "last_name": "X"}, {"first_name": other, "last_name": "X"})
    assert ("first_name" in found) is conflict


def test_a_full_name_in_another_script_gives_its_first_word_as_the_first_name() -> None:
    # GIVEN Stripe-style one-field names in Cyrillic WHEN weighed THEN the first words are compared
    assert "first_name" in _conflicting({"full_name": "Анна Иванова"}, {"full_name": "Мария Иванова"})
    assert not _conflicting({"full_name": "Анна Иванова"}, {"full_name": "Анна Иванова"})
