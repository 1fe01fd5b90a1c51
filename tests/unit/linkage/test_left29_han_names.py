"""left29: Chinese given names are compared in simplified characters (core.linkage.conflicts).

The simplified and traditional spellings of one name (伟 / 偉, 国华 / 國華) were read as two first
names, so one person on one inbox was two (revR27's strict xfail, now passing). The guards below
keep what must still conflict: two different names, and a character OpenCC gives more than one
simplified form for (乾 stays 乾 in names, 干 is another character), which the table leaves out.
"""

from __future__ import annotations

import pytest

from core.linkage import conflict_evidence, linkage_record
from core.linkage.conflicts import _simplified


def _conflicting(one: str, other: str) -> bool:
    a = linkage_record("a", {"first_name": one, "last_name": "X"})
    b = linkage_record("b", {"first_name": other, "last_name": "X"})
    return any(c.field == "first_name" for c in conflict_evidence(a, b))


@pytest.mark.parametrize(
    ("one", "other"), [("志偉", "志伟"), ("麗華", "丽华"), ("曉東", "晓东"), ("建國", "建国")]
)
def test_one_given_name_in_both_scripts_is_no_conflict(one: str, other: str) -> None:
    # GIVEN a mainland tool's and a Taiwanese tool's spelling of one name WHEN weighed THEN one name
    assert not _conflicting(one, other)


@pytest.mark.parametrize(("one", "other"), [("偉", "芳"), ("麗華", "秀英"), ("乾", "干")])
def test_two_different_han_names_still_conflict(one: str, other: str) -> None:
    # GIVEN two sisters' names, or two names that differ in a character of several simplified forms
    # WHEN weighed THEN they conflict (as before: a household on one inbox stays two people)
    assert _conflicting(one, other)


def test_the_table_maps_single_characters_to_one_other_character() -> None:
    # GIVEN the vendored table WHEN read THEN each traditional character has one simplified form,
    # none maps to itself, and the ambiguous 乾 is not in it
    table = _simplified()
    assert len(table) == 2787
    assert all(len(simple) == 1 and chr(key) != simple for key, simple in table.items())
    assert ord("乾") not in table
    assert table[ord("偉")] == "伟"
