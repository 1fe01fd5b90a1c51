"""Preparing a record's fields for comparison, from the names tools use."""

from __future__ import annotations

from datetime import date

import pytest

from core.linkage import conflict_evidence, linkage_record
from core.linkage.comparisons import NULL, comparison_named
from core.linkage.fields import fold, parse_date_of_birth
from core.normalise import birth_date_slip


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
        ("1900-01-02", "19000102"),
        ("2000-02-29", "20000229"),  # a leap day
        ("2026-12-05", "20261205"),  # born today
        ("07/03/1980", None),  # day-first or month-first: not guessed
        ("yesterday", None),
        ("19801307", None),  # no 13th month
        ("1980-04-31", None),  # no 31 April
        ("1900-02-29", None),  # 1900 was no leap year
        ("1900-01-01", None),  # a tool's placeholder
        ("1899-12-31", None),  # before anyone alive was born
        ("1800-06-01", None),
        ("2026-12-06", None),  # tomorrow
        ("2100-01-01", None),
        ("99990101", None),
    ],
)
def test_dates_of_birth_are_read_only_when_unambiguous_and_possible(raw: str, expected: str | None) -> None:
    """GIVEN a date of birth as typed, on 5 December 2026 WHEN parsed THEN YYYYMMDD, or None when it
    cannot be read safely or is no day a living customer was born on."""
    assert parse_date_of_birth(raw, today=date(2026, 12, 5)) == expected


def test_an_impossible_birth_date_stays_on_the_record_but_is_no_evidence() -> None:
    """GIVEN two John Smiths whose tools filled the placeholder 1900-01-01 WHEN prepared and compared
    THEN neither has a birth date to compare (no agreement, no conflict), while the normalised record
    still holds the date as typed."""
    from connectors.jsonl import draft_from_flat
    from core.linkage import from_source_record
    from core.linkage.comparisons import NULL, comparison_named
    from core.normalise import normalise_record
    from core.schema import SourceRecord

    john = {"first_name": "John", "last_name": "Smith", "address": "1 Kirkgate", "postcode": "LS1 6BH"}
    records = []
    for i, dob in enumerate(["1900-01-01", "1980-05-17"]):
        line = {"source": "crm", "id": str(i), "updated_at": "2026-01-01T00:00:00Z", **john}
        record = normalise_record(draft_from_flat({**line, "date_of_birth": dob}))
        assert isinstance(record, SourceRecord)
        records.append(record)
    assert records[0].traits["date_of_birth"] == "1900-01-01"
    placeholder, real = (from_source_record(r) for r in records)
    assert (placeholder.date_of_birth, real.date_of_birth) == (None, "19800517")
    assert comparison_named("date_of_birth").compare(placeholder, real) == NULL


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


@pytest.mark.parametrize(
    ("raw", "slip"),
    [
        ("1932-02-39", "19320239"),  # no 39th day: a keystroke from a real date
        ("19801307", "19801307"),
        ("1900-02-29", "19000229"),
        ("1980-03-07", None),  # a real date is read by parse_date_of_birth instead
        ("1900-01-01", None),  # a placeholder is no slip
        ("1899-02-30", None),  # before 1900
        ("2100-02-30", None),  # after this year
        ("07/03/1980", None),
    ],
)
def test_a_date_that_is_no_calendar_day_is_kept_apart_as_a_slip(raw: str, slip: str | None) -> None:
    """GIVEN a typed birth date WHEN read on 5 December 2026 THEN the digits of an impossible day of a
    plausible year are a slip, anything else is not."""
    assert birth_date_slip(raw, today=date(2026, 12, 5)) == slip


def test_a_slip_agrees_only_one_keystroke_from_a_real_date() -> None:
    """GIVEN records with a real date, its slip (1932-02-39 for 1932-02-29), the same slip twice, and a
    real date far from the slip WHEN compared THEN the slip and its real date are one edit apart;
    two equal slips, and a slip against an unrelated date, are no evidence (no agreement, no conflict)."""
    level = comparison_named("date_of_birth")
    real = linkage_record("a", {"dob": "1932-02-29"})
    slip = linkage_record("b", {"dob": "1932-02-39"})
    same_slip = linkage_record("c", {"dob": "1932-02-39"})
    unrelated = linkage_record("d", {"dob": "1975-06-01"})
    assert level.levels[level.compare(real, slip)] == "one_edit"
    assert level.levels[level.compare(slip, real)] == "one_edit"
    assert level.compare(slip, same_slip) == NULL
    assert level.compare(slip, unrelated) == NULL
    assert conflict_evidence(slip, unrelated) == ()


def test_a_street_line_is_read_with_its_own_house_number_whatever_was_read_before() -> None:
    """GIVEN one street line typed with no house number, with another and with its own (read in
    turn: an address is prepared once per spelling of the line and the number) WHEN prepared THEN
    each reads its own number and street."""
    line = "12 High Street"
    for _ in range(2):
        alone = linkage_record("a", {"street": line})
        other = linkage_record("b", {"street": line, "house_number": "14"})
        same = linkage_record("c", {"street": line, "house_number": "12a"})
        assert (alone.house_number, alone.street, alone.street_key) == ("12", "high st", "highstreet")
        assert (other.house_number, other.street, other.street_key) == ("14", "12 high st", "12highstreet")
        assert (same.house_number, same.street) == ("12a", "12 high st")


def test_a_records_emails_are_read_as_typed_each_time() -> None:
    """GIVEN records whose emails differ in case, spacing, order and repeats (read in turn: a
    record's emails are prepared once per list) WHEN prepared THEN each its own emails and keys."""
    for _ in range(2):
        one = linkage_record("a", {}, ["Ann.Lee@Gmail.com", " ann.lee@gmail.com"])
        two = linkage_record("b", {}, ["zed@x.org", "ANN.LEE@gmail.com"])
        assert one.emails == ("ann.lee@gmail.com",)
        assert two.emails == ("zed@x.org", "ann.lee@gmail.com")
        assert two.email_keys == tuple(sorted({*one.email_keys, "zed@x.org"}))
        again = linkage_record("c", {}, ["ann.lee@gmail.com", "zed@x.org"])
        assert again.emails == ("ann.lee@gmail.com", "zed@x.org")


def test_the_prepared_addresses_and_emails_are_emptied_by_an_erasure() -> None:
    """GIVEN records prepared (their addresses and emails kept per spelling: people's values) WHEN
    the process forgets personal values (an erasure) THEN neither is kept."""
    from core.linkage import fields
    from core.privacy_caches import forget_personal_values

    linkage_record("a", {"street": "3 Rose Lane"}, ["ann@x.org"])
    assert fields._address.cache_info().currsize
    assert fields._emails.cache_info().currsize
    forget_personal_values()
    assert fields._address.cache_info().currsize == fields._emails.cache_info().currsize == 0
