"""core.linkage.term_holders: how many people surely hold a value (attack22's finding: a trained
model kept surnames and towns one FEBRL3 person alone holds, her duplicates counted as others)."""

from __future__ import annotations

from core.linkage import linkage_record
from core.linkage.fields import LinkageRecord
from core.linkage.term_holders import distinct_holders
from core.linkage.training import TF_MIN_PEOPLE, _term_frequencies


def _record(key: str, **traits: str) -> LinkageRecord:
    return linkage_record(f"crm:contact:{key}", traits)


def _count(records: list[LinkageRecord], field: str, value: str) -> int:
    value_of = {"last_name": lambda r: r.last_name, "city": lambda r: r.city}[field]
    return distinct_holders(records, field, value_of, {value})[value]


def test_a_duplicate_sharing_one_strong_piece_or_two_weak_ones_is_one_holder() -> None:
    # GIVEN one Wyllie in three records: a birth-date typo (the postcode ties it), then a record with
    # no birth date, another postcode and street, sharing only her first name and house number
    records = [
        _record("a", first_name="Brooke", last_name="Wyllie", date_of_birth="1970-04-09",
                postal_code="4655", address_line1="40 Rumker Place", city="Woodcroft"),
        _record("b", first_name="Brooke", last_name="Wyllie", date_of_birth="1970-04-19",
                postal_code="4655", address_line1="40 Rumker Place", city="Woodcroft"),
        _record("c", first_name="Brooke", last_name="Wyllie", postal_code="4650",
                address_line1="40 Rumkerlace", city="Marrara"),
    ]  # fmt: skip
    # THEN she holds "wyllie" once (exact identifiers alone would count two or three people)
    assert _count(records, "last_name", "wyllie") == 1


def test_a_name_or_a_house_number_alone_ties_nobody() -> None:
    # GIVEN five Ann Lees born in five years in five streets and towns
    anns = [
        _record(f"ann{i}", first_name="Ann", last_name="Lee", date_of_birth=f"19{60 + i}-01-02",
                address_line1=f"{i + 1} Street{'abcde'[i]} Road", city=f"Town{'abcde'[i]}")
        for i in range(5)
    ]  # fmt: skip
    # AND five other Lees, each at a number 5 in another street and town
    fives = [
        _record(f"five{i}", first_name=f"Name{'abcde'[i]}", last_name="Lee",
                date_of_birth=f"19{80 + i}-01-02", address_line1=f"5 Street{'fghij'[i]} Road",
                city=f"Town{'fghij'[i]}")
        for i in range(5)
    ]  # fmt: skip
    # THEN each five are five holders, and the model keeps "lee" (held by TF_MIN_PEOPLE people)
    assert _count(anns, "last_name", "lee") == 5
    assert _count(fives, "last_name", "lee") == 5
    assert "lee" in _term_frequencies(anns, TF_MIN_PEOPLE)[0]["last_name"]


def test_the_value_itself_and_its_letters_tie_nobody() -> None:
    # GIVEN five people in one town, nothing else shared but the town (and so its letters)
    records = [
        _record(f"p{i}", first_name=f"Name{'abcde'[i]}", last_name=f"Family{'abcde'[i]}",
                date_of_birth=f"19{70 + i}-03-04", city="Concord West")
        for i in range(5)
    ]  # fmt: skip
    assert _count(records, "city", "concord west") == 5


def test_pairs_of_few_values_do_not_chain_a_common_value_away() -> None:
    # GIVEN 30 Smiths of 12 first names, 3 streets and 4 towns (a sample of few names and towns:
    # attack20's model test), born on 30 days, postcodes and house numbers all different
    firsts, streets, towns = (
        ["Ann", "Bob", "Cara", "Dev", "Eli", "Fay"] * 2,
        ["High St", "Mill Lane", "Park Rd"],
        "WXYZ",
    )
    records = [
        _record(f"s{i}", first_name=firsts[i % 12] + "ab"[i // 12 % 2], last_name="Smith",
                date_of_birth=f"19{50 + i}-0{1 + i % 9}-1{i % 10}", postal_code=f"{1000 + 37 * i}",
                address_line1=f"{i + 1} {streets[i % 3]}", city=f"Town {towns[i % 4]}")
        for i in range(30)
    ]  # fmt: skip
    # THEN only a street of a town ties them (3 streets in 4 towns: 12 holders); a first name with a
    # street or a town ties none, so the union does not chain them into one and "smith" is kept
    assert _count(records, "last_name", "smith") == 12
