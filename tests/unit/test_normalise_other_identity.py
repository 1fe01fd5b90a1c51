"""Records with no email or phone kept when they name a person well enough (core.normalise._identity)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.normalise import has_other_identity, normalise_record
from core.schema import Quarantined, RecordDraft, SourceRecord

NAME = {"first_name": "Ann", "last_name": "Lee"}
DOB = {"date_of_birth": "1980-03-07"}
ADDRESS = {"address": "12 High Street", "postcode": "LS1 4AP"}


@pytest.mark.parametrize(
    ("traits", "kept"),
    [
        ({**NAME, **DOB}, True),
        ({**NAME, **ADDRESS}, True),
        ({"surname": "Lee", **DOB, **ADDRESS}, True),  # a registry that left the first name out
        ({"first_name": "Ann", "national_id": "4012345", **DOB}, True),
        ({"last_name": "Lee", "national_id": "4012345"}, False),  # one piece of evidence besides a name
        (NAME, False),
        ({"last_name": "Lee", **DOB}, False),
        ({**DOB, **ADDRESS}, True),  # nobody named, but one birth date at one address
        ({"national_id": "4012345", **DOB}, True),
        ({"national_id": "4012345", **ADDRESS}, True),
        ({"national_id": "000000000", **DOB}, False),  # a placeholder id is no evidence
        ({"first_name": "Ann", "national_id": "n/a", **DOB}, False),
        ({"date_of_birth": "1900-01-01", **ADDRESS}, False),  # a placeholder birth date neither
        ({**NAME, "date_of_birth": "1932-02-39"}, True),  # a slip of a real date: a person typed
        ({"last_name": "Lee", "date_of_birth": "2100-01-01", **ADDRESS}, False),
        ({"national_id": "4012345"}, False),
        (ADDRESS, False),
        ({"first_name": "123", "last_name": "456", **DOB}, False),  # no letter: not a name
        ({**NAME, "date_of_birth": "07/03/1980"}, False),  # ambiguous date: not read
        ({**NAME, "address": "12 High Street"}, False),  # a street without postcode or town
        ({**NAME, "street": "12 High Street", "city": "Leeds"}, True),
        # the building in line 2, line 1 empty (FEBRL's registry does this): still an address
        ({**NAME, "address_line2": "Rowethorpe", "postcode": "2220"}, True),
        ({**NAME, "address_line2": "Rowethorpe"}, False),  # a line without postcode or town
    ],
)
def test_what_names_a_person_without_email_or_phone(traits: dict[str, str], kept: bool) -> None:
    # GIVEN traits WHEN judged THEN kept only with two pieces of evidence (both names count as one)
    assert has_other_identity(traits) is kept


def test_a_registry_record_is_kept_and_one_with_a_birth_date_only_is_quarantined_with_its_reason() -> None:
    # GIVEN two records without email or phone: one named with a birth date, one with a birth date only
    named = RecordDraft(
        source="crm", source_id="1", updated_at="2026-01-01T00:00:00Z", traits={**NAME, **DOB}
    )
    nameless = RecordDraft(source="crm", source_id="2", updated_at="2026-01-01T00:00:00Z", traits=DOB)
    # WHEN normalised THEN the first is a record, the second quarantined for having no identifier
    assert isinstance(normalise_record(named), SourceRecord)
    outcome = normalise_record(nameless)
    assert isinstance(outcome, Quarantined)
    assert outcome.reason.startswith("no usable identifier")


@given(st.dictionaries(st.sampled_from([*NAME, *DOB, *ADDRESS, "city", "national_id"]), st.text(max_size=30)))
def test_judging_any_traits_never_fails_and_needs_two_pieces_of_evidence(traits: dict[str, str]) -> None:
    # GIVEN any values under the traits it reads WHEN judged THEN a bool, and never True with fewer
    # than two of: both names, a birth date, an address line with a postcode or town, a national id
    kept = has_other_identity(traits)
    pieces = [
        all(any(ch.isalpha() for ch in traits.get(n, "")) for n in NAME),
        "date_of_birth" in traits,
        "address" in traits and ("postcode" in traits or "city" in traits),
        "national_id" in traits,
    ]
    assert not kept or sum(pieces) >= 2


def test_a_superscript_or_circled_digit_is_no_name() -> None:
    # GIVEN names made of digits that are word characters but not decimal ("¹", "²")
    # WHEN judged with a birth date THEN they name nobody: one piece of evidence, not two
    for name in ("¹", "②", "¹²"):
        traits = {"last_name": name, "first_name": name, "date_of_birth": "1980-02-03"}
        assert not has_other_identity(traits)
        assert has_other_identity({**traits, "first_name": "Ann", "last_name": "Lee"})
