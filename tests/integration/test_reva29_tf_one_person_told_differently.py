"""revA29: one person on five channels, her town or birth told differently in each, is five holders.

5808955/adb04d2 tie, counting a name, the records of one full name in one town (or street, or with
neither) that tell the same birth or none (core/linkage/term_holders.py ``_full_name_ties``). The
ties name the place and the birth exactly, so one person whose tools keep her old and new towns (she
moved), her office's town, or her birth date in one and nothing in another, is split again: five
records of her full name, each with a place or birth of its own, count as five people and her
names go into the model file deployed with every function (the promise: a value is kept only when
that many people surely hold it).

Fixed: the full-name tie names the birth only (two towns are not surely two people).
"""

from __future__ import annotations

from core.linkage.fields import linkage_record
from core.linkage.training import _term_frequencies
from tests.integration.test_attack23_tf_one_person_many_channels import CHANNELS, FIRST, SURNAME, _background

#: What each of her five tools keeps besides her full name and her channel.
TOLD: list[dict[str, str]] = [
    {"city": "Tromsø"},
    {"city": "Oslo"},  # she moved: the newer tools know her new town
    {},  # a newsletter form: a name and an address alone
    {"city": "Oslo", "date_of_birth": "1984-05-02"},  # the shop asked her birth date
    {"city": "Bergen"},  # her office's town, in the tool her employer's orders come from
]


def test_one_person_with_places_and_births_told_differently_does_not_put_her_name_in_the_model() -> None:
    background = _background()
    assert SURNAME not in {r.last_name for r in background}
    hers = [
        linkage_record(
            f"tool{n}:c{n}",
            {"first_name": "Ingrid", "last_name": "Halvorsen", **told},
            emails=emails,
            phones=phones,
        )
        for n, ((emails, phones), told) in enumerate(zip(CHANNELS, TOLD, strict=True))
    ]
    tables, _ = _term_frequencies([*background, *hers])
    assert (SURNAME in tables["last_name"], FIRST in tables["first_name"]) == (False, False)
