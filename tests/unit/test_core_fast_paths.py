"""Fast paths of the core that stand in for a library call give exactly what that call gives.

``core.content_hash.profile_hash`` calls the serializer behind ``model_dump_json`` directly.

``core.schema_base._Frozen.assemble`` creates instances with ``object.__new__``, which is what
``cls.__new__`` is for every model class of the schema.

``Identifier.key`` and ``SourceRecord.key`` are kept in the instance once read
(``core.schema_base._MemoKey``): the kept value is invisible to serialization, ``==`` and ``hash``, and a
copy with updated fields works its key out again.

``core.normalise._is_valid_number`` stands in for ``phonenumbers.is_valid_number`` on the hot path
(see its docstring); these tests pin it to the library call on every region's example numbers and
on random digits, in particular for the calling codes shared by several regions (+1, +44, +7, ...),
where the fast path differs in how it gets the answer.
"""

from __future__ import annotations

import hashlib

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import core.schema
from connectors.jsonl import draft_from_flat
from core.merge import build_profile, profile_hash, record_hash
from core.normalise import _is_valid_number, normalise_record
from core.schema import Identifier, SourceRecord
from core.testing.population import population

SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Calling codes shared by several regions: the only ones where the fast path does its own work.
SHARED_CODES = sorted(
    code for code, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items() if len(regions) > 1
)


def test_no_assembled_model_class_defines_new() -> None:
    """GIVEN every model class of the schema THEN cls.__new__ is object.__new__ (assemble uses it)."""
    classes = [
        value
        for value in vars(core.schema).values()
        if isinstance(value, type) and issubclass(value, core.schema._Frozen)
    ]
    assert len(classes) > 5
    for cls in classes:
        assert cls.__new__ is object.__new__, cls


def example_numbers() -> list[phonenumbers.PhoneNumber]:
    examples = [
        phonenumbers.example_number_for_type(region, number_type)  # every PhoneNumberType but UNKNOWN
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for number_type in range(12)
    ]
    examples += [
        phonenumbers.invalid_example_number(region) for region in sorted(phonenumbers.SUPPORTED_REGIONS)
    ]
    return [example for example in examples if example is not None]


def test_fast_path_covers_shared_calling_codes() -> None:
    """GIVEN phonenumbers' metadata THEN +1 and +44 are shared codes (the bench's numbers)."""
    assert {1, 44} <= set(SHARED_CODES)


def test_is_valid_number_matches_phonenumbers_on_every_example_number() -> None:
    """GIVEN each region's example (and invalid example) numbers THEN the same validity."""
    numbers = example_numbers()
    assert len(numbers) > 1000
    for number in numbers:
        assert _is_valid_number(number) == phonenumbers.is_valid_number(number), number


@pytest.mark.parametrize("code", SHARED_CODES)
def test_is_valid_number_matches_phonenumbers_next_to_example_numbers(code: int) -> None:
    """GIVEN numbers one digit away from each example number of a shared calling code THEN same."""
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[code]:
        for number_type in range(12):
            example = phonenumbers.example_number_for_type(region, number_type)
            if example is None:
                continue
            nsn = str(example.national_number)
            for i in range(len(nsn)):
                for digit in "0123456789":
                    national = int(nsn[:i] + digit + nsn[i + 1 :])
                    number = phonenumbers.PhoneNumber(country_code=code, national_number=national)
                    assert _is_valid_number(number) == phonenumbers.is_valid_number(number), number


@SETTINGS
@given(
    code=st.sampled_from(SHARED_CODES) | st.integers(min_value=0, max_value=999),
    national=st.integers(min_value=0, max_value=10**15),
    leading_zero=st.booleans(),
)
def test_is_valid_number_matches_phonenumbers_on_random_numbers(
    code: int, national: int, leading_zero: bool
) -> None:
    """GIVEN any calling code and national number THEN the same validity as phonenumbers."""
    number = phonenumbers.PhoneNumber(
        country_code=code, national_number=national, italian_leading_zero=leading_zero or None
    )
    assert _is_valid_number(number) == phonenumbers.is_valid_number(number)


@SETTINGS
@given(
    text=st.text(alphabet="+0123456789 ()-", min_size=1, max_size=20),
    region=st.sampled_from(["US", "GB", "CA", "JM", "JE", "RU", "KZ", "AU", "ZZ"]),
)
def test_is_valid_number_matches_phonenumbers_on_parsed_text(text: str, region: str) -> None:
    """GIVEN whatever phonenumbers parses out of random text THEN the same validity."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return
    assert _is_valid_number(number) == phonenumbers.is_valid_number(number)


def test_profile_hash_hashes_what_model_dump_json_writes() -> None:
    """GIVEN profiles of a generated population WHEN hashed THEN the bytes are model_dump_json's."""
    records = [
        record
        for _, flat in population(300, seed=5)
        if isinstance(record := normalise_record(draft_from_flat(flat)), SourceRecord)
    ]
    by_person: dict[str, list[SourceRecord]] = {}
    for record in records:
        by_person.setdefault(record.source_id[1:], []).append(record)
    assert any(len(group) > 1 for group in by_person.values())
    for person, group in by_person.items():
        profile = build_profile(f"cus_{person}", group, version=len(group))
        body = profile.model_dump_json(exclude={"version", "customer_id"}).encode()
        assert profile_hash(profile) == hashlib.blake2b(body, digest_size=16).hexdigest()


def test_a_memoised_key_is_the_formatted_key_and_invisible_to_pydantic() -> None:
    """GIVEN records whose keys were read WHEN compared, hashed, dumped and copied THEN nothing shows
    the kept key, and a copy with other fields has its own key."""
    record = normalise_record(draft_from_flat(population(1, seed=1)[0][1]))
    assert isinstance(record, SourceRecord)
    fresh = SourceRecord.model_validate(record.model_dump())
    before = (record.model_dump_json(), record_hash(record), hash(record.identifiers))

    assert record.key == f"{record.source}:{record.object_type}:{record.source_id}"
    assert [i.key for i in record.identifiers] == [f"{i.kind}#{i.value}" for i in record.identifiers]
    assert "key" in record.__dict__  # kept: the next read is a plain attribute lookup
    assert (record.model_dump_json(), record_hash(record), hash(record.identifiers)) == before
    assert "key" not in record.model_dump()
    assert "key" not in fresh.__dict__
    assert record == fresh
    assert fresh == record

    moved = record.model_copy(update={"source_id": "other"})
    assert moved.key == f"{record.source}:{record.object_type}:other"
    email = Identifier(kind="email", value="ann@example.com")
    assert email.key == "email#ann@example.com"
    assert email.model_copy(update={"value": "bob@example.com"}).key == "email#bob@example.com"
