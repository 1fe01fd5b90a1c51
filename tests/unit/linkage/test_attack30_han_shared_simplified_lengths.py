"""attack30: two traditional characters of one simplified form are one character again when the two
first names differ in length.

revA29 (core/linkage/conflicts.py ``_script_names_differ``) made 發 ("to prosper") and 髮 ("hair"),
both 发 in simplified script, two characters: of names *of one length* a character matches the other's
only as its own simplified or traditional form. Names of two lengths still go through
``x.translate(table), y.translate(table)`` (line 110), both sides simplified, so 髮 and 發 are read as
发 again: ``髮`` against ``發華`` is no conflict, where ``強`` against ``發華`` is one; ``美髮``
against ``美發子`` likewise. A single-character given name beside a two-character one is common (a
sister 髮 and a sister 發華 on one family inbox), and a conflict is what keeps two people on one inbox
apart.

Fix idea: in the branch of two lengths, translate only a character whose counterpart is its own
simplified or traditional form (align the names as the one-length branch does, over their common
length), or compare both names as written and simplified and take the lower similarity.
"""

from __future__ import annotations

import pytest

from core.linkage import conflict_evidence, linkage_record


def _conflicting(one: str, other: str) -> bool:
    a = linkage_record("a", {"first_name": one, "last_name": "X"})
    b = linkage_record("b", {"first_name": other, "last_name": "X"})
    return any(c.field == "first_name" for c in conflict_evidence(a, b))


@pytest.mark.parametrize(("one", "other"), [("強", "發華"), ("美強", "美發子"), ("強", "颱風")])
def test_control_another_character_against_a_longer_name_conflicts(one: str, other: str) -> None:
    assert _conflicting(one, other)


@pytest.mark.parametrize(("one", "other"), [("發", "发華"), ("美發", "美发子"), ("國", "国華")])
def test_control_a_name_against_a_longer_one_in_its_simplified_spelling_is_no_conflict(
    one: str, other: str
) -> None:
    assert not _conflicting(one, other)


@pytest.mark.parametrize(("one", "other"), [("髮", "發華"), ("美髮", "美發子"), ("臺", "颱風")])
def test_two_traditional_characters_of_one_simplified_form_conflict_in_names_of_two_lengths(
    one: str, other: str
) -> None:
    # GIVEN two names in traditional characters, of two lengths, whose first characters differ but
    # share one simplified form
    # WHEN weighed THEN they conflict, as the same names with any other first character do
    assert _conflicting(one, other)
