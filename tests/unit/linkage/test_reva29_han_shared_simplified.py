"""revA29: two traditional characters that share one simplified form stay two names.

left29 compares Han first names in simplified characters by translating both names (core/linkage/
conflicts.py ``_script_names_differ``). OpenCC's table maps several traditional characters to one
simplified one (發 "to prosper" and 髮 "hair" are both 发; 臺 and 颱 both 台): two people written in
traditional characters, 志發 and 志髮, both became 志发 and stopped conflicting, so a household on one
inbox could be merged into one person. A character now matches the other name's character at its
place when it is that character, or its simplified form, or its traditional form: never through a
third one.
"""

from __future__ import annotations

import pytest

from core.linkage import conflict_evidence, linkage_record


def _conflicting(one: str, other: str) -> bool:
    a = linkage_record("a", {"first_name": one, "last_name": "X"})
    b = linkage_record("b", {"first_name": other, "last_name": "X"})
    return any(c.field == "first_name" for c in conflict_evidence(a, b))


@pytest.mark.parametrize(("one", "other"), [("志發", "志髮"), ("臺生", "颱生")])
def test_two_traditional_names_of_one_simplified_form_still_conflict(one: str, other: str) -> None:
    # GIVEN two names written in traditional characters, different there, one name simplified
    # WHEN weighed THEN they conflict (two people, as they were before left29)
    assert _conflicting(one, other)


@pytest.mark.parametrize(("one", "other"), [("志發", "志发"), ("志髮", "志发"), ("國華", "国华")])
def test_each_against_its_simplified_spelling_is_no_conflict(one: str, other: str) -> None:
    # GIVEN one name in traditional and in simplified characters WHEN weighed THEN one name
    assert not _conflicting(one, other)
