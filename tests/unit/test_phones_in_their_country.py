"""Phones read in the record's own country, for every region libphonenumber knows, as people write them.

The numbers are libphonenumber's own example numbers (its metadata, not ours), for the fixed lines and
mobiles of every region, written the ways exports hold them. Issue 11 made a record's ``country`` decide
how a national number is read. Two ways of writing still lost the number (and quarantined a record that
had nothing else): the "00" international prefix, which most of the world dials, in a record whose
country dials another (the US and Canada 011, Australia 0011, Japan 010, Russia 810 ...: 113 regions'
examples failed), and a country written in its own language ("Deutschland", "España", "日本"), which
was no country at all, so the number was read as a US one.
"""

from __future__ import annotations

from datetime import UTC, datetime

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from core.normalise import normalise_phone, normalise_record
from core.schema import RecordDraft, SourceRecord

UPDATED = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)

#: Regions whose country is an ISO 3166-1 code the country trait knows (libphonenumber also has AC and
#: TA, parts of SH, and the non-geographic 001).
_EXAMPLES = [
    (region, kind, example)
    for region in sorted(phonenumbers.SUPPORTED_REGIONS - {"AC", "TA"})
    for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE)
    if (example := phonenumbers.example_number_for_type(region, kind)) is not None
]


def _phones(record: object) -> list[str]:
    assert isinstance(record, SourceRecord), record
    return [i.value for i in record.identifiers if i.kind == "phone"]


def _record(phone: str, country: str | None) -> object:
    traits = {"country": country} if country else {}
    return normalise_record(
        RecordDraft(source="crm", source_id="1", updated_at=UPDATED, phones=[phone], traits=traits)
    )


def test_every_regions_example_numbers_in_national_format_are_read_in_the_records_country() -> None:
    # GIVEN each region's example fixed-line and mobile numbers, written nationally, in a record of
    # that country (as the code)
    lost = []
    for region, _, example in _EXAMPLES:
        e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
        national = phonenumbers.format_number(example, PhoneNumberFormat.NATIONAL)
        # WHEN normalised THEN the number is kept, in E.164
        if _phones(_record(national, region)) != [e164]:
            lost.append((region, national))
    assert lost == []


@pytest.mark.parametrize("country", ["US", None, "AU", "JP", "RU", "BR", "GB"])
def test_every_regions_numbers_written_with_00_are_kept_whatever_the_records_country(
    country: str | None,
) -> None:
    # GIVEN each region's example numbers written with the "00" international prefix, in a record of
    # a country whose own international prefix is 00 or not (or with no country: the default, US)
    lost = []
    for region, _, example in _EXAMPLES:
        e164 = phonenumbers.format_number(example, PhoneNumberFormat.E164)
        written = "00" + phonenumbers.format_number(example, PhoneNumberFormat.INTERNATIONAL)[1:]
        # WHEN normalised THEN the number is kept, in E.164: this one, unless the record's country
        # dials it as another valid number (Australia's 0016, Brazil's 0099 and Japan's 0037 are
        # carrier prefixes and service numbers there), which libphonenumber's own reading decides
        got = _phones(_record(written, country))
        if got != [e164] and not (got and got == _national_reading(written, country or "US")):
            lost.append((region, written, got))
    assert lost == []


def _national_reading(written: str, region: str) -> list[str]:
    """What libphonenumber itself reads ``written`` as in ``region``, when that is a valid number."""
    try:
        number = phonenumbers.parse(written, region)
    except phonenumbers.NumberParseException:
        return []
    valid = phonenumbers.is_valid_number(number)
    return [phonenumbers.format_number(number, PhoneNumberFormat.E164)] if valid else []


def test_00_is_read_as_international_only_when_the_national_reading_is_no_number() -> None:
    # GIVEN numbers that are national numbers of the record's region or of nowhere
    # THEN an erase request (which reads phones the same way) and a record agree on each
    assert normalise_phone("0044 20 7946 0018", "US") == "+442079460018"
    assert normalise_phone("011 44 20 7946 0018", "US") == "+442079460018"
    with pytest.raises(ValueError, match="not a valid number"):
        normalise_phone("0012345", "US")


ENDONYMS = [
    ("Deutschland", "0171 1234567", "+491711234567"),
    ("Österreich", "0664 1234567", "+436641234567"),
    ("Schweiz", "044 668 18 00", "+41446681800"),
    ("España", "612 34 56 78", "+34612345678"),
    ("Italia", "02 1234 5678", "+390212345678"),
    ("Nederland", "06-12345678", "+31612345678"),
    ("Brasil", "(11) 91234-5678", "+5511912345678"),
    ("Polska", "512 345 678", "+48512345678"),
    ("Россия", "8 (912) 345-67-89", "+79123456789"),
    ("日本", "090-1234-5678", "+819012345678"),
    ("대한민국", "010-1234-5678", "+821012345678"),
    ("Éire", "087 123 4567", "+353871234567"),
    ("Sverige", "070-123 45 67", "+46701234567"),
]


@pytest.mark.parametrize(("country", "phone", "e164"), ENDONYMS)
def test_a_country_written_in_its_own_language_decides_how_its_phones_are_read(
    country: str, phone: str, e164: str
) -> None:
    # GIVEN a record whose country is written as its people write it, with a national phone number
    record = _record(phone, country)
    # WHEN normalised THEN the country is known and the phone read in it
    assert _phones(record) == [e164]
    assert isinstance(record, SourceRecord)
    assert len(record.traits["country"]) == 2
