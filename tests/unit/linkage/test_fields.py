"""Preparing a record's fields for comparison, from the names tools use."""

from __future__ import annotations

import pytest

from core.linkage import linkage_record
from core.linkage.fields import fold, parse_date_of_birth


def test_names_are_folded_to_letters() -> None:
    """GIVEN names with accents, apostrophes and hyphens WHEN prepared THEN only lower-case letters stay."""
    record = linkage_record("k", {"first_name": "Mary-Jane", "last_name": "O'Néil"})
    assert (record.first_name, record.last_name) == ("maryjane", "oneil")


def test_fold_keeps_words_apart() -> None:
    """GIVEN text with accents and punctuation WHEN folded THEN lower ASCII words with single spaces."""
    assert fold("  Zoë   O'Neil-Smith ") == "zoe o neil smith"


def test_house_number_is_split_from_a_street_line_and_street_types_abbreviated() -> None:
    """GIVEN '12 High Street' in one field WHEN prepared THEN number 12 and street 'high st'."""
    one_line = linkage_record("a", {"address": "12 High Street"})
    two_fields = linkage_record("b", {"street_number": "12", "address_1": "high st"})
    assert (one_line.house_number, one_line.street) == ("12", "high st")
    assert (two_fields.house_number, two_fields.street) == ("12", "high st")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1980-03-07", "19800307"),
        ("1980-3-7", "19800307"),
        ("1980-03-07T00:00:00Z", "19800307"),
        ("19800307", "19800307"),
        ("19801307", "19801307"),  # impossible, but its digits still compare
        ("07/03/1980", None),  # day-first or month-first: not guessed
        ("yesterday", None),
        ("99990101", None),
    ],
)
def test_dates_of_birth_are_read_only_when_unambiguous(raw: str, expected: str | None) -> None:
    """GIVEN a date of birth as typed WHEN parsed THEN YYYYMMDD, or None when it cannot be read safely."""
    assert parse_date_of_birth(raw) == expected


def test_common_field_names_are_understood() -> None:
    """GIVEN FEBRL-style and CRM-style field names WHEN prepared THEN they land in the same fields."""
    record = linkage_record(
        "k",
        {
            "given_name": "Ann",
            "surname": "Lee",
            "dob": "1990-01-02",
            "postcode": "SW1A 1AA",
            "suburb": "Soho",
        },
    )
    assert (record.first_name, record.last_name, record.date_of_birth) == ("ann", "lee", "19900102")
    assert (record.postal_code, record.city) == ("sw1a1aa", "soho")


def test_blank_and_oversized_values_count_as_absent() -> None:
    """GIVEN blank, non-text and huge values WHEN prepared THEN those fields are None."""
    record = linkage_record("k", {"first_name": "  ", "last_name": "x" * 500, "city": True})
    assert (record.first_name, record.last_name, record.city) == (None, None, None)
